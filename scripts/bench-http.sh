#!/usr/bin/env bash
# Issue 5's benchmark in one command: walletd's HTTP API driven by wrk (loadtest/http/wallet.lua)
# over keep-alive connections with authentication ON (JWT bearer tokens verified against a JWK Set
# file, both made by wallet-token), deposits and transfers, against the in-process actor runtime
# (runtime_bench, uniform transfers) on the same PostgreSQL in DURABLE mode, in the same run: what
# the HTTP layer costs. Prints requests/s, latency p50/p99, CPU per request and the ratios
# (deposits and transfers each against the in-process transfers); figures only, nothing is
# asserted about speed (a run whose answers are not all 2xx is reported, and exits 1).
#
#   scripts/bench-http.sh
#
# A fair ratio compares the same load: runtime_bench runs with as many transfers outstanding as wrk
# has connections (--concurrency = WALLET_BENCH_CONNECTIONS, each connection has one request in
# flight), and the target's ratio is taken against that figure. It runs a second time at its own
# default concurrency (8,192 outstanding), for reference only: far more commands in flight fill
# the store's batches (hundreds of writes per commit instead of tens), which no HTTP change can
# match with 512 connections. The summary prints both, and the mean writes per store batch of every
# part (walletd's from its /metrics before and after each wrk run).
#
# Every route is measured from the same starting state: each wrk run gets its own walletd on its
# own fresh database (the same wallets, opened and funded the same way, then a CHECKPOINT, as
# runtime_bench does before its timed phase). A transfer phase run on the database a deposit
# phase had just written cost PostgreSQL more the more deposits came before it, so a faster
# deposit phase made the transfers look slower (session 9's A/B).
#
# Steps: build walletd, wallet-token and runtime_bench (Release, incremental), start the services
# (scripts/services.sh, durable), make a signing key, its JWK Set and a token (sub "bench", roles
# read and write); then for each route of WALLET_BENCH_ROUTES: start walletd on a fresh database
# with auth.mode=jwt and rate limits far above the load, open and fund the wallets over HTTP,
# CHECKPOINT, run wrk, stop walletd, drop its database and streams. Then run runtime_bench
# (uniform) at wrk's concurrency and at its default, print the summary, stop the services it
# started. Results go to .run/bench/http-<UTC timestamp>/ (summary.txt, per route wrk-<route>.txt,
# walletd-<route>.log and walletd_metrics-<route>.txt, runtime_bench-matched.txt and
# runtime_bench-default.txt).
#
# Environment:
#   WALLET_PG_PORT, WALLET_NATS_PORT, WALLET_NATS_MONITOR_PORT   as scripts/services.sh (ports)
#   BUILD_DIR                   build folder (Release)                      (default build)
#   WALLET_BENCH_OUT            results folder           (default .run/bench/http-<timestamp>)
#   WALLET_BENCH_WALLETS        wallets, both sides                         (default 1000)
#   WALLET_BENCH_DURATION_S     measured seconds per wrk run                (default 30)
#   WALLET_BENCH_CONNECTIONS    wrk keep-alive connections (closed loop), and runtime_bench's
#                               outstanding transfers of the matched run    (default 512)
#   WALLET_BENCH_THREADS        wrk threads                                 (default 2)
#   WALLET_BENCH_ROUTES         the routes measured, in this order, each on its own walletd and
#                               fresh database: deposit, transfer or both
#                                                               (default "deposit transfer")
#   WALLET_BENCH_TRANSFERS      runtime_bench transfers per run (0: skip it) (default 100000)
#   WALLET_BENCH_INPROC_DEFAULT 1: also run runtime_bench at its default concurrency, for
#                               reference; 0: only the matched run          (default 1)
#   WALLET_BENCH_QUIET_WAIT_S   longest wait for other work on the machine to stop before each
#                               measured part (0: do not wait)              (default 120)
#   WALLET_BENCH_WALLETD_ARGS   extra walletd flags, e.g. "--http.threads=4"  (default none)
#   WALLET_BENCH_BUILD          0: measure the binaries already in BUILD_DIR, build nothing (e.g.
#                               while another build runs there)             (default 1)
#   WALLET_BENCH_WALLETD        the walletd binary to measure, e.g. a copy of another build's for
#                               an A/B comparison             (default BUILD_DIR/app/walletd)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${repo_root}"

export WALLET_SERVICES_MODE=durable
build_dir=${BUILD_DIR:-build}
wallets=${WALLET_BENCH_WALLETS:-1000}
duration_s=${WALLET_BENCH_DURATION_S:-30}
connections=${WALLET_BENCH_CONNECTIONS:-512}
wrk_threads=${WALLET_BENCH_THREADS:-2}
routes=${WALLET_BENCH_ROUTES:-deposit transfer}
transfers=${WALLET_BENCH_TRANSFERS:-100000}
inproc_default=${WALLET_BENCH_INPROC_DEFAULT:-1}
quiet_wait_s=${WALLET_BENCH_QUIET_WAIT_S:-120}
walletd_args=${WALLET_BENCH_WALLETD_ARGS:-}
walletd_bin=${WALLET_BENCH_WALLETD:-${build_dir}/app/walletd}
pg_port=${WALLET_PG_PORT:-55432}
bench_name=bench-http
# shellcheck source=scripts/bench-lib.sh
source "${repo_root}/scripts/bench-lib.sh"

for value in "${wallets}" "${duration_s}" "${connections}" "${wrk_threads}" "${transfers}" \
  "${inproc_default}" "${quiet_wait_s}" "${pg_port}"; do
  [[ "${value}" =~ ^[0-9]+$ ]] || die "sizes, seconds and ports must be numbers, got '${value}'"
done
((wallets >= 2)) || die "WALLET_BENCH_WALLETS must be at least 2"
((connections >= 1)) || die "WALLET_BENCH_CONNECTIONS must be at least 1"
read -r -a routes <<<"${routes}"
((${#routes[@]} >= 1)) || die "WALLET_BENCH_ROUTES names no route"
for mode in "${routes[@]}"; do
  [[ "${mode}" == deposit || "${mode}" == transfer ]] ||
    die "WALLET_BENCH_ROUTES: deposit or transfer, got '${mode}'"
done
command -v wrk >/dev/null || die "wrk is not installed (bash scripts/install-deps.sh)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

issuer=https://issuer.bench
audience=wallet-engine

make_credentials() {
  local tool="${build_dir}/tests/adapters/auth/wallet-token"
  "${tool}" keygen ec "${out_dir}/key.pem" >/dev/null
  "${tool}" jwks "${out_dir}/key.pem" bench >"${out_dir}/jwks.json"
  # Valid for the whole run: a token that expired mid-run would turn the figures into 401s.
  token=$("${tool}" sign "${out_dir}/key.pem" --kid=bench --iss="${issuer}" --aud="${audience}" \
    --sub=bench --roles=read,write --ttl-s=7200)
}

start_walletd() { # route: names its log and metrics files
  local route=$1
  admin_psql -d postgres -c "DROP DATABASE IF EXISTS wallet_bench_http" \
    -c "CREATE DATABASE wallet_bench_http OWNER wallet"
  walletd_url="${WALLET_PG_URL%/*}/wallet_bench_http"
  run_id="bh${route:0:1}$(date -u +%H%M%S)$$"
  streams="${run_id^^}_CMD,${run_id^^}_EVT,${run_id^^}_DLQ"
  metrics_port=$(free_port)
  http_port=$(free_port)
  local args=(--postgres.url="${walletd_url}" --nats.url="${WALLET_NATS_URL}" --runtime.shards=4
    --nats.subject_prefix="${run_id}" --nats.command_stream="${run_id^^}_CMD"
    --nats.event_stream="${run_id^^}_EVT" --nats.dead_letter_stream="${run_id^^}_DLQ"
    --metrics.port="${metrics_port}" --http.port="${http_port}"
    --auth.mode=jwt --auth.issuer="${issuer}" --auth.audience="${audience}"
    --auth.jwks_file="${out_dir}/jwks.json"
    --rate_limit.principal_burst=1000000 --rate_limit.principal_per_second=1000000)
  # shellcheck disable=SC2206 # split on purpose: several flags in one variable
  [[ -z "${walletd_args}" ]] || args+=(${walletd_args})
  printf '%s %s\n' "${walletd_bin}" "${args[*]}" >"${out_dir}/walletd-${route}.args"
  walletd_log="${out_dir}/walletd-${route}.log"
  walletd_metrics="${out_dir}/walletd_metrics-${route}.txt"
  "${walletd_bin}" "${args[@]}" >"${walletd_log}" 2>&1 &
  walletd_pid=$!
  local _
  for _ in $(seq 1 600); do
    grep -q '"msg":"HTTP API serving"' "${walletd_log}" && break
    kill -0 "${walletd_pid}" 2>/dev/null || die "walletd exited at start-up (${walletd_log})"
    sleep 0.1
  done
  grep -q '"msg":"HTTP API serving"' "${walletd_log}" ||
    die "walletd is not serving HTTP after 60 s (${walletd_log})"
  grep -q '"msg":"authentication: JWT bearer tokens"' "${walletd_log}" ||
    die "walletd does not authenticate with JWTs (${walletd_log})"
  log "walletd ${walletd_pid} serving HTTP on port ${http_port}, auth on, 4 shards, fresh database"
}

stop_walletd() {
  [[ -n "${walletd_pid:-}" ]] || return 0
  curl -sf "http://127.0.0.1:${metrics_port}/metrics" >"${walletd_metrics}" ||
    log "warning: could not read walletd's metrics"
  kill -TERM "${walletd_pid}" 2>/dev/null || true
  local rc=0
  wait "${walletd_pid}" || rc=$?
  ((rc == 0)) || log "warning: walletd exited with ${rc}"
  walletd_pid=
}

# Opens bench-1 .. bench-N and deposits 1,000,000.00 EUR into each, over one keep-alive connection.
setup_wallets() {
  log "opening and funding ${wallets} wallets over HTTP"
  python3 - "${http_port}" "${wallets}" "${token}" "${run_id}" <<'PY'
import http.client, json, sys
port, n, token, run = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
def post(path, body, key, want):
    c.request("POST", path, json.dumps(body), {"Authorization": "Bearer " + token,
              "Content-Type": "application/json", "Idempotency-Key": key})
    r = c.getresponse()
    text = r.read()
    if r.status != want:
        sys.exit(f"{path}: {r.status} {text[:300]!r}")
for i in range(1, n + 1):
    post("/v1/wallets", {"wallet_id": f"bench-{i}", "currency": "EUR"}, f"{run}-open-{i}", 201)
    post(f"/v1/wallets/bench-{i}/deposits", {"amount": "1000000.00", "currency": "EUR"},
         f"{run}-fund-{i}", 200)
PY
}

# CPU clock ticks (user + system) of `pid` and its direct children: PostgreSQL's postmaster and
# backends (a process's own figure holds all its threads). 0 when the process is gone. `cat`
# reads the files, not awk: mawk gives up on the first process that exits meanwhile.
cpu_ticks() { # pid
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$1" '{ rest = $0; sub(/^[^)]*\) /, "", rest)
    split(rest, f, " "); if ($1 == root || f[2] == root) total += f[12] + f[13] }
    END { print total + 0 }'
}

# Context switches (voluntary and not) of every thread of `pid`: walletd's threads live as long
# as it does, so the difference over a part counts that part's thread hand-offs.
ctx_switches() { # pid
  cat /proc/"$1"/task/*/status 2>/dev/null |
    awk '$1 ~ /^(non)?voluntary_ctxt_switches:$/ { n += $2 } END { print n + 0 }'
}

# CPU clock ticks (user + system) of walletd's HTTP server threads (named http.io): the part of
# walletd's CPU the HTTP layer's changes act on most directly.
http_thread_ticks() { # pid
  { cat /proc/"$1"/task/*/stat 2>/dev/null || true; } | awk '{ name = $0
    sub(/^[^(]*\(/, "", name); sub(/\).*$/, "", name); if (name != "http.io") next
    rest = $0; sub(/^[^)]*\) /, "", rest); split(rest, f, " "); total += f[12] + f[13] }
    END { print total + 0 }'
}

# The processes whose CPU time per request the summary reports (wrk's comes from `times`).
find_service_pids() {
  local checkpointer
  checkpointer=$(admin_psql -d postgres -tAc \
    "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
  postmaster_pid=$(awk '{ rest = $0; sub(/^[^)]*\) /, "", rest); split(rest, f, " "); print f[2] }' \
    "/proc/${checkpointer}/stat" 2>/dev/null || true)
  nats_pid=$(cat "${WALLET_RUN_DIR:-${repo_root}/.run}/nats-${WALLET_NATS_PORT:-54222}/nats.pid" \
    2>/dev/null || true)
}

# "<sum> <count>" of walletd's wallet_store_batch_writes histogram (every shard): the mean writes
# per store batch of a part is the difference of the sums over the difference of the counts.
batch_totals() {
  curl -sf "http://127.0.0.1:${metrics_port}/metrics" | awk '
    $1 ~ /^wallet_store_batch_writes_sum/ { s += $2 } $1 ~ /^wallet_store_batch_writes_count/ { c += $2 }
    END { printf "%.0f %.0f\n", s, c }' || echo "0 0"
}

run_wrk() { # mode
  local mode=$1 before_walletd before_http before_pg before_nats wrk_times before_batches before_switches
  wait_quiet "wrk ${mode}"
  log "wrk ${mode}s: ${wrk_threads} threads, ${connections} keep-alive connections, ${duration_s}s," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "load average before ${mode}s: $(cut -d' ' -f1-3 /proc/loadavg)" >>"${out_dir}/load.txt"
  before_batches=$(batch_totals)
  before_walletd=$(cpu_ticks "${walletd_pid}")
  before_http=$(http_thread_ticks "${walletd_pid}")
  before_switches=$(ctx_switches "${walletd_pid}")
  before_pg=$(cpu_ticks "${postmaster_pid:-0}")
  before_nats=$(cpu_ticks "${nats_pid:-0}")
  # `times` in the subshell: the CPU time wrk used (its only child).
  wrk_times=$( (wrk -t "${wrk_threads}" -c "${connections}" -d "${duration_s}s" --latency \
    --timeout 10s -s loadtest/http/wallet.lua "http://127.0.0.1:${http_port}" \
    -- "${mode}" "${wallets}" bench "${token}" "${run_id}-${mode}" >"${out_dir}/wrk-${mode}.txt" 2>&1 ||
    log "warning: wrk ${mode} exited with $?" >&2
    times) | tail -n 1)
  {
    echo "RESULT walletd_cpu_ticks $(($(cpu_ticks "${walletd_pid}") - before_walletd))"
    echo "RESULT http_threads_cpu_ticks $(($(http_thread_ticks "${walletd_pid}") - before_http))"
    echo "RESULT walletd_ctx_switches $(($(ctx_switches "${walletd_pid}") - before_switches))"
    echo "RESULT postgres_cpu_ticks $(($(cpu_ticks "${postmaster_pid:-0}") - before_pg))"
    echo "RESULT nats_cpu_ticks $(($(cpu_ticks "${nats_pid:-0}") - before_nats))"
    # "XmY.YYYs XmY.YYYs": user and system seconds of the children.
    awk '{ t = 0; for (i = 1; i <= 2; ++i) { split($i, m, "m"); t += m[1] * 60 + m[2] }
      printf "RESULT wrk_cpu_s %.3f\n", t }' <<<"${wrk_times}"
    # The batches of the transfers' saga credits may commit a moment after wrk ends: counted too.
    awk -v a="${before_batches}" -v b="$(batch_totals)" 'BEGIN { split(a, x, " "); split(b, y, " ")
      n = y[2] - x[2]; printf "RESULT batch_writes_mean %.1f\n", (n > 0 ? (y[1] - x[1]) / n : 0) }'
    echo "RESULT load_after $(cut -d' ' -f1 /proc/loadavg)"
  } >>"${out_dir}/wrk-${mode}.txt"
  echo "load average after ${mode}s: $(cut -d' ' -f1-3 /proc/loadavg)" >>"${out_dir}/load.txt"
  grep -v '^RESULT' "${out_dir}/wrk-${mode}.txt"
}

# runtime_bench, uniform transfers, in process: `label` names its output (runtime_bench-LABEL.txt),
# the rest are extra flags.
run_runtime_bench() { # label [flags...]
  local label=$1
  shift
  wait_quiet "runtime_bench ${label}"
  echo "load average before runtime_bench ${label}: $(cut -d' ' -f1-3 /proc/loadavg)" \
    >>"${out_dir}/load.txt"
  log "runtime_bench (in process, ${label}): ${wallets} wallets, ${transfers} uniform transfers $*"
  "${build_dir}/loadtest/runtime_bench" --database wallet_bench_http_inproc --wallets "${wallets}" \
    --transfers "${transfers}" --scenario uniform "$@" --json "${out_dir}/runtime_bench-${label}.json" \
    >"${out_dir}/runtime_bench-${label}.txt" 2>&1 || log "warning: runtime_bench exited with $?"
  echo "load average after runtime_bench ${label}: $(cut -d' ' -f1-3 /proc/loadavg)" \
    >>"${out_dir}/load.txt"
  admin_psql -d postgres -c "DROP DATABASE IF EXISTS wallet_bench_http_inproc"
}

run_in_process() {
  ((transfers > 0)) || return 0
  admin_psql -d postgres -c "GRANT pg_checkpoint TO wallet"
  # The same load as wrk's: one command in flight per connection.
  run_runtime_bench matched --concurrency "${connections}"
  ((inproc_default == 0)) || run_runtime_bench default
}

wrk_result() { # mode key
  awk -v k="$2" '$1 == "RESULT" && $2 == k {print $3}' "${out_dir}/wrk-$1.txt" 2>/dev/null
}

rb_result() { # label key: a RESULT of runtime_bench-LABEL.txt
  awk -v k="$2" '$1 == "RESULT" && $2 == k {print $3}' "${out_dir}/runtime_bench-$1.txt" 2>/dev/null
}

# The in-process runs' lines of the summary, and the ratios to the matched one.
print_in_process() {
  local label what inproc mode r
  printf '\nruntime_bench in process, uniform transfers (the same PostgreSQL, no HTTP, no NATS):\n'
  printf '%-34s %12s %9s %9s %11s %10s %9s\n' run "transfers/s" "p50 ms" "p99 ms" "batch mean" \
    "app us/xf" "pg us/xf"
  for label in matched default; do
    [[ -s "${out_dir}/runtime_bench-${label}.txt" ]] || continue
    what=$([[ "${label}" == matched ]] && echo "${connections} outstanding (= wrk's)" ||
      echo "8192 outstanding (default, ref.)")
    printf '%-34s %12.0f %9s %9s %11s %10s %9s\n' "${what}" \
      "$(rb_result "${label}" uniform_answered_per_s)" "$(rb_result "${label}" uniform_p50_ms)" \
      "$(rb_result "${label}" uniform_p99_ms)" "$(rb_result "${label}" uniform_batch_writes_mean)" \
      "$(rb_result "${label}" uniform_app_us)" "$(rb_result "${label}" uniform_pg_us)"
  done
  printf '(transfers/s: debits answered; CPU per transfer of runtime_bench itself and of PostgreSQL)\n\n'
  for label in matched default; do
    [[ -s "${out_dir}/runtime_bench-${label}.txt" ]] || continue
    inproc=$(rb_result "${label}" uniform_answered_per_s)
    for mode in "${routes[@]}"; do
      r=$(ratio "$(wrk_result "${mode}" requests_per_s)" "${inproc:-0}")
      if [[ "${label}" == matched ]]; then
        printf 'HTTP %-9s / in-process transfers, same concurrency   %s   target >= 0.50: %s\n' \
          "${mode}s" "${r}" "$(verdict "${r}" 0.5 ge)"
      else
        printf 'HTTP %-9s / in-process transfers, default (reference) %s\n' "${mode}s" "${r}"
      fi
    done
  done
}

print_summary() {
  local mode ok=yes expected requests good
  printf '\n== walletd HTTP API, auth on (ES256 JWT), wrk %s threads x %s keep-alive connections,' \
    "${wrk_threads}" "${connections}"
  printf ' %ss each, %s wallets, PostgreSQL durable, %s cores\n' "${duration_s}" "${wallets}" "$(nproc)"
  printf 'walletd: --runtime.shards=4 %s\n' "${walletd_args:-(defaults otherwise)}"
  printf '%-10s %12s %9s %9s %10s %11s  %s\n' route "requests/s" "p50 ms" "p99 ms" requests \
    "batch mean" "answers"
  for mode in "${routes[@]}"; do
    expected=$([[ "${mode}" == deposit ]] && echo 200 || echo 202)
    requests=$(wrk_result "${mode}" requests)
    good=$(wrk_result "${mode}" "status_${expected}")
    printf '%-10s %12.0f %9.2f %9.2f %10s %11s  %s\n' "${mode}s" \
      "$(wrk_result "${mode}" requests_per_s)" "$(wrk_result "${mode}" p50_ms)" \
      "$(wrk_result "${mode}" p99_ms)" "${requests:-0}" "$(wrk_result "${mode}" batch_writes_mean)" \
      "$(awk '$1 == "RESULT" && $2 ~ /^status_/ {sub("status_", "", $2); printf "%s:%s ", $2, $3}' \
        "${out_dir}/wrk-${mode}.txt")"
    [[ -n "${requests}" && "${requests}" == "${good:-0}" && "$(wrk_result "${mode}" errors)" == 0 ]] ||
      ok=no
  done
  # CPU time per request: much less sensitive than requests/s to other work on a shared machine.
  printf '\nCPU us per request  %9s %13s %11s %12s %6s %18s\n' walletd "(HTTP threads)" \
    PostgreSQL nats-server wrk "walletd ctx sw/req"
  for mode in "${routes[@]}"; do
    requests=$(wrk_result "${mode}" requests)
    awk -v n="${requests:-0}" -v w="$(wrk_result "${mode}" walletd_cpu_ticks)" \
      -v h="$(wrk_result "${mode}" http_threads_cpu_ticks)" \
      -v p="$(wrk_result "${mode}" postgres_cpu_ticks)" -v s="$(wrk_result "${mode}" nats_cpu_ticks)" \
      -v k="$(wrk_result "${mode}" wrk_cpu_s)" -v c="$(wrk_result "${mode}" walletd_ctx_switches)" \
      -v hz="$(getconf CLK_TCK)" -v m="${mode}s" 'BEGIN {
        if (n == 0) n = 1
        printf "%-18s  %9.0f %13.0f %11.0f %12.0f %6.0f %18.2f\n", m, w * 1e6 / hz / n,
          h * 1e6 / hz / n, p * 1e6 / hz / n,
          s * 1e6 / hz / n, k * 1e6 / n, c / n }'
  done
  ((transfers == 0)) || print_in_process
  printf 'every answer 2xx: %s\n' "${ok}"
  printf '\n'
  cat "${out_dir}/load.txt"
  if [[ -s "${out_dir}/noise.txt" ]]; then
    printf '\nwarning: other work was running on the machine:\n'
    cat "${out_dir}/noise.txt"
  fi
  printf '\nresults: %s\n' "${out_dir}"
}

# The database and the NATS streams of the walletd just stopped. The streams go only when
# wallet-loadtest is built (scripts/bench.sh builds it).
drop_walletd_data() {
  if [[ -x "${build_dir}/loadtest/wallet-loadtest" ]]; then
    "${build_dir}/loadtest/wallet-loadtest" --nats-url "${WALLET_NATS_URL}" \
      --delete-streams "${streams}" >/dev/null 2>&1 || log "warning: streams ${streams} not deleted"
  fi
  admin_psql -d postgres -c "DROP DATABASE IF EXISTS wallet_bench_http"
}

# Everything that needs the services; runs inside `scripts/services.sh run`, which exports
# WALLET_PG_URL and WALLET_NATS_URL and stops the services it started when this returns.
inner() {
  check_durable
  find_service_pids
  make_credentials
  trap stop_walletd EXIT
  local mode
  for mode in "${routes[@]}"; do
    start_walletd "${mode}"
    setup_wallets
    # The set-up's writes on disk before the measured part, as runtime_bench does.
    admin_psql -d postgres -c CHECKPOINT
    run_wrk "${mode}"
    stop_walletd
    drop_walletd_data
  done
  run_in_process
  print_summary | tee "${out_dir}/summary.txt"
  grep -q '^every answer 2xx: yes' "${out_dir}/summary.txt"
}

if [[ "${1:-}" == --inner ]]; then
  shift
  out_dir=$1
  inner
  exit $?
fi

[[ "${1:-}" != -h && "${1:-}" != --help ]] || {
  sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"
  exit 0
}
out_dir=${WALLET_BENCH_OUT:-${repo_root}/.run/bench/http-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "${out_dir}"
out_dir=$(cd "${out_dir}" && pwd)
if [[ "${WALLET_BENCH_BUILD:-1}" != 0 ]]; then
  log "building walletd, wallet-token and runtime_bench (Release) in ${build_dir}"
  cmake -S . -B "${build_dir}" -DCMAKE_BUILD_TYPE=Release >"${out_dir}/build.log" 2>&1 ||
    die "configure failed (${out_dir}/build.log)"
  # nice: the machine may be shared, and the build is not what is measured.
  nice -n 19 cmake --build "${build_dir}" -j"$(nproc)" \
    --target walletd wallet-token runtime_bench >>"${out_dir}/build.log" 2>&1 ||
    die "build failed (${out_dir}/build.log)"
fi
grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "${build_dir}/CMakeCache.txt" ||
  die "${build_dir} is not a Release build"
exec bash scripts/services.sh run -- bash "${BASH_SOURCE[0]}" --inner "${out_dir}"
