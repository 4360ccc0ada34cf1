#!/usr/bin/env bash
# Issue 3's benchmark in one command: the actor runtime in process (runtime_bench) against the naive
# one-transaction-per-transfer baseline (pgbench, loadtest/baselines/), on one local PostgreSQL in
# DURABLE mode (fsync on, synchronous_commit on), in the same run. Prints a table with both figures,
# the ratios and the latency figures; figures only, nothing is asserted about speed.
#
#   scripts/bench-runtime.sh [RUNTIME_BENCH_OPTIONS...]     e.g. --shards 8 --threads 2
#
# Steps: build runtime_bench (incremental), start the services (scripts/services.sh, durable),
# load the naive schema and wallets, run pgbench uniform and hot (32 clients), run runtime_bench
# (set-up, uniform, hot, open loop at half the uniform peak), print the summary, stop the services
# it started. Results go to .run/bench/<UTC timestamp>/ (summary.txt, runtime_bench.json, logs).
#
# Environment:
#   WALLET_PG_PORT, WALLET_NATS_PORT, WALLET_NATS_MONITOR_PORT   as scripts/services.sh (ports)
#   BUILD_DIR                   build folder                              (default build)
#   WALLET_BENCH_OUT            results folder                  (default .run/bench/<timestamp>)
#   WALLET_BENCH_WALLETS        wallets, both sides                       (default 100000)
#   WALLET_BENCH_TRANSFERS      transfers per runtime_bench scenario      (default 200000)
#   WALLET_BENCH_PGBENCH_S      seconds per pgbench run                   (default 60)
#   WALLET_BENCH_PGBENCH_CLIENTS pgbench clients                          (default 32)
#   WALLET_BENCH_QUIET_WAIT_S   longest wait for other work on the machine to stop before each
#                               measured part (0: do not wait)            (default 120)
#   WALLET_BENCH_NICE           niceness of everything measured: the PostgreSQL server (reniced
#                               once started), pgbench and runtime_bench, e.g. -10 on a shared
#                               machine so that other people's builds yield to both sides
#                               alike (negative values need root)         (default 0: unchanged)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${repo_root}"

export WALLET_SERVICES_MODE=durable
build_dir=${BUILD_DIR:-build}
wallets=${WALLET_BENCH_WALLETS:-100000}
transfers=${WALLET_BENCH_TRANSFERS:-200000}
pgbench_s=${WALLET_BENCH_PGBENCH_S:-60}
clients=${WALLET_BENCH_PGBENCH_CLIENTS:-32}
quiet_wait_s=${WALLET_BENCH_QUIET_WAIT_S:-120}
niceness=${WALLET_BENCH_NICE:-0}
pg_port=${WALLET_PG_PORT:-55432}
bench_name=bench-runtime
# shellcheck source=scripts/bench-lib.sh
source "${repo_root}/scripts/bench-lib.sh"

for value in "${wallets}" "${transfers}" "${pgbench_s}" "${clients}" "${quiet_wait_s}" "${pg_port}"; do
  [[ "${value}" =~ ^[0-9]+$ ]] || die "sizes, seconds and ports must be numbers, got '${value}'"
done
[[ "${niceness}" =~ ^-?[0-9]+$ ]] || die "WALLET_BENCH_NICE must be a number, got '${niceness}'"

# ---------------------------------------------------------------------------------------------------
# Helpers (used inside the services, see the end of the file)
# ---------------------------------------------------------------------------------------------------

# p50 and p99 of pgbench per-transaction logs (column 3: latency in microseconds), in ms.
pgbench_percentiles() { # log prefix
  cat "$1".* 2>/dev/null | awk '{print $3}' | sort -n |
    awk '{v[NR] = $1} END {
      if (NR == 0) { print "nan nan"; exit }
      p50 = v[int(0.50 * (NR - 1)) + 1]; p99 = v[int(0.99 * (NR - 1)) + 1];
      printf "%.2f %.2f\n", p50 / 1000, p99 / 1000 }'
}

# CPU seconds (user + system) of the local server: its postmaster and every child process.
server_cpu_s() { # postmaster pid
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$1" -v tick="$(getconf CLK_TCK)" '{
    i = index($0, ") "); split(substr($0, i + 2), f, " ");
    if ($1 == pm || f[2] == pm) s += f[12] + f[13] } END { printf "%.2f\n", s / tick }'
}

process_cpu_s() { # pid
  local line
  line=$(cat "/proc/$1/stat" 2>/dev/null) || line="0 (gone) X 0 0 0 0 0 0 0 0 0 0 0 0"
  awk -v line="${line}" -v tick="$(getconf CLK_TCK)" 'BEGIN {
    i = index(line, ") "); split(substr(line, i + 2), f, " "); printf "%.2f\n", (f[12] + f[13]) / tick }'
}

machine_busy_s() {
  awk -v tick="$(getconf CLK_TCK)" '/^cpu /{ printf "%.2f\n", ($2+$3+$4+$7+$8+$9) / tick }' /proc/stat
}

# "wall pg pgbench machine": CPU seconds so far of the server, of pgbench and of the whole machine.
cpu_snapshot() { # pgbench pid
  printf '%s %s %s %s\n' "${EPOCHREALTIME}" "$(server_cpu_s "${postmaster}")" \
    "$(process_cpu_s "$1")" "$(machine_busy_s)"
}

# Cores used by the server, by pgbench and by the whole machine over the steady middle of a pgbench
# run (connections made, none closed yet): "pg pgbench machine".
sample_pgbench_cpu() { # pgbench pid, seconds
  local margin=$(($2 >= 20 ? 5 : 1)) a b
  sleep "${margin}"
  a=$(cpu_snapshot "$1")
  sleep "$(($2 - 2 * margin))"
  b=$(cpu_snapshot "$1")
  awk -v a="${a}" -v b="${b}" 'BEGIN { split(a, x, " "); split(b, y, " "); w = y[1] - x[1];
    printf "%.2f %.2f %.2f\n", (y[2]-x[2])/w, (y[3]-x[3])/w, (y[4]-x[4])/w }'
}

run_pgbench() { # name script
  local name=$1 script=$2 prefix="${out_dir}/pgbench_$1"
  wait_quiet "pgbench ${name}"
  admin_psql -d postgres -c CHECKPOINT
  log "pgbench ${name}: ${clients} clients, ${pgbench_s}s, ${script##*/}"
  (cd "${out_dir}" && exec nice -n "${niceness}" pgbench -n -M prepared -c "${clients}" -j 2 -T "${pgbench_s}" \
    -D wallets="${wallets}" -f "${script}" -l --log-prefix="pgbench_${name}" "${naive_url}") \
    >"${prefix}.txt" 2>&1 &
  local pid=$! cpu
  cpu=$(sample_pgbench_cpu "${pid}" "${pgbench_s}")
  wait "${pid}" || {
    cat "${prefix}.txt" >&2
    die "pgbench ${name} failed"
  }
  local tps failed latency per_transfer
  tps=$(awk '/^tps = /{print $3}' "${prefix}.txt")
  failed=$(awk '/^number of failed transactions/{print $5}' "${prefix}.txt")
  latency=$(pgbench_percentiles "${prefix}")
  # CPU per transfer: the server's and pgbench's (the application side), in microseconds.
  per_transfer=$(awk -v c="${cpu}" -v t="${tps}" 'BEGIN { split(c, x, " ");
    printf "%.0f %.0f", 1e6 * x[1] / t, 1e6 * x[2] / t }')
  # tps p50 p99 failed pg_cores pgbench_cores machine_cores pg_us_per_transfer app_us_per_transfer
  printf '%s %s %s %s %s\n' "${tps}" "${latency}" "${failed:-0}" "${cpu}" "${per_transfer}" \
    >"${out_dir}/pgbench_${name}.result"
  rm -f "${prefix}".[0-9]* # per-transaction logs: large, summarised above
  log "pgbench ${name}: ${tps} tps, p50/p99 ${latency} ms; cores pg/pgbench/machine ${cpu}"
}

load_naive() {
  log "loading the naive baseline: ${wallets} wallets into database wallet_naive"
  admin_psql -d postgres -c "DROP DATABASE IF EXISTS wallet_naive" \
    -c "CREATE DATABASE wallet_naive OWNER wallet" \
    -c "GRANT pg_checkpoint TO wallet" # runtime_bench checkpoints before each timed phase
  psql -X -q -v ON_ERROR_STOP=1 -v wallets="${wallets}" \
    -f loadtest/baselines/naive_schema.sql "${naive_url}" 2>&1 | grep -v NOTICE || true
  local loaded
  loaded=$(psql -X -tA -c "SELECT count(*) FROM naive_wallets" "${naive_url}")
  [[ "${loaded}" == "${wallets}" ]] || die "naive_wallets holds ${loaded} rows, not ${wallets}"
}

result() { # key: a RESULT line of runtime_bench
  awk -v k="$1" '$1 == "RESULT" && $2 == k {print $3}' "${out_dir}/runtime_bench.txt"
}

# One row of the table: name, transfers/s, p50, p99, server us/transfer, app us/transfer, note.
row() {
  printf '%-34s %11.0f %8.2f %8.2f %9.0f %9.0f   %s\n' "$@"
}

print_summary() {
  local nu nu50 nu99 nufail nupg nuapp numachine nupgus nuappus
  local nh nh50 nh99 nhfail nhpg nhapp nhmachine nhpgus nhappus ru rh ro
  read -r nu nu50 nu99 nufail nupg nuapp numachine nupgus nuappus \
    <"${out_dir}/pgbench_uniform.result"
  read -r nh nh50 nh99 nhfail nhpg nhapp nhmachine nhpgus nhappus <"${out_dir}/pgbench_hot.result"
  ru=$(result uniform_completed_per_s)
  rh=$(result hot_completed_per_s)
  ro=$(result open_rate)
  local r_uniform r_hot r_hot_naive open_p99 cpu_naive cpu_ours
  r_uniform=$(ratio "${ru}" "${nu}")
  r_hot=$(ratio "${rh}" "${ru}")
  r_hot_naive=$(ratio "${rh}" "${nh}")
  open_p99=$(result open_p99_ms)
  cpu_naive=$(awk -v a="${nupgus}" -v b="${nuappus}" 'BEGIN { print a + b }')
  cpu_ours=$(awk -v a="$(result uniform_pg_us)" -v b="$(result uniform_app_us)" 'BEGIN { print a + b }')
  printf '\n== issue 3 benchmark: %s wallets, PostgreSQL durable (fsync on, synchronous_commit on), %s cores\n' \
    "${wallets}" "$(nproc)"
  printf 'runtime_bench options: %s; niceness %s\n' "${bench_args:-(defaults)}" "${niceness}"
  printf '%-34s %11s %8s %8s %9s %9s   %s\n' "" transfers/s "p50 ms" "p99 ms" "pg us/tr" \
    "app us/tr" "notes"
  row "naive uniform (pgbench, ${clients} clients)" "${nu}" "${nu50}" "${nu99}" "${nupgus}" \
    "${nuappus}" "machine ${numachine} cores busy (pg ${nupg}, pgbench ${nuapp}), ${nufail} failed"
  row "naive hot (pgbench, ${clients} clients)" "${nh}" "${nh50}" "${nh99}" "${nhpgus}" \
    "${nhappus}" "machine ${nhmachine} cores busy (pg ${nhpg}, pgbench ${nhapp}), ${nhfail} failed"
  row "runtime uniform (closed loop)" "${ru}" "$(result uniform_p50_ms)" "$(result uniform_p99_ms)" \
    "$(result uniform_pg_us)" "$(result uniform_app_us)" \
    "other work $(result uniform_foreign_cores) cores; latency: debit submit -> answer"
  row "runtime hot (closed loop)" "${rh}" "$(result hot_p50_ms)" "$(result hot_p99_ms)" \
    "$(result hot_pg_us)" "$(result hot_app_us)" "other work $(result hot_foreign_cores) cores"
  row "runtime open loop at $(printf '%.0f' "${ro:-0}")/s" "$(result open_completed_per_s)" \
    "$(result open_p50_ms)" "${open_p99:-nan}" "$(result open_pg_us)" "$(result open_app_us)" \
    "other work $(result open_foreign_cores) cores; latency from the intended send time"
  printf '\n'
  printf 'ours / naive, uniform       %sx   target >= 5x (aim 10x): %s\n' "${r_uniform}" \
    "$(verdict "${r_uniform}" 5 ge)"
  printf '  CPU per transfer          naive %s us, ours %s us (server + application)\n' \
    "${cpu_naive}" "${cpu_ours}"
  printf 'ours hot / ours uniform     %s    target >= 0.80: %s\n' "${r_hot}" \
    "$(verdict "${r_hot}" 0.8 ge)"
  printf 'ours hot / naive hot        %sx\n' "${r_hot_naive}"
  printf 'p99 at half the peak rate   %s ms   target <= 10 ms: %s\n' "${open_p99}" \
    "$(verdict "${open_p99:-1e9}" 10 le)"
  printf 'ledger check (money conserved, nothing pending): %s\n' \
    "$([[ "$(result ledger_ok)" == 1 ]] && echo OK || echo FAILED)"
  if [[ -s "${out_dir}/noise.txt" ]]; then
    printf '\nwarning: other work was running on the machine:\n'
    cat "${out_dir}/noise.txt"
  fi
  printf '\nresults: %s\n' "${out_dir}"
}

# Everything that needs the services; runs inside `scripts/services.sh run`, which exports
# WALLET_PG_URL and stops the services it started when this returns or is interrupted.
inner() {
  naive_url="${WALLET_PG_URL%/*}/wallet_naive"
  check_durable
  postmaster=$(head -n 1 "$(admin_psql -d postgres -tAc "SHOW data_directory")/postmaster.pid")
  if ((niceness != 0)); then
    # Children forked from now on (every connection) inherit the postmaster's niceness.
    local pid
    for pid in "${postmaster}" $(pgrep -P "${postmaster}"); do
      renice -n "${niceness}" -p "${pid}" >/dev/null || die "cannot renice PostgreSQL to ${niceness}"
    done
    log "PostgreSQL, pgbench and runtime_bench run at niceness ${niceness}"
  fi
  load_naive
  run_pgbench uniform "${repo_root}/loadtest/baselines/naive_transfer.pgbench"
  run_pgbench hot "${repo_root}/loadtest/baselines/naive_transfer_hot.pgbench"
  wait_quiet runtime_bench
  bench_args="$*"
  log "runtime_bench: ${wallets} wallets, ${transfers} transfers per scenario ${bench_args}"
  local rc=0
  nice -n "${niceness}" "${build_dir}/loadtest/runtime_bench" --wallets "${wallets}" --transfers "${transfers}" \
    --json "${out_dir}/runtime_bench.json" "$@" 2>&1 | tee "${out_dir}/runtime_bench.txt" || rc=$?
  ((rc == 0)) || log "warning: runtime_bench exited with ${rc} (1: the ledger check failed)"
  print_summary | tee "${out_dir}/summary.txt"
}

if [[ "${1:-}" == --inner ]]; then
  shift
  out_dir=$1
  shift
  inner "$@"
  exit 0
fi

[[ "${1:-}" != -h && "${1:-}" != --help ]] || {
  sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"
  exit 0
}
command -v pgbench >/dev/null || die "pgbench is not installed (postgresql-client-15)"
out_dir=${WALLET_BENCH_OUT:-${repo_root}/.run/bench/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "${out_dir}"
out_dir=$(cd "${out_dir}" && pwd)
log "building runtime_bench in ${build_dir}"
cmake -S . -B "${build_dir}" -DCMAKE_BUILD_TYPE=Release >"${out_dir}/build.log" 2>&1 ||
  die "configure failed (${out_dir}/build.log)"
cmake --build "${build_dir}" -j"$(nproc)" --target runtime_bench >>"${out_dir}/build.log" 2>&1 ||
  die "build failed (${out_dir}/build.log)"
exec bash scripts/services.sh run -- bash "${BASH_SOURCE[0]}" --inner "${out_dir}" "$@"
