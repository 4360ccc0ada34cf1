#!/bin/bash
# The HTTP API end to end: starts walletd (auth.mode=off, its own database, subjects, streams and
# free ports) over the PostgreSQL and nats-server of scripts/services.sh, runs walletd_http_test
# against it, then checks what only the outside can see: the traceparent stored with the events,
# one JSON log line per request without tokens or paths, /metrics accepted by `promtool check
# metrics` (promtool.sh finds or unpacks one), and a clean exit on SIGTERM. A feature flags file
# (currency.GBP off) lets the test see feature_disabled answered 503, then switch it on.
# Usage: walletd_http.sh WALLETD WALLETD_HTTP_TEST   (needs WALLET_PG_URL and WALLET_NATS_URL;
# WALLET_HTTP_PORT, when set, is the port walletd's HTTP API listens on)
set -u
walletd=$1
tests=$2
# shellcheck source=tests/support/walletd.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../support/walletd.sh"
walletd_test http nats
fail_log_lines=50
hport=${WALLET_HTTP_PORT:-$(free_port)}
promtool=$(bash "$(dirname "${BASH_SOURCE[0]}")/promtool.sh") || fail "no promtool (see promtool.sh)"
echo '{"currency.GBP": false}' >"$work/flags.json"

create_database
walletd_start --postgres.url="$url" --nats.url="$WALLET_NATS_URL" --runtime.shards=4 \
  --nats.subject_prefix="http$$" --nats.command_stream="HTTP$$_CMD" \
  --nats.event_stream="HTTP$$_EVT" --nats.dead_letter_stream="HTTP$$_DLQ" \
  --metrics.port="$(free_port)" --http.port="$hport" --http.body_bytes_max=4096 \
  --http.header_bytes_max=4096 --auth.mode=off \
  --compliance.flags_file="$work/flags.json" --compliance.reload_poll_ms=100 \
  --rate_limit.address_burst=20 --rate_limit.address_per_second=10 \
  --rate_limit.principal_burst=100000 --rate_limit.principal_per_second=100000
wait_for 30 "walletd is not serving NATS" logged '"msg":"NATS interface serving"'
grep -q '"msg":"HTTP API serving"' "$work/walletd.log" || fail "walletd does not serve HTTP"
grep -q '"msg":"AUTHENTICATION IS OFF' "$work/walletd.log" || fail "no loud warning for auth.mode=off"

WALLET_HTTP_PORT="$hport" WALLET_HTTP_FLAGS_FILE="$work/flags.json" "$tests" 2>&1 |
  tee "$work/tests.out"
code=${PIPESTATUS[0]}
[ "$code" -eq 0 ] || fail "walletd_http_test failed ($code)"

# The caller's trace id travels into the command's event (a span of walletd's own after it).
traced=$(sed -n 's/^TRACED_WALLET=//p' "$work/tests.out" | head -n 1)
[ -n "$traced" ] || fail "the test did not name its traced wallet"
stored=$(psql -qtA "$url" -c "SELECT trace_parent FROM wallet_events WHERE wallet_id = '$traced' AND type = 'deposited'")
case "$stored" in
  00-0af7651916cd43dd8448eb211c80319c-*-01) echo "traceparent stored with the event: $stored" ;;
  *) fail "the deposit's event holds trace_parent '$stored'" ;;
esac
grep -q '"msg":"http request".*"trace_id":"0af7651916cd43dd8448eb211c80319c"' "$work/walletd.log" ||
  fail "no request log line with the caller's trace id"

# One line per request, each with its trace id, route pattern, status and latency; never a wallet
# id (it is in paths), a token or a body.
lines=$(grep -c '"msg":"http request"' "$work/walletd.log")
[ "$lines" -ge 100 ] || fail "only $lines request log lines"
grep '"msg":"http request"' "$work/walletd.log" | grep -v '"trace_id":"[0-9a-f]\{32\}".*"route":"[^"]*".*"status":[0-9]*.*"latency_us":[0-9]*' |
  head -n 3 | grep . && fail "request log lines without trace_id, route, status or latency"
grep '"msg":"http request"' "$work/walletd.log" | grep -q -e "$traced" -e 'Bearer' -e '"amount"' &&
  fail "a request log line shows an id, a token or a body"

# The exposition format, as Prometheus parses it (and promtool's lint of names and help).
# (The last test spent this address's bucket of open routes: wait for it to refill.)
for _ in $(seq 1 10); do
  curl -sf "http://127.0.0.1:$hport/metrics" >"$work/metrics.txt" && break
  sleep 0.5
done
[ -s "$work/metrics.txt" ] || fail "cannot read /metrics"
"$promtool" check metrics <"$work/metrics.txt" || fail "promtool check metrics refused /metrics"
echo "/metrics: promtool check metrics accepts $(grep -c '^# TYPE' "$work/metrics.txt") families"

walletd_stop
echo "PASS"
