#!/bin/bash
# walletd's compliance files over the real NATS and PostgreSQL of scripts/services.sh: a bad policy
# file stops the start (exit 2); the example policy's limits answer walletctl's commands; the flags
# file is reloaded while walletd runs (a transfer refused feature_disabled, then accepted), a bad
# rewrite is refused and counted, and the reloads show at /metrics (docs/compliance.md).
# Usage: walletd_compliance.sh WALLETD WALLETCTL SOURCE_DIR   (needs WALLET_PG_URL, WALLET_NATS_URL)
set -u
walletd=$1
walletctl=$2
source_dir=$3
# shellcheck source=tests/support/walletd.sh
source "$(dirname "$0")/../support/walletd.sh"
# Its own database, subjects and streams: other tests share both servers.
walletd_test kyc nats
prefix="kyc$$"
ctl() { "$walletctl" --url "$WALLET_NATS_URL" --prefix "$prefix" --timeout-ms 10000 "$@"; }
# Sends a command, expecting exit code $1 and each later argument somewhere in the outcome.
expect() {
  local code=$1 json=$2 out got
  shift 2
  out=$(ctl send "$json")
  got=$?
  echo "send $json -> $got: $out"
  [ "$got" -eq "$code" ] || fail "exit code $got, expected $code"
  for text in "$@"; do
    case "$out" in *"$text"*) ;; *) fail "no '$text' in the answer" ;; esac
  done
}
wait_for_lines() { wait_for 10 "fewer than $2 log lines matching $1" logged "$1" "$2"; }
metric() { metrics "$mport" | grep -xF "$1" >/dev/null; }

create_database
mport=$(free_port)
hport=$(free_port)
# The HTTP API is not what this test is about: no authentication, a port of its own.
settings=(--postgres.url="$url" --nats.url="$WALLET_NATS_URL" --runtime.shards=4
  --http.port="$hport" --auth.mode=off
  --nats.subject_prefix="$prefix" --nats.command_stream="KYC$$_CMD"
  --nats.event_stream="KYC$$_EVT" --nats.dead_letter_stream="KYC$$_DLQ"
  --metrics.port="$mport" --compliance.reload_poll_ms=100)

# 1. A policy file with a typo: walletd does not start, and says where the problem is.
put "$work/bad.json" '{"levels": {"none": {"*": {"unlimited": true}}, "basic": {"*": {"unlimited": true}}}}'
"$walletd" "${settings[@]}" --compliance.policy_file="$work/bad.json" >"$work/walletd.log" 2>&1
code=$?
[ "$code" -eq 2 ] || fail "a bad policy file: exit $code, expected 2"
grep -q 'levels.full: missing' "$work/walletd.log" || fail "the refusal does not name levels.full"

# 2. The example policy, and transfers switched off.
cp "$source_dir/config/examples/policy.json" "$work/policy.json"
put "$work/flags.json" '{"accept_transfers": false}'
: >"$work/walletd.log" # the lines counted below are this run's only
walletd_start "${settings[@]}" --compliance.policy_file="$work/policy.json" \
  --compliance.flags_file="$work/flags.json"
wait_for 30 "walletd is not serving NATS" logged '"msg":"NATS interface serving"'
grep -q '"msg":"KYC policy loaded"' "$work/walletd.log" || fail "no policy line"
grep -q '"msg":"feature flags loaded".*accept_transfers=false' "$work/walletd.log" ||
  fail "no flags line"

a="kyc-a-$$"
b="kyc-b-$$"
expect 0 "{\"wallet_id\":\"$a\",\"idempotency_key\":\"open\",\"type\":\"open_wallet\",\"owner\":\"o\",\"currency\":\"EUR\"}"
expect 0 "{\"wallet_id\":\"$b\",\"idempotency_key\":\"open\",\"type\":\"open_wallet\",\"owner\":\"o\",\"currency\":\"EUR\"}"
# Level none in EUR (config/examples/policy.json): a balance of 1,000.00, 250.00 a move.
expect 0 "{\"wallet_id\":\"$a\",\"idempotency_key\":\"d1\",\"type\":\"deposit\",\"amount\":\"1000.00\",\"currency\":\"EUR\"}"
expect 1 "{\"wallet_id\":\"$a\",\"idempotency_key\":\"d2\",\"type\":\"deposit\",\"amount\":\"0.01\",\"currency\":\"EUR\"}" \
  '"code":"kyc_balance_limit_exceeded"'
expect 1 "{\"wallet_id\":\"$a\",\"idempotency_key\":\"w1\",\"type\":\"withdraw\",\"amount\":\"250.01\",\"currency\":\"EUR\"}" \
  '"code":"kyc_withdrawal_limit_exceeded"'
expect 1 "{\"wallet_id\":\"$a\",\"idempotency_key\":\"t1\",\"type\":\"transfer\",\"transfer_id\":\"t-1\",\"destination\":\"$b\",\"amount\":\"10\",\"currency\":\"EUR\"}" \
  '"code":"feature_disabled"' '"balance":"1000.00"'
# Verified: basic allows 2,500.00 a move.
expect 0 "{\"wallet_id\":\"$a\",\"idempotency_key\":\"kyc\",\"type\":\"set_kyc_level\",\"level\":\"basic\",\"reason\":\"id checked\"}" \
  '"type":"kyc_level_set"' '"level":"basic"'
expect 0 "{\"wallet_id\":\"$a\",\"idempotency_key\":\"w2\",\"type\":\"withdraw\",\"amount\":\"250.01\",\"currency\":\"EUR\"}"

# 3. Transfers on again, while walletd runs.
put "$work/flags.json" '{"accept_transfers": true}'
wait_for_lines '"msg":"feature flags loaded"' 2
expect 0 "{\"wallet_id\":\"$a\",\"idempotency_key\":\"t2\",\"type\":\"transfer\",\"transfer_id\":\"t-2\",\"destination\":\"$b\",\"amount\":\"10\",\"currency\":\"EUR\"}" \
  '"type":"transfer_debited"'
# A broken rewrite is refused, logged and counted; transfers stay on.
put "$work/flags.json" '{"accept_transfers": tru'
wait_for_lines '"msg":"compliance file refused' 1
expect 0 "{\"wallet_id\":\"$a\",\"idempotency_key\":\"t3\",\"type\":\"transfer\",\"transfer_id\":\"t-3\",\"destination\":\"$b\",\"amount\":\"10\",\"currency\":\"EUR\"}"
for line in 'wallet_compliance_reloads_total{file="flags",result="loaded"} 2' \
  'wallet_compliance_reloads_total{file="flags",result="refused"} 1' \
  'wallet_compliance_reloads_total{file="policy",result="loaded"} 1' \
  'wallet_rejections_total{code="feature_disabled"} 1' \
  'wallet_rejections_total{code="kyc_withdrawal_limit_exceeded"} 1'; do
  metric "$line" || fail "no '$line' at /metrics"
done

walletd_stop
echo ok
