#!/bin/bash
# AML screening end to end (ADR 0007, docs/compliance.md): walletd over the real PostgreSQL and
# NATS of scripts/services.sh, screening through its HTTP provider against a fake provider this
# test starts (fake_aml_provider.py). Allow, deny (aml_denied, remembered), the provider failing
# (5xx: aml_unavailable, retried, circuit opened, fast refusals), recovering (the circuit closes
# again and the same key passes), timing out, fail_open, the flag switching it off at run time,
# and the metrics and log lines of each.
# Usage: walletd_aml.sh WALLETD SOURCE_DIR   (needs WALLET_PG_URL, WALLET_NATS_URL)
set -u
walletd=$1
source_dir=$2
# shellcheck source=tests/support/walletd.sh
source "$(dirname "$0")/../support/walletd.sh"
walletd_test aml nats
kill_on_exit+=(ppid_fake)
mode() { put "$work/mode" "$1"; }
asked() { [ -f "$work/asked.log" ] && wc -l <"$work/asked.log" || echo 0; }

# The fake provider, on a port of its own.
mode allow
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
  --nats.subject_prefix="aml$$" --nats.command_stream="AML$$_CMD"
  --nats.event_stream="AML$$_EVT" --nats.dead_letter_stream="AML$$_DLQ"
  --metrics.port="$mport" --http.port="$hport" --auth.mode=off
  --rate_limit.address_burst=100000 --rate_limit.address_per_second=100000
  --compliance.flags_file="$work/flags.json" --compliance.reload_poll_ms=100
  --aml.provider=http --aml.http_url="http://127.0.0.1:$pport/screen"
  --aml.thresholds="EUR:10000" --aml.http_timeout_ms=300 --aml.http_retries=1
  --aml.http_backoff_initial_ms=10 --aml.http_backoff_max_ms=20
  --aml.circuit_failures=2 --aml.circuit_cool_down_ms=1000 --aml.deadline_ms=3000)

start() {
  walletd_start "${settings[@]}" "$@"
  wait_for 30 "walletd is not ready" ready "$hport"
}
# post PATH KEY JSON STATUS [TEXT...]: expects the HTTP status and each TEXT in the answer.
post() {
  local path=$1 key=$2 json=$3 want=$4 out status
  shift 4
  out=$(curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "Idempotency-Key: $key" --data "$json" "http://127.0.0.1:$hport$path")
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  echo "POST $path [$key] $json -> $status $out"
  [ "$status" = "$want" ] || fail "HTTP status $status, expected $want"
  for text in "$@"; do
    case "$out" in *"$text"*) ;; *) fail "no '$text' in the answer" ;; esac
  done
}
withdraw() { post "/v1/wallets/$a/withdrawals" "$1" "{\"amount\":\"$2\",\"currency\":\"EUR\"}" "${@:3}"; }
# curl, not metrics (python): the open circuit's check must come within its 1 s cool-down.
metric() {
  curl -sf "http://127.0.0.1:$mport/metrics" | grep -xF "$1" >/dev/null || fail "no '$1' at /metrics"
}

start
a="aml-a-$$"
b="aml-b-$$"
post /v1/wallets open-a "{\"wallet_id\":\"$a\",\"owner\":\"o\",\"currency\":\"EUR\"}" 201
post /v1/wallets open-b "{\"wallet_id\":\"$b\",\"owner\":\"o\",\"currency\":\"EUR\"}" 201
post "/v1/wallets/$a/deposits" dep-1 '{"amount":"1000.00","currency":"EUR"}' 200

# 1. Allow: a withdrawal at the threshold (100.00 EUR) is screened and goes through; below it,
# nobody is asked; a transfer above it is screened with its destination.
withdraw w-small 99.99 200
[ "$(asked)" -eq 0 ] || fail "a move below the threshold was screened"
withdraw w-allow 100.00 200 '"withdrawn"'
[ "$(asked)" -eq 1 ] || fail "the provider was asked $(asked) times, expected 1"
grep -q "\"wallet_id\":\"$a\".*\"command\":\"withdraw\".*\"amount_minor\":\"10000\",\"currency\":\"EUR\",\"reasons\":\[\"amount\"\]" \
  "$work/asked.log" || fail "the provider's request: $(cat "$work/asked.log")"
post "/v1/wallets/$a/transfers" t-allow "{\"transfer_id\":\"t-1\",\"destination\":\"$b\",\"amount\":\"150.00\",\"currency\":\"EUR\"}" 202
tail -n 1 "$work/asked.log" | grep -q "\"destination\":\"$b\"" || fail "no destination in the request"

# 2. Deny: refused aml_denied, nothing moved, and the repeat is answered from the key.
mode deny
withdraw w-deny 200.00 422 '"code":"aml_denied"' '"version":5'
n=$(asked)
withdraw w-deny 200.00 422 '"code":"aml_denied"' '"replayed":true'
[ "$(asked)" -eq "$n" ] || fail "a repeat of a denied key asked the provider again"

# 3. Failing (HTTP 500): retried once, then refused aml_unavailable (fail_closed, 503, a retry
# with the same key allowed); two failed attempts open the circuit.
mode fail
n=$(asked)
withdraw w-down 100.00 503 '"code":"aml_unavailable"'
[ "$(asked)" -eq $((n + 2)) ] || fail "expected 2 attempts (1 retry), got $(($(asked) - n))"
metric 'wallet_aml_circuit_state 2'
# The circuit is open: refused at once, without an attempt.
withdraw w-down 100.00 503 '"code":"aml_unavailable"'
[ "$(asked)" -eq $((n + 2)) ] || fail "an open circuit still asked the provider"
grep -q '"msg":"AML provider attempt failed".*"kind":"circuit_open"' "$work/walletd.log" ||
  fail "no log line for the fast failure"

# 4. Recovering: after the cool-down the probe succeeds, the circuit closes, and the same key
# that was refused goes through.
mode allow
sleep 1.2
withdraw w-down 100.00 200 '"withdrawn"'
metric 'wallet_aml_circuit_state 0'

# 5. Timing out: the provider takes 1.5 s, an attempt may take 300 ms.
mode slow
withdraw w-slow 100.00 503 '"code":"aml_unavailable"'
grep -q '"msg":"AML provider attempt failed".*"kind":"timeout"' "$work/walletd.log" ||
  fail "no log line for the timeout"
grep -q '"msg":"AML screening without a verdict".*"outcome":"fail_closed"' "$work/walletd.log" ||
  fail "no log line for the refusal"

# 6. The flag off at run time: nothing is screened.
mode deny
put "$work/flags.json" '{"aml_screening": false}'
wait_for 5 "the flags file was not reloaded" logged '"msg":"feature flags loaded"' 2
n=$(asked)
withdraw w-off 100.00 200
[ "$(asked)" -eq "$n" ] || fail "screened with the flag off"

metric 'wallet_aml_screenings_total{outcome="allow",provider="http"} 3'
metric 'wallet_aml_screenings_total{outcome="deny",provider="http"} 1'
metric 'wallet_aml_screenings_total{outcome="fail_closed",provider="http"} 3'
metric 'wallet_aml_provider_failures_total{kind="status",provider="http"} 2'
metric 'wallet_aml_provider_failures_total{kind="timeout",provider="http"} 2'
metric 'wallet_rejections_total{code="aml_denied"} 2'
walletd_stop

# 7. fail_open: the provider failing lets the move through, counted and logged.
put "$work/flags.json" '{"aml_screening": true}'
mode fail
start --aml.on_provider_down=fail_open
withdraw w-open 100.00 200 '"withdrawn"'
metric 'wallet_aml_screenings_total{outcome="fail_open",provider="http"} 1'
grep -q '"msg":"AML screening without a verdict".*"outcome":"fail_open"' "$work/walletd.log" ||
  fail "no log line for the fail_open"
walletd_stop

# The money: 1000.00 - 99.99 - 100.00 - 150.00 - 100.00 - 100.00 - 100.00 = 350.01 on a.
balance=$(q "SELECT balance FROM wallets WHERE id = '$a'")
[ "$balance" = "35001" ] || fail "wallet a holds $balance minor units, expected 35001"
echo PASS
