#!/bin/bash
# Two walletd processes as instances 0 and 1 of 2, over one PostgreSQL database and a private
# nats-server with the partition mappings (the shared one has none: mappings apply to every
# publisher of a server). Clients publish on wallet.cmd.<id>; the server routes each command to its
# shard's owner, and transfers between the instances' wallets complete through the saga over NATS.
# Usage: walletd_instances.sh WALLETD WALLETCTL WALLET_RECONCILE   (needs WALLET_PG_URL)
set -u
walletd=$1
walletctl=$2
reconcile=$3
# shellcheck source=tests/support/walletd.sh
source "$(dirname "$0")/../support/walletd.sh"
walletd_test mi
nats_server=${NATS_SERVER:-/usr/sbin/nats-server}
shards=4
pids=()
kill_on_exit+=("pids[0]" "pids[1]" npid)
show_logs() {
  for i in 0 1; do echo "--- walletd $i log:"; tail -n 30 "$work/walletd-$i.log"; done
}

nats_port=$(free_port)
mkdir -p "$work/store"
cat >"$work/nats.conf" <<CONF
listen: "127.0.0.1:${nats_port}"
jetstream { store_dir: "$work/store" }
mappings: {
  "wallet.cmd.*": "wallet.cmdp.{{partition(${shards},1)}}.{{wildcard(1)}}"
  "wallet.sys.*": "wallet.sysp.{{partition(${shards},1)}}.{{wildcard(1)}}"
}
CONF
"$nats_server" -c "$work/nats.conf" >"$work/nats.log" 2>&1 &
# shellcheck disable=SC2034 # killed on exit (kill_on_exit)
npid=$!
for _ in $(seq 1 200); do
  grep -q "Server is ready" "$work/nats.log" && break
  sleep 0.05
done
grep -q "Server is ready" "$work/nats.log" || { cat "$work/nats.log"; fail "nats-server did not start"; }
nats_url="nats://127.0.0.1:${nats_port}"

create_database
# One after the other: "serving" in each log is then unambiguous.
for i in 0 1; do
  "$walletd" --postgres.url="$url" --nats.url="$nats_url" --runtime.shards=$shards \
    --instance.count=2 --instance.index=$i --nats.partitioned=true \
    --http.port="$(free_port)" --auth.mode=off --metrics.port="$(free_port)" \
    >"$work/walletd-$i.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 600); do
    grep -qs '"msg":"NATS interface serving"' "$work/walletd-$i.log" && break
    kill -0 "${pids[$i]}" 2>/dev/null || fail "walletd $i died"
    sleep 0.05
  done
  grep -q '"msg":"NATS interface serving"' "$work/walletd-$i.log" || fail "walletd $i is not serving"
done

ctl() { "$walletctl" --url "$nats_url" --timeout-ms 20000 send "$1" >/dev/null || fail "walletctl send $1"; }
# walletctl uses the idempotency key as Nats-Msg-Id, which the stream deduplicates across wallets:
# every key here is unique.
wallets=(mi-a mi-b mi-c mi-d mi-e mi-f)
for w in "${wallets[@]}"; do
  ctl "{\"wallet_id\":\"$w\",\"idempotency_key\":\"open-$w\",\"type\":\"open_wallet\",\"owner\":\"o\",\"currency\":\"EUR\"}"
  ctl "{\"wallet_id\":\"$w\",\"idempotency_key\":\"fund-$w\",\"type\":\"deposit\",\"amount\":\"100.00\",\"currency\":\"EUR\"}"
done
[ "$(q "SELECT count(DISTINCT shard % 2) FROM wallets")" = 2 ] ||
  fail "the wallets all belong to one instance: nothing crosses"
n=0
for a in "${wallets[@]}"; do
  for b in "${wallets[@]}"; do
    [ "$a" = "$b" ] && continue
    n=$((n + 1))
    ctl "{\"wallet_id\":\"$a\",\"idempotency_key\":\"t$n\",\"type\":\"transfer\",\"transfer_id\":\"tr-$n\",\"destination\":\"$b\",\"amount\":\"1.$n\",\"currency\":\"EUR\"}"
  done
done

for _ in $(seq 1 600); do
  [ "$(q "SELECT count(*) FROM transfers WHERE status = 'pending'")" = 0 ] && break
  sleep 0.1
done
[ "$(q "SELECT count(*) FROM transfers WHERE status = 'pending'")" = 0 ] || fail "transfers still pending"
completed=$(q "SELECT count(*) FROM transfers WHERE status = 'completed'")
[ "$completed" = "$n" ] || fail "$completed of $n transfers completed"
crossing=$(q "SELECT count(*) FROM transfers t JOIN wallets w ON w.id = t.destination WHERE t.source_shard % 2 <> w.shard % 2")
[ "$crossing" -gt 0 ] || fail "no transfer crossed instances"
total=$(q "SELECT sum(balance) FROM wallets")
[ "$total" = $((${#wallets[@]} * 10000)) ] || fail "balances sum to $total"
echo "$n transfers completed ($crossing across instances), money conserved"
"$reconcile" --postgres.url="$url" >"$work/reconcile.log" 2>&1 ||
  { cat "$work/reconcile.log"; fail "wallet-reconcile found the database not clean"; }
echo "reconciliation clean"

for i in 0 1; do kill -TERM "${pids[$i]}"; done
for i in 0 1; do
  wait "${pids[$i]}"
  code=$?
  [ "$code" -eq 0 ] || fail "walletd $i exit status $code, expected 0"
done
pids=()
echo "PASS"
