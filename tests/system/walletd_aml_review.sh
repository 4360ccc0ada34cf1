#!/bin/bash
# AML review holds end to end (ADR 0009, docs/compliance.md): walletd over the real PostgreSQL and
# NATS of scripts/services.sh, screening through its HTTP provider against a fake provider that
# answers "review". A withdrawal under review is answered 202 pending_review with its review id
# (a repeat and the outcome lookup too) and holds its amount; clients cannot settle the review's
# hold; the reviewer's list and its errors; a rejection releases the hold, an approval captures it,
# each audited with its reason in the same transaction; a review is decided once (the same
# decision again is a replay); a review still pending when walletd restarts is decided after the
# restart; the metrics and log lines. A transfer under review is held the same way (202, its
# status pending_review); its approval debits the hold and the saga credits the destination; a
# rejected one stays home; reviews left undecided (a transfer and a withdrawal) expire and release
# their money; wallet-reconcile finds the database clean after each.
# Usage: walletd_aml_review.sh WALLETD SOURCE_DIR RECONCILE   (needs WALLET_PG_URL, WALLET_NATS_URL)
set -u
walletd=$1
source_dir=$2
reconcile=$3
# shellcheck source=tests/support/walletd.sh
source "$(dirname "$0")/../support/walletd.sh"
walletd_test review nats
kill_on_exit+=(ppid_fake)
fail_log_lines=40
asked() { [ -f "$work/asked.log" ] && wc -l <"$work/asked.log" || echo 0; }
# json EXPRESSION: a value of the last answer's JSON, by a Python expression over `d`.
json() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$work/body" "$1"; }

put "$work/mode" review
python3 "$source_dir/tests/system/fake_aml_provider.py" "$work/mode" "$work/asked.log" >"$work/fake.port" &
# shellcheck disable=SC2034 # killed on exit (kill_on_exit)
ppid_fake=$!
for _ in $(seq 1 100); do [ -s "$work/fake.port" ] && break; sleep 0.05; done
pport=$(cat "$work/fake.port")
[ -n "$pport" ] || fail "the fake provider did not start"

create_database
hport=$(free_port)
mport=$(free_port)
put "$work/flags.json" '{"aml_screening": true}'
settings=(--postgres.url="$url" --nats.url="$WALLET_NATS_URL" --runtime.shards=4
  --nats.subject_prefix="rev$$" --nats.command_stream="REV$$_CMD"
  --nats.event_stream="REV$$_EVT" --nats.dead_letter_stream="REV$$_DLQ"
  --metrics.port="$mport" --http.port="$hport" --auth.mode=off
  --rate_limit.address_burst=100000 --rate_limit.address_per_second=100000
  --compliance.flags_file="$work/flags.json" --compliance.reload_poll_ms=100
  --aml.provider=http --aml.http_url="http://127.0.0.1:$pport/screen"
  --aml.thresholds="EUR:10000" --aml.http_timeout_ms=1000 --aml.review_hold_s=3600)

start() {
  walletd_start "${settings[@]}"
  wait_for 30 "walletd is not ready" ready "$hport"
}
stop() { walletd_stop; }
# call METHOD PATH KEY JSON STATUS [TEXT...]: expects the HTTP status and each TEXT in the answer
# (kept in $work/body, its headers in $work/headers).
call() {
  local method=$1 path=$2 key=$3 json=$4 want=$5 status
  shift 5
  local args=(-s -o "$work/body" -D "$work/headers" -w '%{http_code}' -X "$method")
  [ -n "$key" ] && args+=(-H "Idempotency-Key: $key")
  [ -n "$json" ] && args+=(-H 'Content-Type: application/json' --data "$json")
  status=$(curl "${args[@]}" "http://127.0.0.1:$hport$path")
  echo "$method $path [$key] $json -> $status $(cat "$work/body")"
  [ "$status" = "$want" ] || fail "HTTP status $status, expected $want"
  for text in "$@"; do
    grep -qF -- "$text" "$work/body" || fail "no '$text' in the answer"
  done
}
metric() {
  curl -sf "http://127.0.0.1:$mport/metrics" | grep -xF "$1" >/dev/null || fail "no '$1' at /metrics"
}
balances() { q "SELECT balance || '/' || held FROM wallets WHERE id = '$a'"; }
reconciled() {
  "$reconcile" --postgres.url="$url" >"$work/reconcile.log" 2>&1 ||
    { cat "$work/reconcile.log"; fail "wallet-reconcile found the database not clean"; }
}

start
a="rev-a-$$"
call POST /v1/wallets open-a "{\"wallet_id\":\"$a\",\"owner\":\"o\",\"currency\":\"EUR\"}" 201
call POST "/v1/wallets/$a/deposits" dep-1 '{"amount":"1000.00","currency":"EUR"}' 200

# 1. Review: the withdrawal is held, answered 202 pending_review with its review id.
call POST "/v1/wallets/$a/withdrawals" r-1 '{"amount":"300.00","currency":"EUR"}' 202 \
  '"status":"pending_review"' '"type":"hold_placed"' '"held":"300.00"'
r1=$(json 'd["review_id"]')
grep -qi "^location: /v1/admin/aml/reviews/$r1" "$work/headers" || fail "no Location for the review"
[ "$(balances)" = "100000/30000" ] || fail "balance/held $(balances), expected 100000/30000"
[ "$(asked)" -eq 1 ] || fail "the provider was asked $(asked) times, expected 1"
# A repeat and the outcome lookup answer the same review, without asking the provider again.
call POST "/v1/wallets/$a/withdrawals" r-1 '{"amount":"300.00","currency":"EUR"}' 202 \
  '"status":"pending_review"' "\"review_id\":\"$r1\"" '"replayed":true'
[ "$(asked)" -eq 1 ] || fail "a repeat asked the provider"
call GET "/v1/wallets/$a/outcomes/r-1" "" "" 200 '"status":"pending_review"' "\"review_id\":\"$r1\""
# The review is stored with the hold, in the same transaction.
[ "$(q "SELECT status || ' ' || amount || ' ' || reasons || ' ' || idempotency_key FROM aml_reviews WHERE review_id = '$r1'")" = "pending 30000 amount r-1" ] ||
  fail "review row: $(q "SELECT * FROM aml_reviews")"
[ "$(q "SELECT count(*) FROM wallet_holds WHERE wallet_id = '$a' AND hold_id = 'aml:$r1'")" = 1 ] ||
  fail "no review hold row"

# 2. Clients cannot settle a review's hold themselves.
call POST "/v1/wallets/$a/holds/aml:$r1/capture" cap-1 '{}' 422 '"code":"id_invalid"'
call POST "/v1/wallets/$a/holds/aml:$r1/release" rel-1 '{}' 422 '"code":"id_invalid"'
[ "$(balances)" = "100000/30000" ] || fail "a client settled the review hold: $(balances)"

# 3. The reviewer's list, one review, and precise errors.
call GET "/v1/admin/aml/reviews?status=pending" "" "" 200 "\"review_id\":\"$r1\"" '"reasons":["amount"]' '"amount":"300.00"'
call GET "/v1/admin/aml/reviews?status=open" "" "" 400 '"field":"status","problem":"unknown_status"'
call GET "/v1/admin/aml/reviews/$r1" "" "" 200 '"status":"pending"'
call GET /v1/admin/aml/reviews/0000000000000000 "" "" 404 '"code":"review_not_found"'
call POST "/v1/admin/aml/reviews/$r1/decision" "" '{"decision":"reject"}' 400 '"field":"reason","problem":"missing"'
call POST "/v1/admin/aml/reviews/$r1/decision" "" '{"decision":"hold","reason":"x"}' 400 '"problem":"unknown_decision"'
[ "$(balances)" = "100000/30000" ] || fail "a refused decision moved money"

# 4. Reject: the hold is released, the review closed and audited in the same transaction.
call POST "/v1/admin/aml/reviews/$r1/decision" "" '{"decision":"reject","reason":"false positive, case 7"}' 200 \
  '"status":"rejected"' '"type":"hold_released"'
[ "$(balances)" = "100000/0" ] || fail "after the rejection: $(balances)"
[ "$(q "SELECT status || '|' || decision_reason FROM aml_reviews WHERE review_id = '$r1'")" = "rejected|false positive, case 7" ] ||
  fail "review row after the rejection: $(q "SELECT * FROM aml_reviews WHERE review_id = '$r1'")"
[ "$(q "SELECT count(*) FROM audit_log WHERE action = 'aml_review_rejected' AND target = '$a' AND reason = 'false positive, case 7' AND details->>'review_id' = '$r1' AND details->>'outcome' = 'applied'")" = 1 ] ||
  fail "no audit record of the rejection: $(q "SELECT action, details FROM audit_log")"
# Decided once: the other decision is refused, nothing moves.
call POST "/v1/admin/aml/reviews/$r1/decision" "" '{"decision":"approve","reason":"second thoughts"}' 409 '"code":"review_decided"'
[ "$(balances)" = "100000/0" ] || fail "a second decision moved money"

# 5. A second review, pending across a restart of walletd, then approved: the money leaves.
call POST "/v1/wallets/$a/withdrawals" r-2 '{"amount":"200.00","currency":"EUR"}' 202 '"status":"pending_review"'
r2=$(json 'd["review_id"]')
[ "$r2" != "$r1" ] || fail "two withdrawals share a review id"
metric 'wallet_aml_reviews_total{event="opened"} 2'
metric 'wallet_aml_reviews_total{event="rejected"} 1'
metric 'wallet_aml_screenings_total{outcome="review",provider="http"} 2'
grep -q '"msg":"AML review".*"event":"opened"' "$work/walletd.log" || fail "no log line for an opened review"
stop
start
call GET "/v1/admin/aml/reviews/$r2" "" "" 200 '"status":"pending"'
call POST "/v1/admin/aml/reviews/$r2/decision" "" '{"decision":"approve","reason":"source of funds checked"}' 200 \
  '"status":"approved"' '"type":"hold_captured"'
[ "$(balances)" = "80000/0" ] || fail "after the approval: $(balances)"
call GET "/v1/admin/aml/reviews/$r2" "" "" 200 '"status":"approved"' '"decided_by":' '"decision_reason":"source of funds checked"'
[ "$(q "SELECT count(*) FROM audit_log WHERE action = 'aml_review_approved' AND details->>'review_id' = '$r2'")" = 1 ] ||
  fail "no audit record of the approval"
# The same decision again is a replay (nothing moves, nothing more is audited); the other one 409.
call POST "/v1/admin/aml/reviews/$r2/decision" "" '{"decision":"approve","reason":"source of funds checked"}' 200 '"replayed":true'
call POST "/v1/admin/aml/reviews/$r2/decision" "" '{"decision":"reject","reason":"too late"}' 409 '"review_status":"approved"'
[ "$(balances)" = "80000/0" ] || fail "a repeated decision moved money: $(balances)"
[ "$(q "SELECT count(*) FROM audit_log WHERE details->>'review_id' = '$r2'")" = 1 ] ||
  fail "a replayed decision was audited again"
metric 'wallet_aml_reviews_total{event="approved"} 1'
# The original withdrawal's outcome still names its review; the wallet's events tell the rest.
call GET "/v1/wallets/$a/outcomes/r-2" "" "" 200 '"status":"pending_review"' "\"review_id\":\"$r2\""
call GET "/v1/admin/aml/reviews?wallet_id=$a&limit=1" "" "" 200 '"next_after":'
reconciled

# 6. A transfer under review: its amount is held on the source, answered 202 pending_review, its
# status pending_review; approved, the hold is debited (one event) and the saga credits the
# destination; audited with the transfer.
b="rev-b-$$"
call POST /v1/wallets open-b "{\"wallet_id\":\"$b\",\"owner\":\"o\",\"currency\":\"EUR\"}" 201
transfer() { echo "{\"transfer_id\":\"$1\",\"destination\":\"$b\",\"amount\":\"$2\",\"currency\":\"EUR\"}"; }
n=$(asked)
call POST "/v1/wallets/$a/transfers" tr-1 "$(transfer t-1 150.00)" 202 \
  '"status":"pending_review"' '"type":"hold_placed"' '"held":"150.00"'
t1=$(json 'd["review_id"]')
grep -qi "^location: /v1/admin/aml/reviews/$t1" "$work/headers" || fail "no Location for the transfer's review"
[ "$(balances)" = "80000/15000" ] || fail "balance/held $(balances), expected 80000/15000"
[ "$(asked)" -eq $((n + 1)) ] || fail "the transfer was not screened once"
tail -n 1 "$work/asked.log" | grep -q "\"command\":\"transfer_debit\".*\"destination\":\"$b\"" ||
  fail "the provider's request: $(tail -n 1 "$work/asked.log")"
call POST "/v1/wallets/$a/transfers" tr-1 "$(transfer t-1 150.00)" 202 "\"review_id\":\"$t1\"" '"replayed":true'
[ "$(asked)" -eq $((n + 1)) ] || fail "a repeat asked the provider"
call GET "/v1/wallets/$a/outcomes/tr-1" "" "" 200 '"status":"pending_review"' "\"review_id\":\"$t1\""
call GET "/v1/wallets/$a/transfers/t-1" "" "" 200 '"status":"pending_review"' "\"review_id\":\"$t1\"" \
  "\"destination\":\"$b\"" '"amount":"150.00"'
[ "$(q "SELECT count(*) FROM transfers WHERE source = '$a'")" = 0 ] || fail "a saga started before the approval"
[ "$(q "SELECT command || ' ' || transfer_id || ' ' || destination || ' ' || amount FROM aml_reviews WHERE review_id = '$t1'")" = "transfer_debit t-1 $b 15000" ] ||
  fail "transfer review row: $(q "SELECT * FROM aml_reviews WHERE review_id = '$t1'")"
call GET "/v1/admin/aml/reviews/$t1" "" "" 200 '"command":"transfer_debit"' '"transfer_id":"t-1"' "\"destination\":\"$b\""
call POST "/v1/wallets/$a/holds/aml:$t1/release" rel-t1 '{}' 422 '"code":"id_invalid"'
call POST "/v1/admin/aml/reviews/$t1/decision" "" '{"decision":"approve","reason":"beneficiary checked"}' 200 \
  '"status":"approved"' '"type":"transfer_debited"' "\"hold_id\":\"aml:$t1\"" '"transfer_id":"t-1"'
[ "$(balances)" = "65000/0" ] || fail "after the transfer's approval: $(balances)"
# One event took the hold and debited: the hold's placement is followed by the debit, no capture.
[ "$(q "SELECT string_agg(type, ',' ORDER BY seq) FROM wallet_events WHERE wallet_id = '$a' AND (data->>'hold_id' = 'aml:$t1')")" = "hold_placed,transfer_debited" ] ||
  fail "the review hold's events: $(q "SELECT seq, type, data FROM wallet_events WHERE wallet_id = '$a' ORDER BY seq")"
for _ in $(seq 1 100); do
  [ "$(q "SELECT balance FROM wallets WHERE id = '$b'")" = 15000 ] && break
  sleep 0.1
done
[ "$(q "SELECT balance FROM wallets WHERE id = '$b'")" = 15000 ] || fail "the destination was not credited"
call GET "/v1/wallets/$a/transfers/t-1" "" "" 200 '"status":"completed"'
[ "$(q "SELECT count(*) FROM audit_log WHERE action = 'aml_review_approved' AND details->>'review_id' = '$t1' AND details->>'transfer_id' = 't-1' AND reason = 'beneficiary checked'")" = 1 ] ||
  fail "no audit record of the transfer's approval: $(q "SELECT action, details FROM audit_log")"
call GET "/v1/admin/aml/reviews/$t1" "" "" 200 '"status":"approved"'
call POST "/v1/admin/aml/reviews/$t1/decision" "" '{"decision":"approve","reason":"beneficiary checked"}' 200 '"replayed":true'
call POST "/v1/admin/aml/reviews/$t1/decision" "" '{"decision":"reject","reason":"no"}' 409 '"code":"review_decided"'
[ "$(balances)" = "65000/0" ] || fail "a repeated decision moved money: $(balances)"

# 7. Another transfer rejected: the hold is released, nothing leaves, no saga.
call POST "/v1/wallets/$a/transfers" tr-2 "$(transfer t-2 100.00)" 202 '"status":"pending_review"'
t2=$(json 'd["review_id"]')
[ "$(balances)" = "65000/10000" ] || fail "second transfer held: $(balances)"
call POST "/v1/admin/aml/reviews/$t2/decision" "" '{"decision":"reject","reason":"unknown beneficiary"}' 200 \
  '"status":"rejected"' '"type":"hold_released"'
[ "$(balances)" = "65000/0" ] || fail "after the transfer's rejection: $(balances)"
call GET "/v1/wallets/$a/transfers/t-2" "" "" 200 '"status":"review_rejected"' "\"review_id\":\"$t2\""
call POST "/v1/admin/aml/reviews/$t2/decision" "" '{"decision":"approve","reason":"changed my mind"}' 409 '"code":"review_decided"'
[ "$(q "SELECT count(*) FROM transfers WHERE source = '$a' AND id = 't-2'")" = 0 ] || fail "a rejected transfer has a saga"
[ "$(q "SELECT balance FROM wallets WHERE id = '$b'")" = 15000 ] || fail "a rejected transfer reached the destination"
metric 'wallet_aml_reviews_total{event="approved"} 2'
metric 'wallet_aml_reviews_total{event="rejected"} 1'
reconciled
stop

# 8. Reviews nobody decides expire (aml.review_hold_s): a transfer's and a withdrawal's money is
# available again, the rows say expired, a late decision is 409, the transfer review_expired.
# (Each answer shows its own hold: on a busy machine the first may expire before the second.)
settings=("${settings[@]/--aml.review_hold_s=3600/--aml.review_hold_s=2}")
start
call POST "/v1/wallets/$a/transfers" tr-3 "$(transfer t-3 120.00)" 202 '"status":"pending_review"' \
  '"balance":"650.00","held":"120.00"'
t3=$(json 'd["review_id"]')
call POST "/v1/wallets/$a/withdrawals" r-3 '{"amount":"110.00","currency":"EUR"}' 202 '"status":"pending_review"' \
  '"type":"hold_placed"' '"amount":"110.00"'
r3=$(json 'd["review_id"]')
expired() { q "SELECT count(*) FROM aml_reviews WHERE review_id IN ('$t3', '$r3') AND status = 'expired'"; }
for _ in $(seq 1 200); do
  [ "$(expired)" = 2 ] && break
  sleep 0.1
done
[ "$(expired)" = 2 ] || fail "the reviews did not expire: $(q "SELECT review_id, status FROM aml_reviews")"
[ "$(balances)" = "65000/0" ] || fail "after the expiry: $(balances)"
[ "$(q "SELECT count(*) FROM wallet_events WHERE wallet_id = '$a' AND type = 'hold_expired' AND data->>'hold_id' IN ('aml:$t3', 'aml:$r3')")" = 2 ] ||
  fail "no hold_expired events"
call GET "/v1/wallets/$a/transfers/t-3" "" "" 200 '"status":"review_expired"'
call GET "/v1/admin/aml/reviews/$r3" "" "" 200 '"status":"expired"'
call POST "/v1/admin/aml/reviews/$t3/decision" "" '{"decision":"approve","reason":"late"}' 409 '"review_status":"expired"'
metric 'wallet_aml_reviews_total{event="expired"} 2'
[ "$(q "SELECT balance FROM wallets WHERE id = '$b'")" = 15000 ] || fail "an expired transfer reached the destination"
reconciled
stop

# 9. The velocity window survives a restart (ADR 0007): three small withdrawals, a restart, and
# the fourth is screened by the count rule (three moves already in the window).
settings+=(--aml.velocity_count_max=3)
put "$work/mode" deny
start
v="rev-v-$$"
call POST /v1/wallets open-v "{\"wallet_id\":\"$v\",\"owner\":\"o\",\"currency\":\"EUR\"}" 201
call POST "/v1/wallets/$v/deposits" dep-v '{"amount":"10.00","currency":"EUR"}' 200
n=$(asked)
for i in 1 2 3; do
  call POST "/v1/wallets/$v/withdrawals" "v-$i" '{"amount":"1.00","currency":"EUR"}' 200 '"type":"withdrawn"'
done
[ "$(asked)" -eq "$n" ] || fail "a move below every rule was screened"
stop
start
call POST "/v1/wallets/$v/withdrawals" v-4 '{"amount":"1.00","currency":"EUR"}' 422 '"code":"aml_denied"'
tail -n 1 "$work/asked.log" | grep -q '"reasons":\["velocity_count"\],"velocity_count":3' ||
  fail "the provider's request after the restart: $(tail -n 1 "$work/asked.log")"
stop
echo PASS
