#!/bin/bash
# A real third-party client (the npm `nats` package, tests/system/node/drive.mjs) drives walletd
# through a private nats-server: 10,000 commands with duplicates and malformed ones, while this
# script stops and restarts nats-server and later SIGKILLs and restarts walletd. drive.mjs then
# checks every command applied once, the dead letters, and the event stream against PostgreSQL;
# wallet-reconcile must find the database clean.
# Usage: nats_client.sh WALLETD WALLET_RECONCILE   (needs WALLET_PG_URL, node and npm)
set -u
walletd=$1
reconcile=$2
here=$(cd "$(dirname "$0")" && pwd)
nats_server=${NATS_SERVER:-/usr/sbin/nats-server}
# shellcheck source=tests/support/walletd.sh
source "$here/../support/walletd.sh"
walletd_test nc
fail_log_lines=40
kill_on_exit+=(dpid npid)
command -v node >/dev/null || fail "node is not installed (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null || fail "npm is not installed (Debian: apt-get install npm)"
[ -x "$nats_server" ] || fail "no nats-server at $nats_server"
if [ ! -d "$here/node/node_modules/nats" ]; then
  (cd "$here/node" && npm ci --no-audit --no-fund) || fail "npm ci in $here/node failed"
fi

prefix="nc$$"

nats_port=$(free_port)
nats_url="nats://127.0.0.1:${nats_port}"
mkdir -p "$work/store"
: >"$work/nats.log"
cat >"$work/nats.conf" <<CONF
listen: "127.0.0.1:${nats_port}"
jetstream { store_dir: "$work/store" }
CONF
# Starts nats-server on the same port and store; waits until it is ready.
start_nats() {
  "$nats_server" -c "$work/nats.conf" >>"$work/nats.log" 2>&1 &
  npid=$!
  for _ in $(seq 1 200); do
    [ "$(grep -c "Server is ready" "$work/nats.log")" -ge "$1" ] && return
    sleep 0.05
  done
  cat "$work/nats.log"
  fail "nats-server did not start"
}
start_nats 1

create_database
: >"$work/walletd.log"
# Starts walletd (again, after a SIGKILL: the log is appended to) and waits until it serves NATS
# for the $1-th time.
start_walletd() {
  walletd_start --postgres.url="$url" --nats.url="$nats_url" --runtime.shards=4 \
    --nats.subject_prefix="$prefix" --nats.command_stream="NC$$_CMD" \
    --nats.event_stream="NC$$_EVT" --nats.dead_letter_stream="NC$$_DLQ" \
    --nats.nak_delay_ms=100 --nats.ack_wait_s=10 --nats.outbox_poll_ms=20 \
    --http.port="$(free_port)" --auth.mode=off --metrics.port="$(free_port)"
  wait_for 30 "walletd is not serving NATS" logged '"msg":"NATS interface serving"' "$1"
}
start_walletd 1

progress() { local p; p=$(cat "$work/progress" 2>/dev/null); echo "${p:-0}"; }
# Waits until drive.mjs has had $1 messages acknowledged by the stream.
wait_progress() {
  for _ in $(seq 1 1800); do
    [ "$(progress)" -ge "$1" ] && return
    kill -0 "$dpid" 2>/dev/null || return
    sleep 0.1
  done
  fail "drive.mjs stuck at $(progress) messages"
}

NATS_URL="$nats_url" PG_URL="$url" PREFIX="$prefix" CMD_STREAM="NC$$_CMD" EVT_STREAM="NC$$_EVT" \
  DLQ_STREAM="NC$$_DLQ" PROGRESS_FILE="$work/progress" \
  node "$here/node/drive.mjs" >"$work/drive.log" 2>&1 &
dpid=$!
started=$(date +%s)

wait_progress 3000
echo "nats-server: SIGTERM at $(progress) messages, restarted 3 s later"
kill -TERM "$npid"
wait "$npid"
sleep 3
start_nats 2

wait_progress 6500
echo "walletd: SIGKILL at $(progress) messages, restarted 1 s later"
kill -9 "$wpid"
wait "$wpid" 2>/dev/null
sleep 1
start_walletd 2

wait "$dpid"
code=$?
dpid=
cat "$work/drive.log"
[ "$code" -eq 0 ] || fail "drive.mjs exit status $code"
echo "drive.mjs passed in $(($(date +%s) - started)) s"

"$reconcile" --postgres.url="$url" >"$work/reconcile.log" 2>&1 ||
  { cat "$work/reconcile.log"; fail "wallet-reconcile found the database not clean"; }
walletd_stop
echo "walletd logged $(grep -c '"level":"error"' "$work/walletd.log") errors (the outages cause some)"
echo "PASS"
