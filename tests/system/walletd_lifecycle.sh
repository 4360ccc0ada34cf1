#!/bin/sh
# walletd against the real PostgreSQL of scripts/services.sh: it migrates, starts the runtime,
# serves /metrics, and on SIGTERM drains, logs its shutdown and exits 0 without ever logging the
# password. A second walletd on the same metrics port exits 1 and says why.
# Usage: sh walletd_lifecycle.sh path/to/walletd   (needs WALLET_PG_URL)
set -u
walletd=$1
[ -n "${WALLET_PG_URL:-}" ] || { echo "WALLET_PG_URL is not set: start scripts/services.sh"; exit 1; }
# The local cluster trusts loopback, so a password in the URL is accepted and must stay secret.
url=$(printf '%s' "$WALLET_PG_URL" | sed 's|://wallet@|://wallet:hunter2@|')
log=$(mktemp)
log2=$(mktemp)
trap 'rm -f "$log" "$log2"' EXIT
# metrics.port is served from start-up and a taken one stops walletd: a port of its own.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mport=$(free_port)
# The HTTP API listens too (auth.mode=off: this test sends no request to it).
hflags="--http.port=$(free_port) --auth.mode=off"

"$walletd" --postgres.url="$url" --runtime.shards=4 --metrics.port="$mport" $hflags >"$log" 2>&1 &
pid=$!
tries=0
until grep -q '"msg":"reconciliation clean"' "$log"; do
  tries=$((tries + 1))
  if [ "$tries" -gt 600 ] || ! kill -0 "$pid" 2>/dev/null; then
    echo "walletd did not start:"; cat "$log"; kill "$pid" 2>/dev/null; exit 1
  fi
  sleep 0.05
done
metrics=$(python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:" + sys.argv[1] + "/metrics", timeout=10).read().decode())' "$mport")
case "$metrics" in
  *"# TYPE wallet_commands_total counter"*) ;;
  *) echo "no wallet_commands_total at /metrics:"; echo "$metrics"; kill "$pid"; exit 1 ;;
esac
"$walletd" --postgres.url="$url" --runtime.shards=4 --metrics.port="$mport" $hflags >"$log2" 2>&1
code2=$?
[ "$code2" -eq 1 ] || { echo "second walletd on a taken metrics port: exit $code2, expected 1"; cat "$log2"; kill "$pid"; exit 1; }
grep -q '"msg":"walletd cannot serve metrics' "$log2" || { echo "no metrics bind line"; cat "$log2"; kill "$pid"; exit 1; }
kill -TERM "$pid"
wait "$pid"
code=$?
cat "$log"
[ "$code" -eq 0 ] || { echo "exit status $code, expected 0"; exit 1; }
grep -q '"msg":"database schema ready"' "$log" || { echo "no schema line"; exit 1; }
grep -q '"msg":"engine runtime started"' "$log" || { echo "no runtime line"; exit 1; }
grep -q '"msg":"walletd stopping","signal":"SIGTERM"' "$log" || { echo "no shutdown line"; exit 1; }
grep -q '"msg":"walletd stopped"' "$log" || { echo "no stopped line"; exit 1; }
! grep -q hunter2 "$log" || { echo "the password was logged"; exit 1; }
echo ok
