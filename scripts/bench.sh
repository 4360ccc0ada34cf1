#!/usr/bin/env bash
# The headline benchmark (issue 6) in one command: walletd through NATS JetStream, driven and
# verified by wallet-loadtest, against the naive one-transaction-per-command baseline
# (loadtest/baselines/) on the same PostgreSQL in DURABLE mode, in the same run, for three ways of
# choosing wallets: uniform, Zipf 1.0 and 10 hot wallets. Then the in-process runtime
# (runtime_bench) on the same server. Writes every report to a folder and prints a summary table.
# Figures only: nothing about speed is asserted; a run whose verification fails exits 1.
#
#   scripts/bench.sh [WALLET_LOADTEST_OPTIONS...]     e.g. --concurrency 2048 --mix transfer=3,hold=1
#
# Steps: build walletd, wallet-reconcile, wallet-loadtest and runtime_bench (Release,
# incremental), start the services (scripts/services.sh, durable), start walletd on a fresh
# database with subjects and streams of its own run, then for each scenario run wallet-loadtest
# with --baseline (each sets up wallets of its own, s1-1..N, s2-1..N, ...; each verifies, and writes report.json,
# report.md and report.svg), stop walletd and delete its streams, run runtime_bench (uniform),
# print the summary, stop the services it started. Results go to .run/bench/<UTC timestamp>/.
#
# Environment:
#   WALLET_PG_PORT, WALLET_NATS_PORT, WALLET_NATS_MONITOR_PORT   as scripts/services.sh (ports)
#   BUILD_DIR                   build folder (Release)                      (default build)
#   WALLET_BENCH_OUT            results folder                (default .run/bench/<timestamp>)
#   WALLET_BENCH_SCENARIOS      wallet choices, space-separated  (default "uniform zipf:1.0 hot:10:0.5")
#   WALLET_BENCH_WALLETS        wallets                                     (default 100000)
#   WALLET_BENCH_DURATION_S     measured seconds per run                    (default 60)
#   WALLET_BENCH_WARMUP_S       warm-up seconds per run                     (default 10)
#   WALLET_BENCH_CONCURRENCY    jobs outstanding (closed loop), both sides  (default 1024)
#   WALLET_BENCH_TRANSFERS      runtime_bench transfers (0: skip it)        (default 200000)
#   WALLET_BENCH_QUIET_WAIT_S   longest wait for other work on the machine to stop before each
#                               measured part (0: do not wait)              (default 120)
#   WALLET_BENCH_WALLETD_ARGS   extra walletd flags, e.g. "--nats.outbox_poll_ms=10" (default none)
#   WALLET_BENCH_WALLETD        the walletd binary, e.g. a copy of an earlier build to compare
#                               with (A/B runs)                   (default BUILD_DIR/app/walletd)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${repo_root}"

export WALLET_SERVICES_MODE=durable
build_dir=${BUILD_DIR:-build}
scenarios=${WALLET_BENCH_SCENARIOS:-uniform zipf:1.0 hot:10:0.5}
wallets=${WALLET_BENCH_WALLETS:-100000}
duration_s=${WALLET_BENCH_DURATION_S:-60}
warmup_s=${WALLET_BENCH_WARMUP_S:-10}
concurrency=${WALLET_BENCH_CONCURRENCY:-1024}
transfers=${WALLET_BENCH_TRANSFERS:-200000}
quiet_wait_s=${WALLET_BENCH_QUIET_WAIT_S:-120}
walletd_args=${WALLET_BENCH_WALLETD_ARGS:-}
walletd_bin=${WALLET_BENCH_WALLETD:-${build_dir}/app/walletd}
pg_port=${WALLET_PG_PORT:-55432}
bench_name=bench
# shellcheck source=scripts/bench-lib.sh
source "${repo_root}/scripts/bench-lib.sh"

for value in "${wallets}" "${duration_s}" "${warmup_s}" "${concurrency}" "${transfers}" \
  "${quiet_wait_s}" "${pg_port}"; do
  [[ "${value}" =~ ^[0-9]+$ ]] || die "sizes, seconds and ports must be numbers, got '${value}'"
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# walletd on a fresh database, with a subject prefix and streams of this run only: a colleague's
# walletd on the same NATS server, or an earlier run's streams, cannot interfere.
start_walletd() {
  admin_psql -d postgres -c "DROP DATABASE IF EXISTS wallet_bench" \
    -c "CREATE DATABASE wallet_bench OWNER wallet"
  walletd_url="${WALLET_PG_URL%/*}/wallet_bench"
  run_id="wb$(date -u +%H%M%S)$$"
  prefix=${run_id}
  streams="${run_id^^}_CMD,${run_id^^}_EVT,${run_id^^}_DLQ"
  metrics_port=$(free_port)
  # The HTTP API is not measured here: it listens on a free loopback port without authentication
  # (scripts/bench-http.sh measures it with authentication on).
  local args=(--postgres.url="${walletd_url}" --nats.url="${WALLET_NATS_URL}" --runtime.shards=4
    --nats.subject_prefix="${prefix}" --nats.command_stream="${run_id^^}_CMD"
    --nats.event_stream="${run_id^^}_EVT" --nats.dead_letter_stream="${run_id^^}_DLQ"
    --metrics.port="${metrics_port}" --http.listen_address=127.0.0.1 --http.port="$(free_port)"
    --auth.mode=off)
  # shellcheck disable=SC2206 # split on purpose: several flags in one variable
  [[ -z "${walletd_args}" ]] || args+=(${walletd_args})
  printf '%s\n' "${args[*]}" >"${out_dir}/walletd.args"
  "${walletd_bin}" "${args[@]}" >"${out_dir}/walletd.log" 2>&1 &
  walletd_pid=$!
  local _
  for _ in $(seq 1 600); do
    grep -q '"msg":"NATS interface serving"' "${out_dir}/walletd.log" && break
    kill -0 "${walletd_pid}" 2>/dev/null || die "walletd exited at start-up (${out_dir}/walletd.log)"
    sleep 0.1
  done
  grep -q '"msg":"NATS interface serving"' "${out_dir}/walletd.log" ||
    die "walletd is not serving NATS after 60 s (${out_dir}/walletd.log)"
  log "walletd ${walletd_pid} serving: prefix ${prefix}, streams ${streams}, 4 shards"
}

stop_walletd() {
  [[ -n "${walletd_pid:-}" ]] || return 0
  # What the harness cannot see: commands walletd deferred (NAKed), redeliveries, dead letters.
  curl -sf "http://127.0.0.1:${metrics_port}/metrics" >"${out_dir}/walletd_metrics.txt" ||
    log "warning: could not read walletd's metrics"
  kill -TERM "${walletd_pid}" 2>/dev/null || true
  local rc=0
  wait "${walletd_pid}" || rc=$?
  ((rc == 0)) || log "warning: walletd exited with ${rc}"
  walletd_pid=
  "${build_dir}/loadtest/wallet-loadtest" --nats-url "${WALLET_NATS_URL}" \
    --delete-streams "${streams}" || log "warning: could not delete the streams ${streams}"
}

# One scenario: walletd and the naive baseline, same workload, one after the other.
run_scenario() { # pick wallet-prefix-flag [options...]
  local pick=$1 wallets_of=$2 dir rc=0
  shift 2
  dir="${out_dir}/${pick//:/-}"
  mkdir -p "${dir}"
  wait_quiet "${pick}"
  admin_psql -d postgres -c CHECKPOINT
  log "${pick}: ${wallets} wallets, ${concurrency} outstanding, ${warmup_s}s warm-up +" \
    "${duration_s}s, then the naive baseline the same way"
  "${build_dir}/loadtest/wallet-loadtest" --transport nats --nats-url "${WALLET_NATS_URL}" \
    --prefix "${prefix}" --pg-url "${walletd_url}" --baseline --naive-url "${naive_url}" \
    --pick "${pick}" --wallets "${wallets}" --concurrency "${concurrency}" \
    --duration "${duration_s}" --warmup "${warmup_s}" --service-pid "${walletd_pid}" \
    --title "${pick}: walletd over NATS vs the naive baseline, ${wallets} wallets" \
    --out "${dir}" --progress off "${wallets_of}" "$@" >"${dir}/stdout.txt" 2>"${dir}/stderr.txt" || rc=$?
  cat "${dir}/stdout.txt"
  ((rc == 0)) || log "warning: ${pick}: wallet-loadtest exited with ${rc} (1: verification failed)"
  echo "${rc}" >"${dir}/exit_code"
}

run_in_process() {
  ((transfers > 0)) || return 0
  wait_quiet runtime_bench
  log "runtime_bench (in process): ${wallets} wallets, ${transfers} uniform transfers"
  "${build_dir}/loadtest/runtime_bench" --database wallet_bench_inproc --wallets "${wallets}" \
    --transfers "${transfers}" --scenario uniform --json "${out_dir}/runtime_bench.json" \
    >"${out_dir}/runtime_bench.txt" 2>&1 || log "warning: runtime_bench exited with $?"
  admin_psql -d postgres -c "DROP DATABASE IF EXISTS wallet_bench_inproc"
}

result() { # folder key
  awk -v k="$2" '$1 == "RESULT" && $2 == k {print $3}' "$1/stdout.txt" 2>/dev/null
}

print_summary() {
  local pick dir uniform="" uniform_credited="" uniform_naive="" hot="" hot_credited="" verified=yes
  printf '\n== wallet-loadtest: %s wallets, closed loop %s, %ss measured after %ss warm-up,' \
    "${wallets}" "${concurrency}" "${duration_s}" "${warmup_s}"
  printf ' PostgreSQL durable, %s cores\n' "$(nproc)"
  printf 'walletd: --runtime.shards=4 %s; wallet-loadtest options: %s\n' \
    "${walletd_args:-(defaults otherwise)}" "${bench_args:-(defaults)}"
  printf '%-12s %10s %10s %9s %9s %10s %10s %9s %7s %8s  %s\n' scenario "walletd/s" "credited/s" \
    "p50 ms" "p99 ms" "credit p99" "naive/s" "p99 ms" ratio "us/cmd" verified
  for pick in ${scenarios}; do
    dir="${out_dir}/${pick//:/-}"
    printf '%-12s %10.0f %10.0f %9.2f %9.2f %10.0f %10.0f %9.2f %6sx %8.0f  %s\n' "${pick}" \
      "$(result "${dir}" throughput)" "$(result "${dir}" credited_per_s)" \
      "$(result "${dir}" p50_ms)" "$(result "${dir}" p99_ms)" \
      "$(result "${dir}" transfer_complete_p99_ms)" \
      "$(result "${dir}" baseline_throughput)" "$(result "${dir}" baseline_p99_ms)" \
      "$(result "${dir}" ratio)" "$(result "${dir}" service_cpu_us_per_command)" \
      "$([[ "$(cat "${dir}/exit_code")" == 0 ]] && echo yes || echo NO)"
    [[ "$(cat "${dir}/exit_code")" == 0 ]] || verified=no
    [[ "${pick}" != uniform ]] || {
      uniform=$(result "${dir}" throughput)
      uniform_credited=$(result "${dir}" credited_per_s)
      uniform_naive=$(result "${dir}" baseline_throughput)
    }
    [[ "${pick}" != hot:* ]] || {
      hot=$(result "${dir}" throughput)
      hot_credited=$(result "${dir}" credited_per_s)
    }
  done
  printf '(walletd/s: answers per second of the measured window; credited/s: transfers whose credit\n'
  printf ' event reached the event stream per second; p50/p99 from the send to the answer; credit\n'
  printf ' p99 from the send to the credit event, ms; us/cmd: walletd CPU time per command sent,\n'
  printf ' warm-up included)\n\n'
  if [[ -n "${uniform}" ]]; then
    local r
    r=$(ratio "${uniform}" "${uniform_naive}")
    printf 'NATS path / naive, uniform     %sx   target >= 3x: %s\n' "${r}" "$(verdict "${r}" 3 ge)"
    r=$(ratio "${uniform_credited}" "${uniform_naive}")
    printf '  the same, credited / naive   %sx   target >= 3x: %s\n' "${r}" "$(verdict "${r}" 3 ge)"
  fi
  if [[ -n "${uniform}" && -n "${hot}" ]]; then
    local r
    r=$(ratio "${hot}" "${uniform}")
    printf 'hot / uniform (NATS path)      %s    target >= 0.80: %s\n' "${r}" "$(verdict "${r}" 0.8 ge)"
    r=$(ratio "${hot_credited}" "${uniform_credited}")
    printf '  the same, credited           %s    target >= 0.80: %s\n' "${r}" "$(verdict "${r}" 0.8 ge)"
  fi
  if [[ -s "${out_dir}/runtime_bench.txt" && -n "${uniform_naive}" ]]; then
    local inproc r
    inproc=$(awk '$1 == "RESULT" && $2 == "uniform_completed_per_s" {print $3}' \
      "${out_dir}/runtime_bench.txt")
    r=$(ratio "${inproc:-0}" "${uniform_naive}")
    printf 'in-process / naive, uniform    %sx   target >= 5x: %s (runtime_bench %.0f transfers/s)\n' \
      "${r}" "$(verdict "${r}" 5 ge)" "${inproc:-0}"
  fi
  printf 'every run verified: %s\n' "${verified}"
  if [[ -s "${out_dir}/noise.txt" ]]; then
    printf '\nwarning: other work was running on the machine:\n'
    cat "${out_dir}/noise.txt"
  fi
  printf '\nreports: %s/<scenario>/report.{md,json,svg}\n' "${out_dir}"
}

# Everything that needs the services; runs inside `scripts/services.sh run`, which exports
# WALLET_PG_URL and WALLET_NATS_URL and stops the services it started when this returns.
inner() {
  check_durable
  naive_url="${WALLET_PG_URL%/*}/wallet_naive"
  admin_psql -d postgres -c "DROP DATABASE IF EXISTS wallet_naive" \
    -c "CREATE DATABASE wallet_naive OWNER wallet" \
    -c "GRANT pg_checkpoint TO wallet" # runtime_bench checkpoints before each timed phase
  trap stop_walletd EXIT
  start_walletd
  bench_args="$*"
  local pick n=0
  # Each scenario sets up and drives wallets of its own (s1-1..N, s2-1..N, ...), on both sides: a
  # scenario's figures and verification do not depend on what the ones before it did to their
  # wallets (their balances, and their idempotency keys within the retention).
  for pick in ${scenarios}; do
    n=$((n + 1))
    run_scenario "${pick}" "--wallet-prefix=s${n}-" "$@"
  done
  stop_walletd
  admin_psql -d postgres -c "DROP DATABASE IF EXISTS wallet_naive"
  run_in_process
  print_summary | tee "${out_dir}/summary.txt"
  grep -q '^every run verified: yes' "${out_dir}/summary.txt"
}

if [[ "${1:-}" == --inner ]]; then
  shift
  out_dir=$1
  shift
  inner "$@"
  exit $?
fi

[[ "${1:-}" != -h && "${1:-}" != --help ]] || {
  sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"
  exit 0
}
out_dir=${WALLET_BENCH_OUT:-${repo_root}/.run/bench/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "${out_dir}"
out_dir=$(cd "${out_dir}" && pwd)
log "building walletd, wallet-reconcile, wallet-loadtest and runtime_bench (Release) in ${build_dir}"
cmake -S . -B "${build_dir}" -DCMAKE_BUILD_TYPE=Release >"${out_dir}/build.log" 2>&1 ||
  die "configure failed (${out_dir}/build.log)"
cmake --build "${build_dir}" -j"$(nproc)" \
  --target walletd wallet-reconcile wallet-loadtest runtime_bench >>"${out_dir}/build.log" 2>&1 ||
  die "build failed (${out_dir}/build.log)"
grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "${build_dir}/CMakeCache.txt" ||
  die "${build_dir} is not a Release build"
exec bash scripts/services.sh run -- bash "${BASH_SOURCE[0]}" --inner "${out_dir}" "$@"
