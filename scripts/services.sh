#!/usr/bin/env bash
# Throwaway local services for development and tests: a PostgreSQL 15 cluster and a JetStream-enabled
# nats-server, both bound to 127.0.0.1 only, with their data under the project's ignored .run/ folder.
#
#   scripts/services.sh start|stop|status|env|clean    (clean = stop and delete the data)
#   scripts/services.sh run -- CMD [ARGS...]    start, run CMD with the env exported, stop what it
#                                               started, exit with CMD's code (when interrupted: CMD
#                                               gets SIGTERM and WALLET_RUN_GRACE_S, default 60 s)
#   eval "$(scripts/services.sh env)"           WALLET_PG_URL, WALLET_NATS_URL, WALLET_NATS_MONITOR_URL
#   scripts/services.sh pg-stop|pg-start        stop or start PostgreSQL alone (fault-injection tests)
#
# Environment:
#   WALLET_PG_PORT            PostgreSQL port                  (default 55432)
#   WALLET_NATS_PORT          NATS client port                 (default 54222)
#   WALLET_NATS_MONITOR_PORT  NATS HTTP monitoring port        (default 58222)
#   WALLET_SERVICES_MODE      durable (default) | fast: fsync, synchronous_commit, full_page_writes off
#   WALLET_RUN_DIR            data folder                      (default <repo>/.run)
#   WALLET_SERVICES_TIMEOUT_S readiness timeout per service    (default 60)
#   WALLET_PG_BIN             PostgreSQL binaries              (default /usr/lib/postgresql/15/bin)
#   WALLET_NATS_PARTITIONS    N > 0: the server maps wallet.cmd.* and wallet.sys.* onto
#                             wallet.cmdp.<shard>.* and wallet.sysp.<shard>.* over N shards, for
#                             walletd with nats.partitioned and runtime.shards = N (several
#                             instances; docs/nats.md). Default 0: no mappings (one instance).
#                             Takes effect when nats-server starts.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pg_port=${WALLET_PG_PORT:-55432}
nats_port=${WALLET_NATS_PORT:-54222}
nats_monitor_port=${WALLET_NATS_MONITOR_PORT:-58222}
mode=${WALLET_SERVICES_MODE:-durable}
run_dir=${WALLET_RUN_DIR:-${repo_root}/.run}
pg_bin=${WALLET_PG_BIN:-/usr/lib/postgresql/15/bin}
timeout_s=${WALLET_SERVICES_TIMEOUT_S:-60}
nats_partitions=${WALLET_NATS_PARTITIONS:-0}

log() { printf 'services: %s\n' "$*" || true; } # never fail (a closed pipe must not stop a stop)
die() {
  printf 'services: error: %s\n' "$*" >&2
  exit 1
}

for value in "${pg_port}" "${nats_port}" "${nats_monitor_port}" "${timeout_s}" "${nats_partitions}"; do
  [[ "${value}" =~ ^[0-9]+$ ]] || die "ports, timeouts and partitions must be numbers, got '${value}'"
done
[[ "${mode}" == durable || "${mode}" == fast ]] ||
  die "WALLET_SERVICES_MODE must be 'durable' or 'fast', got '${mode}'"

# PostgreSQL refuses to run as root. As root we run it as the `postgres` system user; as anyone else
# it runs as the calling user.
if [[ ${EUID} -eq 0 ]]; then
  pg_user=postgres
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
  pg_user=$(id -un)
  as_pg() { (cd / && "$@"); }
fi

nats_dir="${run_dir}/nats-${nats_port}"
nats_conf="${nats_dir}/nats.conf"
nats_pidfile="${nats_dir}/nats.pid"
nats_log="${nats_dir}/nats.log"

# ---------------------------------------------------------------------------------------------------
# Where the PostgreSQL cluster lives.
#
# Preferred: <run_dir>/postgres-<port>/ inside the project. The postgres user must be able to traverse
# every directory above it; we make .run/ itself traversable (chmod o+x, nothing else in the project is
# touched). When a parent outside our control is closed (a clone under a 0700 home or mktemp folder),
# or the Unix socket path would exceed the kernel's 107-byte limit, the cluster goes to
# /tmp/wallet-engine-<uid>-<port>/ instead. stop/status/env find whichever of the two holds a cluster.
# Layout of that directory (mode 0700, owned by the server user): data/ (PGDATA), socket/, postgres.log,
# mode (the mode it was started in).
# ---------------------------------------------------------------------------------------------------
pg_local_base="${run_dir}/postgres-${pg_port}"
pg_tmp_base="/tmp/wallet-engine-$(id -u)-${pg_port}"

pg_base_existing() {
  local base
  for base in "${pg_local_base}" "${pg_tmp_base}"; do
    if [[ -f "${base}/data/PG_VERSION" ]]; then
      printf '%s\n' "${base}"
      return 0
    fi
  done
  return 1
}

pg_base_choose() {
  if pg_base_existing; then
    return 0
  fi
  local socket_path="${pg_local_base}/socket/.s.PGSQL.${pg_port}"
  if [[ ${EUID} -eq 0 && -d "${run_dir}" ]] && ! as_pg test -x "${run_dir}" &&
    as_pg test -x "$(dirname "${run_dir}")"; then
    chmod o+x "${run_dir}"
  fi
  if as_pg test -x "${run_dir}" && ((${#socket_path} <= 100)); then
    printf '%s\n' "${pg_local_base}"
  else
    printf '%s\n' "${pg_tmp_base}"
  fi
}

pg_ctl_() { as_pg "${pg_bin}/pg_ctl" "$@"; }

pg_running() { # base
  [[ -f "$1/data/PG_VERSION" ]] && pg_ctl_ -D "$1/data" status >/dev/null 2>&1
}

pg_admin_psql() { # base, psql args...
  local base=$1
  shift
  as_pg "${pg_bin}/psql" -X -q -v ON_ERROR_STOP=1 -h "${base}/socket" -p "${pg_port}" -U postgres \
    -d postgres "$@"
}

pg_init() { # base
  local base=$1
  # The /tmp fallback is a shared directory: never adopt a symlink or someone else's folder.
  if [[ -L "${base}" ]] || { [[ -e "${base}" ]] &&
    [[ "$(stat -c %U "${base}")" != "${pg_user}" && ! -O "${base}" ]]; }; then
    die "${base} exists and is not owned by ${pg_user}; remove it"
  fi
  rm -rf "${base}/data" # a half-made cluster from an interrupted initdb
  mkdir -p "${base}/socket"
  chmod 0700 "${base}" "${base}/socket"
  [[ ${EUID} -ne 0 ]] || chown -R "${pg_user}:" "${base}"
  log "initialising PostgreSQL cluster in ${base}/data"
  as_pg "${pg_bin}/initdb" -D "${base}/data" -U postgres --encoding=UTF8 --locale=C \
    --auth=trust >"${base}/initdb.log" 2>&1 || {
    tail -n 40 "${base}/initdb.log" >&2
    die "initdb failed (log: ${base}/initdb.log)"
  }
  # Password-less access for this throwaway loopback cluster only: the socket directory is private to
  # the server user, and TCP listens on 127.0.0.1 alone.
  cat >"${base}/data/pg_hba.conf" <<'EOF'
# Throwaway local development cluster (scripts/services.sh): loopback only, no passwords.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
EOF
  printf "\ninclude 'wallet-engine.conf'\n" >>"${base}/data/postgresql.conf"
  [[ ${EUID} -ne 0 ]] || chown "${pg_user}:" "${base}/data/pg_hba.conf"
}

pg_write_settings() { # base
  local base=$1 durability=on
  [[ "${mode}" == durable ]] || durability=off
  # Sized for the 2-core / 24 GiB development machine; rewritten on every start.
  cat >"${base}/data/wallet-engine.conf" <<EOF
# Generated by scripts/services.sh on every start; edits are overwritten.
listen_addresses = '127.0.0.1'
port = ${pg_port}
unix_socket_directories = '${base}/socket'
max_connections = 200
shared_buffers = 1GB
effective_cache_size = 8GB
work_mem = 16MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
min_wal_size = 512MB
checkpoint_timeout = 15min
# Full-page images after each checkpoint are most of the WAL of random wallet updates; lz4 shrinks
# them at little CPU cost (durability is unchanged).
wal_compression = lz4
random_page_cost = 1.1
effective_io_concurrency = 200
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
log_checkpoints = on
log_lock_waits = on

# Mode: ${mode}. 'fast' trades crash safety for speed (tests only).
fsync = ${durability}
synchronous_commit = ${durability}
full_page_writes = ${durability}
EOF
  printf '%s\n' "${mode}" >"${base}/mode"
  [[ ${EUID} -ne 0 ]] || chown "${pg_user}:" "${base}/data/wallet-engine.conf" "${base}/mode"
}

pg_bootstrap() { # base: role and database `wallet`, idempotently
  local base=$1
  pg_admin_psql "${base}" -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wallet') THEN
        CREATE ROLE wallet LOGIN CREATEDB;
      END IF;
    END \$\$;"
  if [[ "$(pg_admin_psql "${base}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'wallet'")" != 1 ]]
  then
    pg_admin_psql "${base}" -c "CREATE DATABASE wallet OWNER wallet"
  fi
}

pg_start() {
  local base
  base=$(pg_base_choose)
  if pg_running "${base}"; then
    local running_mode
    running_mode=$(cat "${base}/mode" 2>/dev/null || echo unknown)
    log "PostgreSQL already running on 127.0.0.1:${pg_port} (${running_mode} mode, ${base})"
    if [[ "${running_mode}" != "${mode}" ]]; then
      log "warning: ${mode} mode requested but the running cluster is in ${running_mode} mode;" \
        "run 'scripts/services.sh stop' first to switch"
    fi
  else
    [[ -f "${base}/data/PG_VERSION" ]] || pg_init "${base}"
    pg_write_settings "${base}"
    log "starting PostgreSQL on 127.0.0.1:${pg_port} (${mode} mode, ${base})"
    # 9>&-: the server must not inherit our lock.
    if ! pg_ctl_ -D "${base}/data" -l "${base}/postgres.log" -w -t "${timeout_s}" start \
      >/dev/null 9>&-; then
      tail -n 40 "${base}/postgres.log" >&2 || true
      die "PostgreSQL did not start within ${timeout_s}s (log: ${base}/postgres.log)"
    fi
  fi
  local deadline=$((SECONDS + timeout_s))
  until "${pg_bin}/pg_isready" -q -h 127.0.0.1 -p "${pg_port}" -U postgres -d postgres; do
    if ((SECONDS >= deadline)); then
      tail -n 40 "${base}/postgres.log" >&2 || true
      die "PostgreSQL is not accepting connections on 127.0.0.1:${pg_port} (log: ${base}/postgres.log)"
    fi
    sleep 0.2
  done
  pg_bootstrap "${base}"
}

pg_stop() {
  local base
  if ! base=$(pg_base_existing) || ! pg_running "${base}"; then
    log "PostgreSQL (port ${pg_port}) is not running"
    return 0
  fi
  log "stopping PostgreSQL (port ${pg_port})"
  if ! pg_ctl_ -D "${base}/data" -m fast -w -t "${timeout_s}" stop >/dev/null; then
    log "warning: fast shutdown timed out; shutting down immediately"
    pg_ctl_ -D "${base}/data" -m immediate -w -t "${timeout_s}" stop >/dev/null
  fi
}

# ---------------------------------------------------------------------------------------------------
# NATS
# ---------------------------------------------------------------------------------------------------

pid_alive() { # pid: alive and not a zombie
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "${state}" && "${state}" != Z ]]
}

nats_pid() { # prints the pid of our running nats-server, or fails
  local pid
  pid=$(cat "${nats_pidfile}" 2>/dev/null) || return 1
  [[ "${pid}" =~ ^[0-9]+$ ]] && pid_alive "${pid}" &&
    [[ "$(cat "/proc/${pid}/comm" 2>/dev/null)" == nats-server ]] || return 1
  printf '%s\n' "${pid}"
}

http_get() { # port path: prints the raw HTTP response (bash /dev/tcp; curl is not required)
  # shellcheck disable=SC2016 # $1/$2 expand in the inner shell, on purpose
  timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$2" >&3
    cat <&3' _ "$1" "$2" 2>/dev/null
}

nats_healthy() { # /healthz answers 200 only once JetStream is up
  local response
  response=$(http_get "${nats_monitor_port}" /healthz) || return 1
  [[ "${response}" == "HTTP/1."?" 200"* && "${response}" == *'"ok"'* ]]
}

nats_write_config() {
  mkdir -p "${nats_dir}/store"
  # nats-server 2.9 has no jetstream sync_interval setting; its file store syncs on its own timer.
  cat >"${nats_conf}" <<EOF
# Generated by scripts/services.sh on every start; edits are overwritten.
server_name: "wallet-dev-${nats_port}"
listen: "127.0.0.1:${nats_port}"
http: "127.0.0.1:${nats_monitor_port}"
pid_file: "${nats_pidfile}"
jetstream {
  store_dir: "${nats_dir}/store" # nats-server adds jetstream/
  max_memory_store: 1GB
  max_file_store: 20GB
}
EOF
  if ((nats_partitions > 0)); then
    # The same hash as engine::shard_of, over the wallet token: each instance's durable consumers
    # see only its shards' commands, from clients (cmd) and from other instances (sys).
    cat >>"${nats_conf}" <<EOF
mappings: {
  "wallet.cmd.*": "wallet.cmdp.{{partition(${nats_partitions},1)}}.{{wildcard(1)}}"
  "wallet.sys.*": "wallet.sysp.{{partition(${nats_partitions},1)}}.{{wildcard(1)}}"
}
EOF
  fi
}

nats_start() {
  local spawned_pid=""
  if nats_pid >/dev/null; then
    log "nats-server already running on 127.0.0.1:${nats_port} (monitor ${nats_monitor_port})"
  else
    nats_write_config
    rm -f "${nats_pidfile}"
    log "starting nats-server (JetStream) on 127.0.0.1:${nats_port} (monitor ${nats_monitor_port})"
    # Detached (own session, reparented) so a Ctrl-C aimed at a foreground command does not hit it and
    # `stop` shuts it down cleanly; 9>&- so it does not inherit our lock.
    spawned_pid=$( (setsid nats-server -c "${nats_conf}" >>"${nats_log}" 2>&1 </dev/null 9>&- &
      echo "$!"))
  fi
  local deadline=$((SECONDS + timeout_s)) failure=""
  until nats_healthy; do
    if [[ -n "${spawned_pid}" ]] && ! pid_alive "${spawned_pid}"; then
      failure="nats-server exited during start-up"
    elif ((SECONDS >= deadline)); then
      failure="nats-server is not healthy at http://127.0.0.1:${nats_monitor_port}/healthz after ${timeout_s}s"
    fi
    if [[ -n "${failure}" ]]; then
      tail -n 40 "${nats_log}" >&2 || true
      die "${failure} (log: ${nats_log})"
    fi
    sleep 0.2
  done
}

nats_stop() {
  local pid
  if ! pid=$(nats_pid); then
    log "nats-server (port ${nats_port}) is not running"
    rm -f "${nats_pidfile}"
    return 0
  fi
  log "stopping nats-server (port ${nats_port}, pid ${pid})"
  kill -TERM "${pid}" 2>/dev/null || true
  local deadline=$((SECONDS + timeout_s))
  while pid_alive "${pid}"; do
    if ((SECONDS >= deadline)); then
      log "warning: nats-server did not exit within ${timeout_s}s; killing it"
      kill -KILL "${pid}" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  rm -f "${nats_pidfile}"
}

# ---------------------------------------------------------------------------------------------------
# Subcommands
# ---------------------------------------------------------------------------------------------------

lock() { # serialises start/stop of the same ports; daemons are started with 9>&- so they never hold it
  mkdir -p "${run_dir}"
  exec 9>"${run_dir}/services-${pg_port}-${nats_port}.lock"
  flock -w "$((timeout_s * 3))" 9 || die "another scripts/services.sh holds ${run_dir}/*.lock"
}
unlock() { exec 9>&-; }

print_env() {
  printf 'export WALLET_PG_URL=%q\n' "postgresql://wallet@127.0.0.1:${pg_port}/wallet"
  printf 'export WALLET_NATS_URL=%q\n' "nats://127.0.0.1:${nats_port}"
  printf 'export WALLET_NATS_MONITOR_URL=%q\n' "http://127.0.0.1:${nats_monitor_port}"
}

cmd_start() {
  lock
  pg_start
  nats_start
  unlock
  log "ready: PostgreSQL 127.0.0.1:${pg_port} (database/role wallet), NATS 127.0.0.1:${nats_port}"
}

cmd_stop() {
  lock
  nats_stop
  pg_stop
  unlock
}

cmd_status() {
  local rc=0 base pid
  if base=$(pg_base_existing) && pg_running "${base}"; then
    if "${pg_bin}/pg_isready" -q -h 127.0.0.1 -p "${pg_port}" -U postgres -d postgres; then
      log "PostgreSQL: running on 127.0.0.1:${pg_port}, $(cat "${base}/mode" 2>/dev/null || echo unknown) mode, data ${base}/data"
    else
      log "PostgreSQL: running but not accepting connections on 127.0.0.1:${pg_port} (${base})"
      rc=3
    fi
  else
    log "PostgreSQL: stopped (port ${pg_port})"
    rc=3
  fi
  if pid=$(nats_pid); then
    if nats_healthy; then
      log "nats-server: running (pid ${pid}) on 127.0.0.1:${nats_port}, JetStream healthy, monitor http://127.0.0.1:${nats_monitor_port}, store ${nats_dir}/store/jetstream"
    else
      log "nats-server: running (pid ${pid}) but /healthz is not ok (log: ${nats_log})"
      rc=3
    fi
  else
    log "nats-server: stopped (port ${nats_port})"
    rc=3
  fi
  return "${rc}"
}

cmd_clean() {
  cmd_stop
  local base
  for base in "${pg_local_base}" "${pg_tmp_base}"; do
    if [[ -d "${base}" ]]; then
      log "removing ${base}"
      rm -rf "${base}"
    fi
  done
  if [[ -d "${nats_dir}" ]]; then
    log "removing ${nats_dir}"
    rm -rf "${nats_dir}"
  fi
}

# Starts the services, runs the command with the env exported, stops what it started, returns the
# command's exit code. Services that were already running are left running.
#
# The command runs as a background child (stdin passed through) and is waited for without signal traps,
# so its exit code is exact. When this script is interrupted (Ctrl-C, SIGTERM, SIGHUP), bash runs the
# EXIT trap: it sends SIGTERM to the command, gives it WALLET_RUN_GRACE_S (default 60) seconds to shut
# down gracefully, then stops the services; the exit code is then 128 + the signal number.
cmd_run() {
  [[ "${1:-}" != -- ]] || shift
  (($# > 0)) || die "usage: scripts/services.sh run -- CMD [ARGS...]"
  local grace_s=${WALLET_RUN_GRACE_S:-60}
  [[ "${grace_s}" =~ ^[0-9]+$ ]] || die "WALLET_RUN_GRACE_S must be a number, got '${grace_s}'"
  local pg_was_running=0 nats_was_running=0 base
  if base=$(pg_base_existing) && pg_running "${base}"; then pg_was_running=1; fi
  if nats_pid >/dev/null; then nats_was_running=1; fi

  run_child=""
  stop_started() {
    trap - EXIT
    trap '' PIPE # if our output is gone (`... | head`), still stop the services
    if [[ -n "${run_child}" ]] && pid_alive "${run_child}"; then
      log "interrupted: sending SIGTERM to the command (pid ${run_child})"
      kill -TERM "${run_child}" 2>/dev/null || true
      local deadline=$((SECONDS + grace_s))
      while pid_alive "${run_child}"; do
        if ((SECONDS >= deadline)); then
          log "the command did not exit within ${grace_s}s; killing it"
          kill -KILL "${run_child}" 2>/dev/null || true
          break
        fi
        sleep 0.1
      done
    fi
    lock
    ((nats_was_running)) || nats_stop
    ((pg_was_running)) || pg_stop
    unlock
    if ((pg_was_running || nats_was_running)); then
      log "left running the services that were up before 'run'"
    fi
  }
  trap stop_started EXIT
  cmd_start
  eval "$(print_env)"

  "$@" <&0 9>&- &
  run_child=$!
  local rc=0
  wait "${run_child}" || rc=$?
  run_child=""
  stop_started
  return "${rc}"
}

usage() {
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) print_env ;;
  clean) cmd_clean ;;
  # Fault injection for tests: stop or start PostgreSQL alone (NATS stays up).
  pg-stop)
    lock
    pg_stop
    unlock
    ;;
  pg-start)
    lock
    pg_start
    unlock
    ;;
  run)
    shift
    cmd_run "$@"
    ;;
  -h | --help | help)
    usage
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac
