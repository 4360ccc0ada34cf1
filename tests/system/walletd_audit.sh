#!/bin/bash
# The audit trail and personal data end to end (docs/compliance.md): walletd with JWT auth (keys
# and tokens from wallet-token) and compliance files, over the PostgreSQL and nats-server of
# scripts/services.sh, driven by curl. Checks: a record per administrative action with principal,
# reason, trace id and outcome; a missing reason is 400, a non-admin 403; the database refuses to
# change records; the auditor's filters, pages and wallet timeline; a flags reload recorded with
# both digests; an erasure after which neither any table (pg_dump) nor walletd's log holds the
# erased name or e-mail.
# Usage: walletd_audit.sh WALLETD WALLET_TOKEN   (needs WALLET_PG_URL and WALLET_NATS_URL)
set -u
walletd=$1
token_tool=$2
# shellcheck source=tests/support/walletd.sh
source "$(dirname "$0")/../support/walletd.sh"
walletd_test audit nats
command -v curl >/dev/null || { echo "curl is missing: bash scripts/install-deps.sh"; exit 1; }
command -v pg_dump >/dev/null || { echo "pg_dump is missing: bash scripts/install-deps.sh"; exit 1; }
# The cluster's superuser on the same server (scripts/services.sh trusts local connections), for
# the ownership move an operator makes (docs/compliance.md).
super_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(netloc="postgres@" + p.netloc.split("@")[-1], path="/" + sys.argv[2])))' "$WALLET_PG_URL" "$db")
# The roles of that move belong to the cluster: they go after the database that uses them, dropped
# from the server's own database (the test's is gone by then).
drop_roles() {
  for role in "audit_owner_$$" "walletd_app_$$"; do
    psql -q "${super_url%/*}/${WALLET_PG_URL##*/}" -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
  done
}
trap 'cleanup; drop_roles' EXIT
fail_log_lines=30
# json FILE EXPRESSION: a value of the JSON in FILE, by a Python expression over `d`.
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
hport=$(free_port)
iss="https://issuer.test"
aud="wallet-engine"

"$token_tool" keygen ec "$work/key.pem" || fail "keygen"
"$token_tool" jwks "$work/key.pem" k1 >"$work/jwks.json" || fail "jwks"
sign() { "$token_tool" sign "$work/key.pem" --kid=k1 --iss="$iss" --aud="$aud" --sub="$1" --roles="$2"; }
ops=$(sign ops-admin admin)
alice=$(sign alice read,write)
billing=$(sign billing read,write,service)

printf '{"accept_new_wallets": true, "accept_transfers": true}\n' >"$work/flags.json"
create_database
walletd_start --postgres.url="$url" --nats.url="$WALLET_NATS_URL" --runtime.shards=2 \
  --nats.subject_prefix="au$$" --nats.command_stream="AU$$_CMD" \
  --nats.event_stream="AU$$_EVT" --nats.dead_letter_stream="AU$$_DLQ" \
  --metrics.port="$(free_port)" --http.port="$hport" --http.page_limit_max=50 \
  --auth.mode=jwt --auth.issuer="$iss" --auth.audience="$aud" --auth.jwks_file="$work/jwks.json" \
  --compliance.flags_file="$work/flags.json" --compliance.reload_poll_ms=100
wait_for 30 "walletd is not serving NATS" logged '"msg":"NATS interface serving"'
grep -q '"msg":"HTTP API serving"' "$work/walletd.log" || fail "walletd does not serve HTTP"

base="http://127.0.0.1:$hport"
trace="4bf92f3577b34da6a3ce929d0e0e4736"
# call EXPECTED_STATUS EXPECTED_TEXT METHOD PATH [TOKEN [BODY [KEY]]]: the body lands in $work/body.
call() {
  local want=$1 text=$2 method=$3 path=$4 token=${5:-} body=${6:-} key=${7:-}
  local args=(-s -o "$work/body" -w '%{http_code}' -X "$method"
    -H "traceparent: 00-$trace-00f067aa0ba902b7-01")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
  [ -n "$key" ] && args+=(-H "Idempotency-Key: $key")
  local got
  got=$(curl "${args[@]}" "$base$path")
  [ "$got" = "$want" ] || fail "$method $path: status $got, expected $want: $(cat "$work/body")"
  grep -q -- "$text" "$work/body" || fail "$method $path: no '$text' in $(cat "$work/body")"
  echo "ok  $want $method $path ($text)"
}

# ---- administrative commands: a reason is required, only admins act, each one is recorded ----
call 201 '"status":"accepted"' POST /v1/wallets "$ops" '{"wallet_id":"w-a","owner":"owner-z","currency":"EUR"}' o1
call 400 '"field":"reason","problem":"missing"' POST /v1/wallets/w-a/freeze "$ops" '{}' f0
call 400 '"field":"reason","problem":"invalid_length"' POST /v1/wallets/w-a/freeze "$ops" '{"reason":""}' f0
call 400 '"field":"reason","problem":"missing"' POST /v1/wallets/w-a/close "$ops" '{}' c0
call 400 '"field":"reason","problem":"missing"' POST /v1/wallets/w-a/kyc "$ops" '{"level":"basic"}' k0
call 403 '"code":"forbidden"' POST /v1/wallets/w-a/freeze "$alice" '{"reason":"x"}' f1
call 403 '"code":"forbidden"' POST /v1/wallets/w-a/kyc "$alice" '{"level":"full","reason":"x"}' k1
call 200 '"type":"wallet_frozen"' POST /v1/wallets/w-a/freeze "$ops" '{"reason":"fraud review 17"}' f2
call 200 '"type":"wallet_unfrozen"' POST /v1/wallets/w-a/unfreeze "$ops" '{"reason":"review cleared"}' u1
call 200 '"type":"kyc_level_set"' POST /v1/wallets/w-a/kyc "$billing" '{"level":"basic","reason":"passport checked"}' k2
call 200 '"type":"wallet_closed"' POST /v1/wallets/w-a/close "$ops" '{"reason":"owner asked to close"}' c1
call 422 '"code":"wallet_closed"' POST /v1/wallets/w-a/freeze "$ops" '{"reason":"too late"}' f3
call 200 '"type":"wallet_closed"' POST /v1/wallets/w-a/close "$ops" '{"reason":"owner asked to close"}' c1
[ "$(q "SELECT count(*) FROM audit_log WHERE action = 'close_wallet'")" = 1 ] ||
  fail "a repeated key was recorded again"

rows=$(q "SELECT principal || '|' || action || '|' || reason || '|' || coalesce(trace_id, '-') || '|' ||
          (details->>'outcome') || '|' || coalesce(details->>'rejection', details->>'level', '')
          FROM audit_log WHERE target = 'w-a' ORDER BY id")
expected="ops-admin|freeze|fraud review 17|$trace|applied|
ops-admin|unfreeze|review cleared|$trace|applied|
billing|set_kyc_level|passport checked|$trace|applied|basic
ops-admin|close_wallet|owner asked to close|$trace|applied|
ops-admin|freeze|too late|$trace|rejected|wallet_closed"
[ "$rows" = "$expected" ] || fail "audit rows of w-a:
$rows
expected:
$expected"
echo "ok  one record per decided administrative command, refusals included, none for 400/403"
# Each applied record names the seq of the event it committed with.
mismatch=$(q "SELECT count(*) FROM audit_log a WHERE a.target = 'w-a' AND details->>'outcome' = 'applied'
              AND NOT EXISTS (SELECT 1 FROM wallet_events e WHERE e.wallet_id = 'w-a'
                              AND e.seq = (a.details->>'seq')::bigint
                              AND e.idempotency_key = a.details->>'idempotency_key')")
[ "$mismatch" = 0 ] || fail "$mismatch records name no event of theirs"

# ---- the database itself refuses to change the trail (as walletd's own role) ----
for statement in "UPDATE audit_log SET reason = 'edited'" "DELETE FROM audit_log" "TRUNCATE audit_log"; do
  out=$(psql -qtA "$url" -c "$statement" 2>&1) && fail "'$statement' succeeded"
  echo "$out" | grep -q "audit_log is append-only" || fail "'$statement': $out"
done
[ "$(q "SELECT count(*) FROM audit_log WHERE target = 'w-a'")" = 5 ] || fail "records were lost"
echo "ok  UPDATE, DELETE and TRUNCATE refused by the database"

# ---- the auditor's API: admin only, filters, pages ----
call 403 '"code":"forbidden"' GET "/v1/admin/audit" "$alice"
call 403 '"code":"forbidden"' GET "/v1/admin/audit" "$billing"
call 401 '"code":"unauthenticated"' GET "/v1/admin/audit"
call 400 '"field":"limit","problem":"out_of_range"' GET "/v1/admin/audit?limit=51" "$ops"
call 400 '"field":"from"' GET "/v1/admin/audit?from=yesterday" "$ops"
call 400 '"field":"colour","problem":"unknown_parameter"' GET "/v1/admin/audit?colour=red" "$ops"
call 200 '"next_after"' GET "/v1/admin/audit?principal=ops-admin&limit=2" "$ops"
[ "$(json "$work/body" "len(d['entries'])")" = 2 ] || fail "page 1: $(cat "$work/body")"
first=$(json "$work/body" "[e['action'] for e in d['entries']]")
next=$(json "$work/body" "d['next_after']")
call 200 '"entries"' GET "/v1/admin/audit?principal=ops-admin&limit=2&after=$next" "$ops"
second=$(json "$work/body" "[e['action'] for e in d['entries']]")
next=$(json "$work/body" "d['next_after']")
call 200 '"entries"' GET "/v1/admin/audit?principal=ops-admin&limit=2&after=$next" "$ops"
third=$(json "$work/body" "[e['action'] for e in d['entries']]")
json "$work/body" "'next_after' in d" | grep -q False || fail "the last page says there is more"
[ "$first $second $third" = "['freeze', 'unfreeze'] ['close_wallet', 'freeze'] []" ] ||
  fail "pages: $first $second $third"
call 200 '"principal":"billing"' GET "/v1/admin/audit?action=set_kyc_level&target=w-a" "$ops"
[ "$(json "$work/body" "len(d['entries'])")" = 1 ] || fail "action filter: $(cat "$work/body")"
json "$work/body" "d['entries'][0]['trace_id']" | grep -qx "$trace" || fail "no trace id in the API"
call 200 '"entries":\[\]' GET "/v1/admin/audit?from=2100-01-01T00:00:00Z" "$ops"
call 200 '"entries":\[\]' GET "/v1/admin/audit?to=2000-01-01T00:00:00Z" "$ops"
call 200 '"action":"freeze"' GET "/v1/admin/audit?target=w-a&from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z" "$ops"
[ "$(json "$work/body" "len(d['entries'])")" = 5 ] || fail "time window: $(cat "$work/body")"

# The wallet's timeline: its events and its records, merged by time.
call 200 '"kind":"event"' GET "/v1/admin/audit/wallets/w-a" "$ops"
kinds=$(json "$work/body" "' '.join(e['kind'] + ':' + (e.get('action') or e['event']['type']) for e in d['entries'])")
[ "$kinds" = "event:wallet_opened audit:freeze event:wallet_frozen audit:unfreeze event:wallet_unfrozen audit:set_kyc_level event:kyc_level_set audit:close_wallet event:wallet_closed audit:freeze" ] ||
  fail "timeline: $kinds"
call 200 '"more":true' GET "/v1/admin/audit/wallets/w-a?limit=3" "$ops"
a=$(json "$work/body" "d['next_after_audit']")
s=$(json "$work/body" "d['next_after_seq']")
call 200 '"kind"' GET "/v1/admin/audit/wallets/w-a?limit=50&after_audit=$a&after_seq=$s" "$ops"
[ "$(json "$work/body" "len(d['entries'])")" = 7 ] || fail "the second timeline page: $(cat "$work/body")"
echo "ok  timeline pages"

# ---- a flags reload is recorded with the digests before and after ----
old_digest=$(sha256sum "$work/flags.json" | cut -d' ' -f1)
printf '{"accept_new_wallets": true, "accept_transfers": false}\n' >"$work/flags.new"
mv "$work/flags.new" "$work/flags.json"
new_digest=$(sha256sum "$work/flags.json" | cut -d' ' -f1)
for _ in $(seq 1 100); do
  [ "$(q "SELECT count(*) FROM audit_log WHERE action = 'flags_reloaded'")" = 1 ] && break
  sleep 0.1
done
row=$(q "SELECT principal || '|' || target || '|' || (details->>'old_digest') || '|' || (details->>'new_digest')
         FROM audit_log WHERE action = 'flags_reloaded'")
[ "$row" = "system:file-reload|flags|$old_digest|$new_digest" ] || fail "reload record: '$row'"
start=$(q "SELECT principal || '|' || (details->>'digest') FROM audit_log WHERE action = 'flags_loaded'")
[ "$start" = "system:start-up|$old_digest" ] || fail "start-up record: '$start'"
echo "ok  flags reload recorded (system:file-reload, old and new SHA-256)"

# ---- flags at run time over HTTP: read, replaced with a reason, recorded, in force at once ----
call 200 '"accept_transfers":false' GET /v1/admin/flags "$ops"
call 403 '"code":"forbidden"' PUT /v1/admin/flags "$billing" '{"flags":{},"reason":"x"}'
call 400 '"field":"reason","problem":"missing"' PUT /v1/admin/flags "$ops" '{"flags":{"accept_new_wallets":false}}'
call 400 '"field":"flags","problem":"invalid"' PUT /v1/admin/flags "$ops" '{"flags":{"currency.XYZ":false},"reason":"x"}'
call 200 '"accept_new_wallets":false' PUT /v1/admin/flags "$ops" '{"flags":{"accept_new_wallets":false,"accept_transfers":false},"reason":"incident 31: stop sign-ups"}'
call 503 '"code":"feature_disabled"' POST /v1/wallets "$ops" '{"wallet_id":"w-flag","owner":"owner-f","currency":"EUR"}' of1
row=$(q "SELECT principal || '|' || reason || '|' || trace_id || '|' || (details->>'new' LIKE 'accept_new_wallets=false %')
         FROM audit_log WHERE action = 'flags_changed'")
[ "$row" = "ops-admin|incident 31: stop sign-ups|$trace|true" ] || fail "flags_changed record: '$row'"
call 200 '"accept_new_wallets":true' PUT /v1/admin/flags "$ops" '{"flags":{"accept_transfers":false},"reason":"incident 31 over"}'
call 201 '"status":"accepted"' POST /v1/wallets "$ops" '{"wallet_id":"w-flag","owner":"owner-f","currency":"EUR"}' of1
echo "ok  flags changed over HTTP, recorded (flags_changed) and in force at once"

# ---- personal data: stored, read, erased, and then found nowhere ----
name="Zelda Quintessa $$"
email="zelda.q.$$@erasure.test"
call 403 '"code":"forbidden"' PUT /v1/admin/owners/owner-z/profile "$alice" "{\"display_name\":\"$name\",\"email\":\"$email\"}"
call 400 '"field":"email","problem":"not_an_address"' PUT /v1/admin/owners/owner-z/profile "$ops" '{"display_name":"x","email":"nope","reason":"kyc"}'
call 400 '"field":"reason","problem":"missing"' PUT /v1/admin/owners/owner-z/profile "$ops" "{\"display_name\":\"$name\",\"email\":\"$email\"}"
call 200 "\"display_name\":\"$name x\"" PUT /v1/admin/owners/owner-z/profile "$billing" "{\"display_name\":\"$name x\",\"email\":\"$email\",\"reason\":\"onboarding 41\"}"
call 200 "\"display_name\":\"$name\"" PUT "/v1/admin/owners/owner-z/profile?reason=name%20corrected" "$ops" "{\"display_name\":\"$name\",\"email\":\"$email\"}"
# Profile writes are audited (created, then updated) by owner id and reason, in their own
# transaction; the records hold no personal field (the search after the erasure covers them).
row=$(q "SELECT string_agg(action || '|' || principal || '|' || reason, ',' ORDER BY id) FROM audit_log
         WHERE target = 'owner-z' AND action LIKE 'profile_%'")
[ "$row" = "profile_created|billing|onboarding 41,profile_updated|ops-admin|name corrected" ] ||
  fail "profile records: '$row'"
call 200 "\"email\":\"$email\"" GET /v1/admin/owners/owner-z/profile "$ops"
pg_dump --data-only "$url" >"$work/before.sql" || fail "pg_dump"
grep -q "$email" "$work/before.sql" || fail "the search cannot find the stored e-mail: it would prove nothing"
call 400 '"field":"reason","problem":"missing"' DELETE /v1/admin/owners/owner-z/profile "$ops"
call 403 '"code":"forbidden"' DELETE /v1/admin/owners/owner-z/profile "$alice" '{"reason":"x"}'
call 200 '"erased":true' DELETE /v1/admin/owners/owner-z/profile "$ops" '{"reason":"GDPR art. 17 request 2026-118"}'
call 404 '"code":"not_found"' GET /v1/admin/owners/owner-z/profile "$ops"
call 200 '"erased":false' DELETE "/v1/admin/owners/owner-z/profile?reason=repeat%20request" "$ops"
row=$(q "SELECT principal || '|' || target || '|' || reason || '|' || (details->>'existed') || '|' || trace_id
         FROM audit_log WHERE action = 'profile_erased' ORDER BY id LIMIT 1")
[ "$row" = "ops-admin|owner-z|GDPR art. 17 request 2026-118|true|$trace" ] || fail "erasure record: '$row'"
[ "$(q "SELECT count(*) FROM wallets WHERE owner = 'owner-z'")" = 1 ] || fail "the wallet lost its owner id"
pg_dump "$url" >"$work/after.sql" || fail "pg_dump"
for needle in "$name" "$email" "Quintessa" "erasure.test"; do
  grep -q -- "$needle" "$work/after.sql" && fail "'$needle' is still in the database after erasure"
  grep -q -- "$needle" "$work/walletd.log" && fail "'$needle' is in walletd's log"
done
echo "ok  erased: no table (pg_dump) and no log line holds the name or the e-mail"

# ---- the documented ownership move: walletd's role keeps INSERT and SELECT, loses the triggers ----
owner="audit_owner_$$"
app="walletd_app_$$"
psql -q "$super_url" -v ON_ERROR_STOP=1 -c "CREATE ROLE $owner NOLOGIN" -c "CREATE ROLE $app LOGIN" \
  -c "ALTER TABLE audit_log OWNER TO $owner" -c "GRANT SELECT, INSERT ON audit_log TO $app" ||
  fail "cannot move audit_log to another owner"
app_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(netloc=sys.argv[2] + "@" + p.netloc.split("@")[-1])))' "$url" "$app")
psql -qtA "$app_url" -c "INSERT INTO audit_log (principal, action, target, reason) VALUES ('t', 'test', 't', 'granted insert')" ||
  fail "walletd's role cannot insert after the move"
[ "$(psql -qtA "$app_url" -c "SELECT count(*) FROM audit_log WHERE reason = 'granted insert'")" = 1 ] ||
  fail "walletd's role cannot read after the move"
for statement in "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only" \
  "DROP TRIGGER audit_log_no_truncate ON audit_log" "DELETE FROM audit_log"; do
  for who in "$app_url" "$url"; do
    psql -qtA "$who" -c "$statement" >/dev/null 2>&1 && fail "'$statement' succeeded for a non-owner"
  done
done
echo "ok  after the ownership move: INSERT and SELECT for walletd's role, no trigger can be dropped"

walletd_stop
for needle in "$name" "$email"; do
  grep -q -- "$needle" "$work/walletd.log" && fail "'$needle' is in walletd's log"
done
echo "PASS"
