#!/bin/sh
# Starts walletd, waits for its start line, sends SIGTERM and checks a clean exit with a
# shutdown line: sh walletd_sigterm.sh path/to/walletd
set -u
walletd=$1
log=$(mktemp)
trap 'rm -f "$log"' EXIT

"$walletd" --postgres.url=postgresql://wallet:hunter2@db/wallet >"$log" 2>&1 &
pid=$!
tries=0
until grep -q '"msg":"walletd starting"' "$log"; do
  tries=$((tries + 1))
  if [ "$tries" -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
    echo "walletd did not start:"; cat "$log"; kill "$pid" 2>/dev/null; exit 1
  fi
  sleep 0.05
done
kill -TERM "$pid"
wait "$pid"
code=$?
cat "$log"
[ "$code" -eq 0 ] || { echo "exit status $code, expected 0"; exit 1; }
grep -q '"msg":"walletd stopping","signal":"SIGTERM"' "$log" || { echo "no shutdown line"; exit 1; }
grep -q 'not wired yet' "$log" || { echo "no line saying the engine is not wired"; exit 1; }
! grep -q hunter2 "$log" || { echo "the password was logged"; exit 1; }
echo ok
