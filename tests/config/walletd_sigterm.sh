#!/bin/sh
# walletd against a database that is not there: it must say so, keep the password out of its log,
# and exit 1 (Kubernetes restarts it): sh walletd_sigterm.sh path/to/walletd
set -u
walletd=$1
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# metrics.port is bound before the database is tried: a port of its own, not the default 9464.
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$walletd" --postgres.url=postgresql://wallet:hunter2@127.0.0.1:1/wallet --metrics.port="$mport" \
  >"$log" 2>&1
code=$?
cat "$log"
[ "$code" -eq 1 ] || { echo "exit status $code, expected 1"; exit 1; }
grep -q '"msg":"database unreachable at start-up"' "$log" || { echo "no line naming the cause"; exit 1; }
! grep -q hunter2 "$log" || { echo "the password was logged"; exit 1; }
echo ok
