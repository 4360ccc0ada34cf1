#!/bin/bash
# wallet-loadtest against a real walletd (the servers of scripts/services.sh):
#   smoke   NATS: a few seconds of every operation, duplicates and invalid commands, then the naive
#           baseline the same way: it must verify (exit 0) and write its three reports.
#   tamper  the same over NATS, but a balance is changed in the database behind walletd's back
#           before the verify phase: the run must fail (exit 1), naming the balance and
#           reconciliation.
#   http    the smoke run over walletd's /v1 API with a signed bearer token (JWT checked against
#           a key set walletd reads), the events still followed on NATS: it must verify; without
#           the token it must not.
# Usage: loadtest_walletd.sh smoke|tamper|http WALLETD WALLET_LOADTEST WALLET_RECONCILE WALLET_TOKEN
#        (needs WALLET_PG_URL and WALLET_NATS_URL)
set -u
mode=$1
walletd=$2
loadtest=$3
reconcile=$4
token_tool=$5
[ -n "${WALLET_PG_URL:-}" ] || { echo "WALLET_PG_URL is not set: start scripts/services.sh"; exit 1; }
[ -n "${WALLET_NATS_URL:-}" ] || { echo "WALLET_NATS_URL is not set: start scripts/services.sh"; exit 1; }
# A database, subjects and streams of this test's own: other tests share both servers.
tag="lt${mode}$$"
db="wallet_${tag}"
naive_db="wallet_${tag}_naive"
url="${WALLET_PG_URL%/*}/${db}"
naive_url="${WALLET_PG_URL%/*}/${naive_db}"
work=$(mktemp -d)
stop_walletd() {
  [ -n "${wpid:-}" ] || return 0
  kill -TERM "$wpid" 2>/dev/null
  wait "$wpid"
  wpid=
}
cleanup() {
  stop_walletd
  "$loadtest" --nats-url "$WALLET_NATS_URL" --delete-streams "${tag^^}_CMD,${tag^^}_EVT,${tag^^}_DLQ" \
    >/dev/null 2>&1
  psql -q "$WALLET_PG_URL" -c "DROP DATABASE IF EXISTS ${db}" -c "DROP DATABASE IF EXISTS ${naive_db}" \
    >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- wallet-loadtest:"
  cat "$work/out.txt" "$work/err.txt" 2>/dev/null
  echo "--- walletd log (last 30 lines):"
  tail -n 30 "$work/walletd.log"
  exit 1
}

psql -q "$WALLET_PG_URL" -c "CREATE DATABASE ${db}" -c "CREATE DATABASE ${naive_db}" ||
  fail "cannot create the databases"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hport=$(free_port)
# A signing key, the key set walletd trusts, and a token for the harness with the roles `write`
# (the move-money routes) and `service` (any owner's wallets; no role implies another). The rate
# limits are raised: this is a load test.
"$token_tool" keygen ec "$work/key.pem" >/dev/null || fail "wallet-token keygen"
"$token_tool" jwks "$work/key.pem" k1 >"$work/jwks.json" || fail "wallet-token jwks"
"$token_tool" sign "$work/key.pem" --kid=k1 --iss=loadtest-issuer --aud=walletd --sub=loadtest \
  --roles=write,service --ttl-s=3600 >"$work/token" || fail "wallet-token sign"
"$walletd" --postgres.url="$url" --nats.url="$WALLET_NATS_URL" --runtime.shards=4 \
  --nats.subject_prefix="$tag" --nats.command_stream="${tag^^}_CMD" \
  --nats.event_stream="${tag^^}_EVT" --nats.dead_letter_stream="${tag^^}_DLQ" \
  --nats.outbox_poll_ms=20 --metrics.port="$(free_port)" --http.port="$hport" \
  --auth.jwks_file="$work/jwks.json" --auth.issuer=loadtest-issuer --auth.audience=walletd \
  --rate_limit.principal_burst=1000000 --rate_limit.principal_per_second=1000000 \
  >"$work/walletd.log" 2>&1 &
wpid=$!
for _ in $(seq 1 600); do
  grep -q '"msg":"HTTP API serving"' "$work/walletd.log" &&
    grep -q '"msg":"NATS interface serving"' "$work/walletd.log" && break
  kill -0 "$wpid" 2>/dev/null || fail "walletd died at start-up"
  sleep 0.05
done
grep -q '"msg":"NATS interface serving"' "$work/walletd.log" || fail "walletd is not serving NATS"
grep -q '"msg":"HTTP API serving"' "$work/walletd.log" || fail "walletd is not serving HTTP"

args=(--transport nats --nats-url "$WALLET_NATS_URL" --prefix "$tag" --pg-url "$url"
  --reconcile "$reconcile" --wallets 300 --warmup 1 --duration 3 --concurrency 64
  --mix deposit=3,withdraw=2,transfer=4,hold=2 --duplicates 0.05 --invalid 0.05
  --service-pid "$wpid" --progress off --out "$work/report")
if [ "$mode" = http ]; then
  "$loadtest" "${args[@]}" --transport http --http-url "http://127.0.0.1:$hport" \
    --token-file "$work/token" >"$work/out.txt" 2>"$work/err.txt"
  code=$?
  [ "$code" -eq 0 ] || fail "wallet-loadtest over HTTP exited $code, expected 0 (verified)"
  python3 - "$work/report" <<'EOF' || fail "the HTTP report does not say what the run did"
import json, sys
r = json.load(open(sys.argv[1] + "/report.json"))
assert r["ok"] is True and r["main"]["transport"] == "http", r["main"]["transport"]
run = r["main"]["phases"][-1]
assert run["throughput_per_s"] > 0 and run["latency"]["count"] > 0
checks = {c["name"]: c["result"] for c in r["main"]["checks"]}
assert checks["event stream complete"] == "passed", checks
assert checks["every duplicate applied once"] == "passed", checks
assert checks["invalid commands rejected with the right code"] == "passed", checks
assert "bearer token" in r["main"]["service"], r["main"]["service"]
EOF
  # Without the token every command is refused: that run must not verify.
  "$loadtest" "${args[@]}" --transport http --http-url "http://127.0.0.1:$hport" --count 20 \
    --wallets 20 --out "$work/report-no-token" >"$work/out.txt" 2>"$work/err.txt"
  code=$?
  [ "$code" -eq 1 ] || fail "a run without a token exited $code, expected 1"
  grep -q 'FAILED every command answered' "$work/out.txt" || fail "no refusal reported"
elif [ "$mode" = smoke ]; then
  "$loadtest" "${args[@]}" --baseline --naive-url "$naive_url" >"$work/out.txt" 2>"$work/err.txt"
  code=$?
  [ "$code" -eq 0 ] || fail "wallet-loadtest exited $code, expected 0 (verified)"
  for f in report.json report.md report.svg; do
    [ -s "$work/report/$f" ] || fail "no $f"
  done
  python3 - "$work/report" <<'EOF' || fail "the reports do not say what the run did"
import json, sys, xml.dom.minidom
d = sys.argv[1]
r = json.load(open(d + "/report.json"))
assert r["ok"] is True, "report.json: ok is not true"
for target in (r["main"], r["baseline"]):
    run = target["phases"][-1]
    assert run["throughput_per_s"] > 0, target["transport"] + ": no throughput"
    assert run["latency"]["count"] > 0 and run["latency"]["p99_ms"] >= run["latency"]["p50_ms"]
    assert set(run["latency_by_op"]) >= {"deposit", "withdraw", "transfer", "hold_place"}
    checks = {c["name"]: c["result"] for c in target["checks"]}
    assert "FAILED" not in checks.values(), checks
assert {c["name"]: c["result"] for c in r["main"]["checks"]}["reconciliation clean"] == "passed"
assert {c["name"]: c["result"] for c in r["main"]["checks"]}["event stream complete"] == "passed"
assert r["main"]["phases"][0]["name"] == "setup"
assert r["main"]["service_rss_kb"]["after set-up"] > 0
assert r["ratio_to_baseline"] > 0
xml.dom.minidom.parse(d + "/report.svg")
assert "Verified: **yes**" in open(d + "/report.md").read()
EOF
  grep -q '^RESULT verified 1$' "$work/out.txt" || fail "no 'RESULT verified 1'"
else
  # After the load and before the checks: one wallet gains a cent that no command explains.
  tamper="psql -q '$url' -c \"UPDATE wallets SET balance = balance + 1 WHERE id = 'lt-7'\""
  "$loadtest" "${args[@]}" --before-verify "$tamper" >"$work/out.txt" 2>"$work/err.txt"
  code=$?
  [ "$code" -eq 1 ] || fail "wallet-loadtest exited $code, expected 1 (verification failed)"
  grep -q 'FAILED balances match the answers' "$work/out.txt" || fail "the balance check passed"
  grep -q 'wallet 7: stored balance' "$work/out.txt" || fail "wallet 7 is not named"
  grep -q 'FAILED reconciliation clean' "$work/out.txt" || fail "reconciliation passed"
  grep -q 'FAILED money conserved' "$work/out.txt" || fail "money conservation passed"
  grep -q '^RESULT verified 0$' "$work/out.txt" || fail "no 'RESULT verified 0'"
fi
stop_walletd
echo ok
