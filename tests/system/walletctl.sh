#!/bin/bash
# walletctl against walletd over the real NATS and PostgreSQL of scripts/services.sh: commands sent
# through JetStream get their outcome, queries answer from the database, a resent command gets the
# recorded outcome, an invalid one is refused, and the events of a wallet can be followed.
# Usage: walletctl.sh WALLETD WALLETCTL   (needs WALLET_PG_URL and WALLET_NATS_URL)
set -u
walletd=$1
walletctl=$2
# shellcheck source=tests/support/walletd.sh
source "$(dirname "$0")/../support/walletd.sh"
# Its own database, subjects and streams: other tests share both servers.
walletd_test ctl nats
prefix="ctl$$"
wallet="w-ctl-$$"
kill_on_exit+=(fpid)
ctl() { "$walletctl" --url "$WALLET_NATS_URL" --prefix "$prefix" --timeout-ms 10000 "$@"; }
# Runs walletctl, expecting exit code $1 and every later argument of the form 'text' in its output.
expect() {
  local code=$1 out got
  shift
  local args=()
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  out=$(ctl "${args[@]}")
  got=$?
  echo "walletctl ${args[*]} -> $got: $out"
  [ "$got" -eq "$code" ] || fail "exit code $got, expected $code"
  for text in "$@"; do
    case "$out" in *"$text"*) ;; *) fail "no '$text' in the answer" ;; esac
  done
}

create_database
mport=$(free_port)
walletd_start --postgres.url="$url" --nats.url="$WALLET_NATS_URL" --runtime.shards=4 \
  --nats.subject_prefix="$prefix" --nats.command_stream="CTL$$_CMD" \
  --nats.event_stream="CTL$$_EVT" --nats.dead_letter_stream="CTL$$_DLQ" \
  --nats.outbox_poll_ms=20 --metrics.port="$mport" --http.port="$(free_port)" --auth.mode=off
wait_for 30 "walletd is not serving NATS" logged '"msg":"NATS interface serving"'

# Core subscribers see only what is published after they subscribe: follow starts first.
ctl follow "$wallet" --count 2 >"$work/events" &
fpid=$!
sleep 0.5

expect 0 send "{\"wallet_id\":\"$wallet\",\"idempotency_key\":\"open-1\",\"type\":\"open_wallet\",\"owner\":\"alice\",\"currency\":\"EUR\"}" -- \
  '"status":"accepted"' '"version":1' '"type":"wallet_opened"'
expect 0 send "{\"wallet_id\":\"$wallet\",\"idempotency_key\":\"dep-1\",\"type\":\"deposit\",\"amount\":\"12.34\",\"currency\":\"EUR\",\"command_id\":\"req-2\"}" -- \
  '"status":"accepted"' '"replayed":false' '"balance":"12.34"' '"command_id":"req-2"'
expect 0 wallet "$wallet" -- '"status":"active"' '"balance":"12.34"' '"owner":"alice"' '"version":2'
expect 0 outcome "$wallet" dep-1 -- '"status":"accepted"' '"replayed":true' '"balance":"12.34"' \
  '"type":"deposited"'
# The stream drops a resend with the same Nats-Msg-Id: walletctl asks for the recorded outcome.
expect 0 send "{\"wallet_id\":\"$wallet\",\"idempotency_key\":\"dep-1\",\"type\":\"deposit\",\"amount\":\"12.34\",\"currency\":\"EUR\"}" -- \
  '"status":"accepted"' '"replayed":true' '"balance":"12.34"'
expect 1 send "{\"wallet_id\":\"$wallet\",\"idempotency_key\":\"dep-2\",\"type\":\"deposit\",\"amount\":\"1.234\",\"currency\":\"EUR\"}" -- \
  '"status":"refused"' '"code":"invalid"' '"problem":"too_many_decimals"'
expect 1 send "{\"wallet_id\":\"$wallet\",\"idempotency_key\":\"wd-1\",\"type\":\"withdraw\",\"amount\":\"100\",\"currency\":\"EUR\"}" -- \
  '"status":"rejected"' '"code":"insufficient_funds"'
expect 1 outcome "$wallet" never-sent -- '"code":"not_found"'
expect 1 wallet "w-nobody-$$" -- '"code":"not_found"'
expect 2 send '{"idempotency_key":"k"}' --

for _ in $(seq 1 200); do
  kill -0 "$fpid" 2>/dev/null || break
  sleep 0.05
done
kill -0 "$fpid" 2>/dev/null && fail "follow did not see 2 events"
wait "$fpid" || fail "follow failed"
fpid=
cat "$work/events"
[ "$(wc -l <"$work/events")" -eq 2 ] || fail "follow printed $(wc -l <"$work/events") lines"
grep -q '"seq":1,.*"type":"wallet_opened"' "$work/events" || fail "no wallet_opened event"
grep -q '"seq":2,.*"type":"deposited"' "$work/events" || fail "no deposited event"

# What was just done shows in the metrics (the probes are wired, their labels bounded). Dead letters
# and the outbox are published in the background: read until they are counted.
metrics_show() {
  metrics "$mport" >"$work/metrics" || return 1
  for line in 'wallet_commands_total{command="deposit",outcome="accepted"} 1' \
    'wallet_rejections_total{code="insufficient_funds"} 1' \
    'wallet_nats_dead_letters_total{reason="invalid"} 1' \
    'wallet_nats_commands_total{outcome="accepted"} 2'; do
    grep -qxF "$line" "$work/metrics" || { missing=$line; return 1; }
  done
  missing="events counted as published"
  grep -qE '^wallet_events_published_total\{shard="[0-9]+"\} [1-9]' "$work/metrics"
}
missing="/metrics"
for _ in $(seq 1 30); do
  metrics_show && break
  sleep 0.1
done
metrics_show || { grep '^wallet_' "$work/metrics" | grep -v ' 0$'; fail "no '$missing' at /metrics"; }
grep -q "$wallet" "$work/metrics" && fail "a wallet id became a label value"

walletd_stop
echo ok
