#!/bin/bash
# The HTTP API's authentication end to end, over TLS: walletd with auth.mode=jwt, a JWK Set file
# and a certificate made by wallet-token, driven by curl. The authorization matrix: no token, a bad
# signature, expired, not yet valid, wrong issuer, wrong audience, a missing role, another owner's
# wallet, service and admin; per-principal rate limits (429 with headers, then recovery); TLS 1.2
# refused.
# Usage: walletd_http_auth.sh WALLETD WALLET_TOKEN   (needs WALLET_PG_URL and WALLET_NATS_URL)
set -u
walletd=$1
token_tool=$2
# shellcheck source=tests/support/walletd.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../support/walletd.sh"
walletd_test http_auth nats
fail_log_lines=30
command -v curl >/dev/null || { echo "curl is missing: bash scripts/install-deps.sh"; exit 1; }
hport=$(free_port)
iss="https://issuer.test"
aud="wallet-engine"

"$token_tool" keygen ec "$work/key.pem" || fail "keygen"
"$token_tool" keygen ec "$work/other.pem" || fail "keygen"
"$token_tool" jwks "$work/key.pem" k1 >"$work/jwks.json" || fail "jwks"
"$token_tool" keygen ec "$work/tls.pem" || fail "keygen"
"$token_tool" cert "$work/tls.pem" >"$work/tls.crt" || fail "cert"
# sign SUBJECT ROLES [options...]: a token from the configured issuer for the configured audience.
sign() {
  local sub=$1 roles=$2
  shift 2
  "$token_tool" sign "$work/key.pem" --kid=k1 --iss="$iss" --aud="$aud" --sub="$sub" \
    --roles="$roles" "$@"
}

create_database
walletd_start --postgres.url="$url" --nats.url="$WALLET_NATS_URL" --runtime.shards=2 \
  --nats.subject_prefix="ha$$" --nats.command_stream="HA$$_CMD" \
  --nats.event_stream="HA$$_EVT" --nats.dead_letter_stream="HA$$_DLQ" \
  --metrics.port="$(free_port)" --http.port="$hport" \
  --http.tls_cert_file="$work/tls.crt" --http.tls_key_file="$work/tls.pem" \
  --auth.mode=jwt --auth.issuer="$iss" --auth.audience="$aud" --auth.jwks_file="$work/jwks.json" \
  --rate_limit.principal_burst=5 --rate_limit.principal_per_second=2
wait_for 30 "walletd does not serve HTTP" logged '"msg":"HTTP API serving"'
grep -q '"msg":"HTTP API serving".*"tls":true' "$work/walletd.log" || fail "walletd does not serve HTTPS"

base="https://127.0.0.1:$hport"
# call EXPECTED_STATUS EXPECTED_TEXT METHOD PATH [TOKEN [BODY [KEY]]]: one request over TLS 1.3.
call() {
  local want=$1 text=$2 method=$3 path=$4 token=${5:-} body=${6:-} key=${7:-}
  local args=(-s --tlsv1.3 --cacert "$work/tls.crt" -o "$work/body" -D "$work/headers"
    -w '%{http_code}' -X "$method")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
  [ -n "$key" ] && args+=(-H "Idempotency-Key: $key")
  local got
  got=$(curl "${args[@]}" "$base$path")
  [ "$got" = "$want" ] || fail "$method $path: status $got, expected $want: $(cat "$work/body")"
  grep -q -- "$text" "$work/body" || fail "$method $path: no '$text' in $(cat "$work/body")"
  echo "ok  $want $method $path ($text)"
}

alice=$(sign alice read,write)
bob=$(sign bob read,write)
call 201 '"status":"accepted"' POST /v1/wallets "$alice" '{"wallet_id":"wa","currency":"EUR"}' o1
call 201 '"status":"accepted"' POST /v1/wallets "$bob" '{"wallet_id":"wb","currency":"EUR"}' o2
call 200 '"balance":"5.00"' POST /v1/wallets/wa/deposits "$alice" '{"amount":"5","currency":"EUR"}' d1

call 401 '"code":"unauthenticated"' GET /v1/wallets/wa
grep -qi '^WWW-Authenticate: Bearer realm="wallet-engine"' "$work/headers" || fail "no WWW-Authenticate"
forged=$("$token_tool" sign "$work/other.pem" --kid=k1 --iss="$iss" --aud="$aud" --sub=alice --roles=read)
call 401 'signature' GET /v1/wallets/wa "$forged"
call 401 'expired' GET /v1/wallets/wa "$(sign alice read --ttl-s=-600)"
call 401 'not valid yet' GET /v1/wallets/wa "$(sign alice read --nbf-s=600)"
call 401 'issuer' GET /v1/wallets/wa "$("$token_tool" sign "$work/key.pem" --kid=k1 --iss=https://evil.test --aud="$aud" --sub=alice --roles=read)"
call 401 'not meant for this service' GET /v1/wallets/wa "$("$token_tool" sign "$work/key.pem" --kid=k1 --iss="$iss" --aud=other --sub=alice --roles=read)"
call 401 'unauthenticated' GET /v1/wallets/wa "not-a-jwt"
call 403 '"code":"forbidden"' POST /v1/wallets/wa/deposits "$(sign alice read)" '{"amount":"1","currency":"EUR"}' d2
call 403 '"code":"not_wallet_owner"' GET /v1/wallets/wa "$bob"
call 403 '"code":"not_wallet_owner"' POST /v1/wallets/wa/withdrawals "$bob" '{"amount":"1","currency":"EUR"}' w1
call 403 '"code":"forbidden"' POST /v1/wallets/wa/freeze "$alice" '{"reason":"x"}' f0
call 200 '"balance":"6.00"' POST /v1/wallets/wa/deposits "$(sign billing read,write,service)" '{"amount":"1","currency":"EUR"}' d3
call 403 '"code":"forbidden"' POST /v1/wallets/wa/freeze "$(sign billing read,write,service)" '{"reason":"x"}' f1
call 200 '"type":"wallet_frozen"' POST /v1/wallets/wa/freeze "$(sign ops admin)" '{"reason":"review"}' f2
call 200 '"status":"frozen"' GET /v1/wallets/wa "$alice"
call 200 '"status":"ready"' GET /health/ready

# Per-principal buckets: 5 at once, 2 per second back. Ten requests on one keep-alive connection
# (one curl), so that the refill during the burst is small next to the bucket.
carol=$(sign carol read)
burst=(-s --tlsv1.3 --cacert "$work/tls.crt" -H "Authorization: Bearer $carol"
  -w '%{http_code} %header{retry-after} %header{ratelimit-limit} %header{ratelimit-remaining} %header{ratelimit-reset}\n')
for _ in $(seq 1 10); do burst+=("$base/v1/wallets" -o /dev/null); done
curl "${burst[@]}" >"$work/burst" || fail "the burst of requests failed"
limited=0
while read -r code retry limit remaining reset; do
  [ "$code" = 429 ] || continue
  limited=$((limited + 1))
  [ "${retry:-0}" -ge 1 ] 2>/dev/null || fail "429 without Retry-After: $code $retry"
  [ "$limit" = 5 ] || fail "429 with RateLimit-Limit '$limit', expected 5"
  [ "$remaining" = 0 ] || fail "429 with RateLimit-Remaining '$remaining', expected 0"
  [[ "$reset" =~ ^[0-9]+$ ]] || fail "429 with RateLimit-Reset '$reset'"
done <"$work/burst"
[ "$limited" -ge 3 ] || fail "only $limited of 10 rapid requests were limited: $(tr '\n' ';' <"$work/burst")"
echo "ok  429 x$limited of 10 with Retry-After and RateLimit-* headers"
sleep 1.5
call 200 '"wallets"' GET /v1/wallets "$carol"
call 200 '"wallets"' GET /v1/wallets "$alice"

curl -s --tlsv1.2 --tls-max 1.2 --cacert "$work/tls.crt" -o /dev/null "$base/health/live" &&
  fail "a TLS 1.2 client was served"
echo "ok  TLS 1.2 refused"
grep -q 'Bearer\|eyJ' "$work/walletd.log" && fail "a token appears in the log"

walletd_stop
echo "PASS"
