#!/bin/sh
# walletd against the real PostgreSQL of scripts/services.sh: it migrates, starts the runtime,
# and on SIGTERM drains, logs its shutdown and exits 0 without ever logging the password.
# Usage: sh walletd_lifecycle.sh path/to/walletd   (needs WALLET_PG_URL)
set -u
walletd=$1
[ -n "${WALLET_PG_URL:-}" ] || { echo "WALLET_PG_URL is not set: start scripts/services.sh"; exit 1; }
# The local cluster trusts loopback, so a password in the URL is accepted and must stay secret.
url=$(printf '%s' "$WALLET_PG_URL" | sed 's|://wallet@|://wallet:hunter2@|')
log=$(mktemp)
trap 'rm -f "$log"' EXIT

"$walletd" --postgres.url="$url" --runtime.shards=4 >"$log" 2>&1 &
pid=$!
tries=0
until grep -q '"msg":"reconciliation clean"' "$log"; do
  tries=$((tries + 1))
  if [ "$tries" -gt 600 ] || ! kill -0 "$pid" 2>/dev/null; then
    echo "walletd did not start:"; cat "$log"; kill "$pid" 2>/dev/null; exit 1
  fi
  sleep 0.05
done
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
