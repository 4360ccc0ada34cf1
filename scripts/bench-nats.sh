#!/usr/bin/env bash
# Issue 4's benchmark in one command: walletd end to end through NATS JetStream (nats_bench: command
# published -> outcome committed -> debit and credit events published) against the naive
# one-transaction-per-transfer baseline (pgbench, loadtest/baselines/), on one local PostgreSQL in
# DURABLE mode (fsync on, synchronous_commit on), in the same run. Figures only: nothing is asserted.
#
#   scripts/bench-nats.sh [NATS_BENCH_OPTIONS...]     e.g. --concurrency 2048
#
# Steps: build walletd and nats_bench (Release, incremental), start the services
# (scripts/services.sh, durable), load the naive schema and wallets, run pgbench uniform and hot,
# start walletd on a database of its own (--runtime.shards=4, defaults otherwise) with subjects and
# streams of its own, run nats_bench (set-up, uniform, hot, open loop at half the uniform peak),
# stop walletd, delete its streams, print the summary, stop the services it started. Results go to
# .run/bench/<UTC timestamp>-nats/ (summary.txt, nats_bench.json, walletd.log, pgbench logs).
#
# Environment:
#   WALLET_PG_PORT, WALLET_NATS_PORT, WALLET_NATS_MONITOR_PORT   as scripts/services.sh (ports)
#   BUILD_DIR                   build folder (Release)                    (default build)
#   WALLET_BENCH_OUT            results folder             (default .run/bench/<timestamp>-nats)
#   WALLET_BENCH_WALLETS        wallets, both sides                       (default 100000)
#   WALLET_BENCH_TRANSFERS      transfers per closed-loop nats_bench scenario (default 200000)
#   WALLET_BENCH_CONCURRENCY    commands outstanding in nats_bench's closed loops (default 4096)
#   WALLET_BENCH_OPEN_S         seconds of the open loop                  (default 15)
#   WALLET_BENCH_PGBENCH_S      seconds per pgbench run                   (default 60)
#   WALLET_BENCH_PGBENCH_CLIENTS pgbench clients                          (default 32)
#   WALLET_BENCH_QUIET_WAIT_S   longest wait for other work on the machine to stop before each
#                               measured part (0: do not wait)            (default 120)
#   WALLET_BENCH_NICE           niceness of everything measured (PostgreSQL, nats-server, walletd,
#                               pgbench, nats_bench); negative values need root (default 0)
#   WALLET_BENCH_WALLETD_ARGS   extra walletd flags, e.g. "--nats.outbox_poll_ms=10" (default none)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${repo_root}"

export WALLET_SERVICES_MODE=durable
build_dir=${BUILD_DIR:-build}
wallets=${WALLET_BENCH_WALLETS:-100000}
transfers=${WALLET_BENCH_TRANSFERS:-200000}
concurrency=${WALLET_BENCH_CONCURRENCY:-4096}
open_s=${WALLET_BENCH_OPEN_S:-15}
pgbench_s=${WALLET_BENCH_PGBENCH_S:-60}
clients=${WALLET_BENCH_PGBENCH_CLIENTS:-32}
quiet_wait_s=${WALLET_BENCH_QUIET_WAIT_S:-120}
niceness=${WALLET_BENCH_NICE:-0}
walletd_args=${WALLET_BENCH_WALLETD_ARGS:-}
pg_port=${WALLET_PG_PORT:-55432}
nats_port=${WALLET_NATS_PORT:-54222}

log() { printf 'bench-nats: %s\n' "$*"; }
die() {
  printf 'bench-nats: error: %s\n' "$*" >&2
  exit 1
}

for value in "${wallets}" "${transfers}" "${concurrency}" "${open_s}" "${pgbench_s}" "${clients}" \
  "${quiet_wait_s}" "${pg_port}" "${nats_port}"; do
  [[ "${value}" =~ ^[0-9]+$ ]] || die "sizes, seconds and ports must be numbers, got '${value}'"
done
[[ "${niceness}" =~ ^-?[0-9]+$ ]] || die "WALLET_BENCH_NICE must be a number, got '${niceness}'"

# ---------------------------------------------------------------------------------------------------
# Machine and process CPU, from /proc
# ---------------------------------------------------------------------------------------------------

tick=$(getconf CLK_TCK)

# "busy total" jiffies of all CPUs (busy: not idle, not iowait).
cpu_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

# Busy cores of the whole machine over `seconds`.
busy_cores() { # seconds
  local a b
  a=$(cpu_jiffies)
  sleep "$1"
  b=$(cpu_jiffies)
  awk -v a="${a}" -v b="${b}" -v n="$(nproc)" 'BEGIN { split(a, x, " "); split(b, y, " ");
    t = y[2] - x[2]; printf "%.2f\n", (t > 0 ? n * (y[1] - x[1]) / t : 0) }'
}

# Waits (up to WALLET_BENCH_QUIET_WAIT_S) for the machine to be nearly idle, so that other people's
# builds on a shared 2-core machine are not measured as ours; measures anyway after that, noted.
wait_quiet() { # what
  ((quiet_wait_s > 0)) || return 0
  local deadline=$((SECONDS + quiet_wait_s)) busy
  while :; do
    busy=$(busy_cores 2)
    if awk -v b="${busy}" 'BEGIN { exit !(b < 0.25) }'; then
      log "machine quiet before $1 (${busy} cores busy)"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      log "warning: ${busy} cores busy with other work before $1; measuring anyway"
      printf '%s: %s cores busy with other work at the start\n' "$1" "${busy}" >>"${out_dir}/noise.txt"
      return 0
    fi
    sleep 3
  done
}

# CPU seconds (user + system) of a process, or of a postmaster and its children.
process_cpu_s() { # pid
  awk -v t="${tick}" '{ i = index($0, ") "); split(substr($0, i + 2), f, " ");
    printf "%.2f\n", (f[12] + f[13]) / t }' "/proc/$1/stat" 2>/dev/null || echo 0
}
server_cpu_s() { # postmaster pid
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$1" -v t="${tick}" '{
    i = index($0, ") "); split(substr($0, i + 2), f, " ");
    if ($1 == pm || f[2] == pm) s += f[12] + f[13] } END { printf "%.2f\n", s / t }'
}
machine_busy_s() { awk -v t="${tick}" '/^cpu /{ printf "%.2f\n", ($2+$3+$4+$7+$8+$9) / t }' /proc/stat; }

# "wall postgres other-pid machine" CPU seconds so far.
cpu_snapshot() { # pid of the client side (pgbench or walletd)
  printf '%s %s %s %s\n' "${EPOCHREALTIME}" "$(server_cpu_s "${postmaster}")" \
    "$(process_cpu_s "$1")" "$(machine_busy_s)"
}
# Average cores between two snapshots: "postgres pid machine".
cores_between() { # snapshot snapshot
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); w = y[1] - x[1];
    if (w <= 0) w = 1; printf "%.2f %.2f %.2f\n", (y[2]-x[2])/w, (y[3]-x[3])/w, (y[4]-x[4])/w }'
}

admin_psql() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${pg_port}" -U postgres "$@"; }

# ---------------------------------------------------------------------------------------------------
# The naive baseline
# ---------------------------------------------------------------------------------------------------

check_durable() {
  local fsync sync
  fsync=$(psql -X -tA -c "SHOW fsync" "${WALLET_PG_URL}")
  sync=$(psql -X -tA -c "SHOW synchronous_commit" "${WALLET_PG_URL}")
  [[ "${fsync}" == on && "${sync}" == on ]] ||
    die "PostgreSQL on port ${pg_port} runs with fsync=${fsync} synchronous_commit=${sync};" \
      "stop it (scripts/services.sh stop) so that this script starts it in durable mode"
  log "PostgreSQL is durable: fsync=${fsync}, synchronous_commit=${sync}"
}

load_naive() {
  log "loading the naive baseline: ${wallets} wallets into database wallet_naive"
  admin_psql -d postgres -c "DROP DATABASE IF EXISTS wallet_naive" \
    -c "CREATE DATABASE wallet_naive OWNER wallet"
  psql -X -q -v ON_ERROR_STOP=1 -v wallets="${wallets}" \
    -f loadtest/baselines/naive_schema.sql "${naive_url}" 2>&1 | grep -v NOTICE || true
  local loaded
  loaded=$(psql -X -tA -c "SELECT count(*) FROM naive_wallets" "${naive_url}")
  [[ "${loaded}" == "${wallets}" ]] || die "naive_wallets holds ${loaded} rows, not ${wallets}"
}

# p50 and p99 in ms of pgbench's per-transaction logs (column 3: microseconds).
pgbench_percentiles() { # log prefix
  cat "$1".* 2>/dev/null | awk '{print $3}' | sort -n | awk '{v[NR] = $1} END {
    if (NR == 0) { print "nan nan"; exit }
    printf "%.2f %.2f\n", v[int(0.50 * (NR - 1)) + 1] / 1000, v[int(0.99 * (NR - 1)) + 1] / 1000 }'
}

run_pgbench() { # name script
  local name=$1 script=$2 prefix="${out_dir}/pgbench_$1"
  wait_quiet "pgbench ${name}"
  admin_psql -d postgres -c CHECKPOINT
  log "pgbench ${name}: ${clients} clients, ${pgbench_s}s, ${script##*/}"
  (cd "${out_dir}" && exec nice -n "${niceness}" pgbench -n -M prepared -c "${clients}" -j 2 \
    -T "${pgbench_s}" -D wallets="${wallets}" -f "${script}" -l --log-prefix="pgbench_${name}" \
    "${naive_url}") >"${prefix}.txt" 2>&1 &
  local pid=$! margin=$((pgbench_s >= 20 ? 5 : 1)) a b cpu
  # CPU over the steady middle of the run (connections made, none closed yet).
  sleep "${margin}"
  a=$(cpu_snapshot "${pid}")
  sleep "$((pgbench_s - 2 * margin))"
  b=$(cpu_snapshot "${pid}")
  cpu=$(cores_between "${a}" "${b}")
  wait "${pid}" || {
    cat "${prefix}.txt" >&2
    die "pgbench ${name} failed"
  }
  local tps failed latency
  tps=$(awk '/^tps = /{print $3}' "${prefix}.txt")
  failed=$(awk '/^number of failed transactions/{print $5}' "${prefix}.txt")
  latency=$(pgbench_percentiles "${prefix}")
  # tps p50 p99 failed pg_cores pgbench_cores machine_cores
  printf '%s %s %s %s\n' "${tps}" "${latency}" "${failed:-0}" "${cpu}" >"${out_dir}/pgbench_${name}.result"
  rm -f "${prefix}".[0-9]* # per-transaction logs: large, summarised above
  log "pgbench ${name}: ${tps} tps, p50/p99 ${latency} ms; cores pg/pgbench/machine ${cpu}"
}

# ---------------------------------------------------------------------------------------------------
# walletd and nats_bench
# ---------------------------------------------------------------------------------------------------

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# walletd on a fresh database, with a subject prefix and streams of this run only: a colleague's
# walletd on the same NATS server, or the streams of an earlier run, cannot interfere.
start_walletd() {
  local db=wallet_nats_bench
  admin_psql -d postgres -c "DROP DATABASE IF EXISTS ${db}" -c "CREATE DATABASE ${db} OWNER wallet"
  run_id="nb$(date -u +%H%M%S)$$"
  metrics_port=$(free_port)
  prefix=${run_id}
  streams="${run_id^^}_CMD,${run_id^^}_EVT,${run_id^^}_DLQ"
  local args=(--postgres.url="${WALLET_PG_URL%/*}/${db}" --nats.url="${WALLET_NATS_URL}"
    --runtime.shards=4 --nats.subject_prefix="${prefix}" --nats.command_stream="${run_id^^}_CMD"
    --nats.event_stream="${run_id^^}_EVT" --nats.dead_letter_stream="${run_id^^}_DLQ"
    --metrics.port="${metrics_port}")
  # shellcheck disable=SC2206 # split on purpose: several flags in one variable
  [[ -z "${walletd_args}" ]] || args+=(${walletd_args})
  printf '%s\n' "${args[*]}" >"${out_dir}/walletd.args"
  nice -n "${niceness}" "${build_dir}/app/walletd" "${args[@]}" >"${out_dir}/walletd.log" 2>&1 &
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
  # What nats_bench cannot see: commands walletd deferred (NAK: overloaded), redeliveries, dead
  # letters, failed event publishes.
  curl -sf "http://127.0.0.1:${metrics_port}/metrics" >"${out_dir}/walletd_metrics.txt" ||
    log "warning: could not read walletd's metrics"
  kill -TERM "${walletd_pid}" 2>/dev/null || true
  local rc=0
  wait "${walletd_pid}" || rc=$?
  ((rc == 0)) || log "warning: walletd exited with ${rc}"
  walletd_pid=
  "${build_dir}/loadtest/nats_bench" --url "${WALLET_NATS_URL}" --delete-streams "${streams}" ||
    log "warning: could not delete the streams ${streams}"
}

run_nats_bench() {
  wait_quiet nats_bench
  admin_psql -d postgres -c CHECKPOINT
  local nats_pid a b rc=0
  nats_pid=$(cat "${WALLET_RUN_DIR:-${repo_root}/.run}/nats-${nats_port}/nats.pid" 2>/dev/null || echo 0)
  log "nats_bench: ${wallets} wallets, ${transfers} transfers per closed loop, ${concurrency}" \
    "outstanding, open loop ${open_s}s ${bench_args}"
  a="$(cpu_snapshot "${walletd_pid}") $(process_cpu_s "${nats_pid}")"
  nice -n "${niceness}" "${build_dir}/loadtest/nats_bench" --url "${WALLET_NATS_URL}" \
    --prefix "${prefix}" --wallets "${wallets}" --transfers "${transfers}" \
    --concurrency "${concurrency}" --open-seconds "${open_s}" \
    --json "${out_dir}/nats_bench.json" "$@" 2>&1 | tee "${out_dir}/nats_bench.txt" || rc=$?
  b="$(cpu_snapshot "${walletd_pid}") $(process_cpu_s "${nats_pid}")"
  ((rc == 0)) || log "warning: nats_bench exited with ${rc} (1: some commands never completed)"
  # Cores over the whole nats_bench run (set-up included): postgres walletd machine nats-server.
  awk -v a="${a}" -v b="${b}" 'BEGIN { split(a, x, " "); split(b, y, " "); w = y[1] - x[1];
    if (w <= 0) w = 1; printf "%.2f %.2f %.2f %.2f\n", (y[2]-x[2])/w, (y[3]-x[3])/w,
    (y[4]-x[4])/w, (y[5]-x[5])/w }' >"${out_dir}/nats_bench.cores"
}

# ---------------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------------

result() { awk -v k="$1" '$1 == "RESULT" && $2 == k {print $3}' "${out_dir}/nats_bench.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
verdict() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN {
  ok = dir == "ge" ? v >= t : v <= t; print ok ? "met" : "MISSED" }'; }
row() { printf '%-36s %11.0f %8.2f %8.2f %9s   %s\n' "$@"; }

# Sums of walletd's counters that mean trouble under load (all series of each name).
walletd_counters() {
  awk '$1 !~ /^#/ { n = $1; sub(/\{.*/, "", n); sum[n] += $2 }
    END { printf "deferred (NAKed) %d, redeliveries %d, dead letters %d, event publish failures %d",
      sum["wallet_nats_deferred_total"], sum["wallet_nats_redeliveries_total"],
      sum["wallet_nats_dead_letters_total"], sum["wallet_event_publish_failures_total"] }' \
    "${out_dir}/walletd_metrics.txt" 2>/dev/null || echo "(no metrics)"
}

print_summary() {
  local nu nu50 nu99 nufail nupg nuapp numachine nh nh50 nh99 nhfail nhpg nhapp nhmachine
  read -r nu nu50 nu99 nufail nupg nuapp numachine <"${out_dir}/pgbench_uniform.result"
  read -r nh nh50 nh99 nhfail nhpg nhapp nhmachine <"${out_dir}/pgbench_hot.result"
  local ru rh ro op99 cpg cwd cmachine cnats
  ru=$(result uniform_completed_per_s)
  rh=$(result hot_completed_per_s)
  ro=$(result open_rate)
  op99=$(result open_complete_p99_ms)
  read -r cpg cwd cmachine cnats <"${out_dir}/nats_bench.cores"
  printf '\n== issue 4 benchmark: %s wallets through NATS JetStream, PostgreSQL durable, %s cores\n' \
    "${wallets}" "$(nproc)"
  printf 'walletd: --runtime.shards=4 %s; nats_bench options: %s; niceness %s\n' \
    "${walletd_args:-(defaults otherwise)}" "${bench_args:-(defaults)}" "${niceness}"
  printf 'latency: naive per transaction; walletd p50/p99 published -> outcome and both events,'
  printf ' "out p99" published -> outcome\n'
  printf '%-36s %11s %8s %8s %9s   %s\n' "" transfers/s "p50 ms" "p99 ms" "out p99" notes
  row "naive uniform (pgbench, ${clients} clients)" "${nu}" "${nu50}" "${nu99}" - \
    "machine ${numachine} cores busy (pg ${nupg}, pgbench ${nuapp}), ${nufail} failed"
  row "naive hot (pgbench, ${clients} clients)" "${nh}" "${nh50}" "${nh99}" - \
    "machine ${nhmachine} cores busy (pg ${nhpg}, pgbench ${nhapp}), ${nhfail} failed"
  row "walletd uniform (closed loop)" "${ru:-0}" "$(result uniform_complete_p50_ms)" \
    "$(result uniform_complete_p99_ms)" "$(result uniform_p99_ms)" \
    "${concurrency} outstanding; latency: published -> outcome and both events"
  row "walletd hot (closed loop)" "${rh:-0}" "$(result hot_complete_p50_ms)" \
    "$(result hot_complete_p99_ms)" "$(result hot_p99_ms)" "$(result hot_rejected) rejected"
  row "walletd open loop at $(printf '%.0f' "${ro:-0}")/s" "$(result open_completed_per_s)" \
    "$(result open_complete_p50_ms)" "${op99:-nan}" "$(result open_p99_ms)" \
    "latency from the intended send time"
  printf 'during nats_bench (set-up included), cores: walletd %s, PostgreSQL %s, nats-server %s,' \
    "${cwd}" "${cpg}" "${cnats}"
  printf ' machine %s (nats_bench and other work: the rest)\n' "${cmachine}"
  printf 'nats_bench itself used %s cores in uniform, %s in hot, %s in the open loop\n' \
    "$(result uniform_bench_cores)" "$(result hot_bench_cores)" "$(result open_bench_cores)"
  printf 'walletd over the whole run: %s\n' "$(walletd_counters)"
  printf '\n'
  local r_uniform r_hot
  r_uniform=$(ratio "${ru:-0}" "${nu}")
  r_hot=$(ratio "${rh:-0}" "${ru:-0}")
  printf 'walletd / naive, uniform     %sx   target >= 3x: %s\n' "${r_uniform}" \
    "$(verdict "${r_uniform}" 3 ge)"
  printf 'walletd hot / walletd uniform %s\n' "${r_hot}"
  printf 'walletd hot / naive hot      %sx\n' "$(ratio "${rh:-0}" "${nh}")"
  printf 'p99 at half the peak rate    %s ms (published -> outcome and both events)   target <= 25 ms: %s\n' \
    "${op99:-nan}" "$(verdict "${op99:-1e9}" 25 le)"
  printf 'every command completed: %s\n' "$([[ "$(result ok)" == 1 ]] && echo yes || echo NO)"
  if [[ -s "${out_dir}/noise.txt" ]]; then
    printf '\nwarning: other work was running on the machine:\n'
    cat "${out_dir}/noise.txt"
  fi
  printf '\nresults: %s\n' "${out_dir}"
}

# Everything that needs the services; runs inside `scripts/services.sh run`, which exports
# WALLET_PG_URL and WALLET_NATS_URL and stops the services it started when this returns.
inner() {
  naive_url="${WALLET_PG_URL%/*}/wallet_naive"
  check_durable
  postmaster=$(head -n 1 "$(admin_psql -d postgres -tAc "SHOW data_directory")/postmaster.pid")
  if ((niceness != 0)); then
    local pid nats_pid
    nats_pid=$(cat "${WALLET_RUN_DIR:-${repo_root}/.run}/nats-${nats_port}/nats.pid" 2>/dev/null || true)
    for pid in "${postmaster}" $(pgrep -P "${postmaster}") ${nats_pid}; do
      renice -n "${niceness}" -p "${pid}" >/dev/null || die "cannot renice ${pid} to ${niceness}"
    done
    log "PostgreSQL, nats-server, walletd, pgbench and nats_bench run at niceness ${niceness}"
  fi
  load_naive
  run_pgbench uniform "${repo_root}/loadtest/baselines/naive_transfer.pgbench"
  run_pgbench hot "${repo_root}/loadtest/baselines/naive_transfer_hot.pgbench"
  # The baseline's database is not needed any more: its tables must not share the buffers.
  admin_psql -d postgres -c "DROP DATABASE IF EXISTS wallet_naive"
  trap stop_walletd EXIT
  start_walletd
  bench_args="$*"
  run_nats_bench "$@"
  stop_walletd
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
out_dir=${WALLET_BENCH_OUT:-${repo_root}/.run/bench/$(date -u +%Y%m%dT%H%M%SZ)-nats}
mkdir -p "${out_dir}"
out_dir=$(cd "${out_dir}" && pwd)
log "building walletd and nats_bench (Release) in ${build_dir}"
cmake -S . -B "${build_dir}" -DCMAKE_BUILD_TYPE=Release >"${out_dir}/build.log" 2>&1 ||
  die "configure failed (${out_dir}/build.log)"
cmake --build "${build_dir}" -j"$(nproc)" --target walletd nats_bench >>"${out_dir}/build.log" 2>&1 ||
  die "build failed (${out_dir}/build.log)"
grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "${build_dir}/CMakeCache.txt" ||
  die "${build_dir} is not a Release build"
exec bash scripts/services.sh run -- bash "${BASH_SOURCE[0]}" --inner "${out_dir}" "$@"
