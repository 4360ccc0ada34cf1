#!/usr/bin/env bash
# Helpers shared by the benchmark scripts (bench.sh, bench-runtime.sh); sourced, not run. The caller
# sets `bench_name` (for messages), `out_dir`, `pg_port` and `quiet_wait_s` first.

log() { printf '%s: %s\n' "${bench_name}" "$*"; }
die() {
  printf '%s: error: %s\n' "${bench_name}" "$*" >&2
  exit 1
}

# Busy cores of the whole machine over `seconds`, from /proc/stat (not idle, not iowait).
busy_cores() { # seconds
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  sleep "$1"
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  awk -v a="${a}" -v b="${b}" -v n="$(nproc)" 'BEGIN {
    split(a, x, " "); split(b, y, " ");
    total = y[2] - x[2]; printf "%.2f\n", (total > 0 ? n * (y[1] - x[1]) / total : 0) }'
}

# Waits (up to quiet_wait_s) until the machine is nearly idle: other people's builds on a shared
# 2-core machine would otherwise be measured as ours. Measures anyway after that, noted in
# noise.txt.
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
      log "warning: ${busy} cores busy with other work before $1 after waiting ${quiet_wait_s}s;" \
        "measuring anyway (the figures include that noise)"
      printf '%s: %s cores busy with other work at the start\n' "$1" "${busy}" >>"${out_dir}/noise.txt"
      return 0
    fi
    sleep 3
  done
}

admin_psql() { # psql args: as the superuser over loopback TCP (the dev cluster trusts it)
  psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${pg_port}" -U postgres "$@"
}

# Refuses to measure a PostgreSQL without fsync: a benchmark in fast mode proves nothing.
check_durable() {
  local fsync sync
  fsync=$(psql -X -tA -c "SHOW fsync" "${WALLET_PG_URL}")
  sync=$(psql -X -tA -c "SHOW synchronous_commit" "${WALLET_PG_URL}")
  [[ "${fsync}" == on && "${sync}" == on ]] ||
    die "PostgreSQL on port ${pg_port} runs with fsync=${fsync} synchronous_commit=${sync};" \
      "stop it (scripts/services.sh stop) so that this script starts it in durable mode"
  log "PostgreSQL is durable: fsync=${fsync}, synchronous_commit=${sync}"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
verdict() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN {
  ok = dir == "ge" ? v >= t : v <= t; print ok ? "met" : "MISSED" }'; }
