#!/usr/bin/env bash
# The prologue the walletd system tests share; sourced, not run: a database and a work directory of
# the test's own, removed on exit with the processes it started; fail(); free ports; walletd
# started, waited for and stopped. A test then holds only what it checks.
#   source "$(dirname "$0")/../support/walletd.sh"
#   walletd_test NAME [nats]        # sets db, url, work and the EXIT trap
#   create_database; walletd_start ARGS...; wait_for 30 "walletd is not serving" logged 'LINE'
# Expects `walletd` (the binary) to be set before walletd_start.

# walletd_test NAME [nats]: needs WALLET_PG_URL (and WALLET_NATS_URL with `nats`) from
# scripts/services.sh. Its own database, because other tests share the server: db
# (wallet_NAME_PID), url (that database, same server and user) and work (a temporary directory).
walletd_test() {
  require_env WALLET_PG_URL
  if [ "${2:-}" = nats ]; then require_env WALLET_NATS_URL; fi
  db="wallet_${1}_$$"
  url="${WALLET_PG_URL%/*}/${db}"
  work=$(mktemp -d)
  trap cleanup EXIT
}

require_env() {
  [ -n "${!1:-}" ] || {
    echo "$1 is not set: start scripts/services.sh"
    exit 1
  }
}

# Names of the variables holding the ids of processes to kill (SIGKILL) on exit; a test adds its
# own (kill_on_exit+=(fpid)). An empty or unset variable is skipped.
kill_on_exit=(wpid)

# On exit: the processes, then the database (a process could still hold it), then the files.
# A test with more to undo sets its own trap that calls cleanup first.
cleanup() {
  local name
  for name in "${kill_on_exit[@]}"; do
    [ -n "${!name:-}" ] && kill -9 "${!name}" 2>/dev/null
  done
  wait 2>/dev/null
  psql -q "$WALLET_PG_URL" -c "DROP DATABASE IF EXISTS ${db}" >/dev/null 2>&1
  rm -rf "$work"
}

# How many of walletd's last log lines fail() shows; empty: the whole log.
fail_log_lines=
# fail MESSAGE: says what failed, shows walletd's log (show_logs: a test may define its own), exits 1.
fail() {
  echo "FAIL: $*"
  show_logs
  exit 1
}
show_logs() {
  [ -f "$work/walletd.log" ] || return 0
  if [ -n "$fail_log_lines" ]; then
    echo "--- walletd log (last $fail_log_lines lines):"
    tail -n "$fail_log_lines" "$work/walletd.log"
  else
    echo "--- walletd log:"
    cat "$work/walletd.log"
  fi
}

create_database() { psql -q "$WALLET_PG_URL" -c "CREATE DATABASE ${db}" || fail "cannot create ${db}"; }
# q SQL: the rows of a query on the test's database, unaligned, without headers.
q() { psql -qtA "$url" -c "$1"; }

# A port the kernel picks as free (free again once the probe socket closes). walletd's metrics and
# HTTP ports are served from start-up and a taken one stops it: each test takes its own.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# put FILE TEXT: replaces FILE whole, as a deployment tool should (a rename): a reader polling it
# never sees half a file.
put() { printf '%s\n' "$2" >"$1.tmp" && mv "$1.tmp" "$1"; }

# metrics PORT: what walletd serves at /metrics.
metrics() {
  python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:" + sys.argv[1] + "/metrics", timeout=10).read().decode())' "$1"
}

# walletd_start ARGS...: walletd with ARGS in the background, its output appended to
# $work/walletd.log (a restart keeps the earlier lines); wpid is its process id.
walletd_start() {
  # shellcheck disable=SC2154 # the test sets walletd (the binary) first
  "$walletd" "$@" >>"$work/walletd.log" 2>&1 &
  wpid=$!
}

# logged PATTERN [N]: walletd's log holds at least N (1) lines matching PATTERN.
logged() {
  local n
  n=$(grep -c -- "$1" "$work/walletd.log" 2>/dev/null)
  [ "${n:-0}" -ge "${2:-1}" ]
}
# ready PORT: walletd's HTTP API on PORT answers /health/ready with a success.
ready() { curl -sf "http://127.0.0.1:$1/health/ready" >/dev/null 2>&1; }

# wait_for SECONDS MESSAGE COMMAND...: polls COMMAND until it succeeds; fails with MESSAGE after
# SECONDS, and with "walletd died" as soon as the walletd of wpid (when set) has exited.
wait_for() {
  local tries=$(($1 * 20)) message=$2 i
  shift 2
  for ((i = 0; i < tries; i++)); do
    "$@" && return 0
    if [ -n "${wpid:-}" ] && ! kill -0 "$wpid" 2>/dev/null; then fail "walletd died"; fi
    sleep 0.05
  done
  fail "$message"
}

# walletd_stop: SIGTERM, and walletd must drain and exit 0 (the graceful shutdown).
walletd_stop() {
  local code
  kill -TERM "$wpid"
  wait "$wpid"
  code=$?
  wpid=
  [ "$code" -eq 0 ] || fail "walletd exit status $code on SIGTERM, expected 0"
}
