#!/bin/bash
# SIGKILL in the middle of a transfer-heavy run, then walletd started again: the transfers left
# pending complete, money is conserved and every wallet equals the fold of its events.
# Usage: walletd_crash.sh DRIVER WALLETD   (needs WALLET_PG_URL, from scripts/services.sh)
set -u
driver=$1
walletd=$2
# shellcheck source=tests/support/walletd.sh
source "$(dirname "$0")/../support/walletd.sh"
walletd_test crash
kill_on_exit+=(dpid)
wallets=200
shards=4
none_pending() { [ "$(q "SELECT count(*) FROM transfers WHERE status = 'pending'")" = 0 ]; }

create_database

"$driver" "$url" "$wallets" "$shards" >"$work/driver.log" 2>&1 &
dpid=$!
for _ in $(seq 1 1200); do
  grep -q '^transfers 3000$' "$work/driver.log" && break
  kill -0 "$dpid" 2>/dev/null || { cat "$work/driver.log"; fail "driver died"; }
  sleep 0.1
done
grep -q '^transfers 3000$' "$work/driver.log" || fail "driver too slow: $(tail -1 "$work/driver.log")"
kill -9 "$dpid"
wait "$dpid" 2>/dev/null
dpid=
pending=$(q "SELECT count(*) FROM transfers WHERE status = 'pending'")
echo "killed the driver with $(q "SELECT count(*) FROM transfers") transfers debited, ${pending} pending"

walletd_start --postgres.url="$url" --runtime.shards="$shards" --metrics.port="$(free_port)" \
  --http.port="$(free_port)" --auth.mode=off
wait_for 60 "transfers still pending" none_pending
walletd_stop

total=$(q "SELECT sum(balance) FROM wallets")
[ "$total" = $((wallets * 1000000)) ] || fail "money not conserved: ${total} != $((wallets * 1000000))"
bad=$(q "SELECT count(*) FROM wallets w JOIN (SELECT wallet_id, sum(delta) d, max(seq) m, count(*) n
         FROM wallet_events GROUP BY 1) e ON e.wallet_id = w.id
         WHERE w.balance <> e.d OR w.version <> e.m OR w.version <> e.n")
[ "$bad" = 0 ] || fail "${bad} wallets differ from the fold of their events"
credits=$(q "SELECT count(*) FROM wallet_events WHERE type = 'transfer_credited'")
completed=$(q "SELECT count(*) FROM transfers WHERE status = 'completed'")
[ "$credits" = "$completed" ] || fail "${credits} credits for ${completed} completed transfers"
echo "ok: ${pending} pending transfers completed after the crash; ${completed} transfers in all"
