#!/usr/bin/env bash
# The wallet and event parts of a commit without a client: server CPU per event of wallet_commit
# (docs/database.md, "Where PostgreSQL's CPU goes"). Figures only; nothing is asserted.
#
#   loadtest/pg/commit_micro.sh URL FIRST ITERS [BATCH]
#
# URL is a migrated database on a LOCAL server (the backend's CPU is read from /proc); FIRST and
# ITERS the iterations of commit_micro.sql to run, BATCH the wallets per commit (default 500; keep
# it for one database). Iterations 0 to 39 open the 40 * BATCH wallets: run them first, then e.g.
# 40 200, 240 200, ... Prints the backend's user + system CPU and the WAL written, per event.
# Compare two schemas by alternating runs on two databases of the same server.
set -euo pipefail

[[ $# -eq 3 || $# -eq 4 ]] || { echo "usage: $0 URL FIRST ITERS [BATCH]" >&2; exit 2; }
url=$1 first=$2 iters=$3 batch=${4:-500}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tick=$(getconf CLK_TCK)

coproc PSQL { psql "${url}" -X -Atq -v ON_ERROR_STOP=1 2>&1; }
ask() { # sends SQL, prints its answer lines up to the marker
  printf '%s\nSELECT %s;\n' "$1" "'--end--'" >&"${PSQL[1]}"
  local line
  while IFS= read -r line <&"${PSQL[0]}"; do
    [[ ${line} == --end-- ]] && return 0
    printf '%s\n' "${line}"
  done
  echo "commit_micro: psql ended early" >&2
  exit 1
}
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

pid=$(ask "SELECT pg_backend_pid();")
ask "\\i ${here}/commit_micro.sql" >/dev/null
lsn0=$(ask "SELECT pg_current_wal_lsn();")
cpu0=$(cpu "${pid}")
ask "CALL pg_temp.commit_micro(${first}, ${iters}, ${batch});"
cpu1=$(cpu "${pid}")
wal=$(ask "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '${lsn0}')::bigint;")
printf '\\q\n' >&"${PSQL[1]}"
events=$((iters * batch))
echo "iterations ${first}..$((first + iters - 1)): ${events} events," \
  "backend CPU $(((cpu1 - cpu0) * 1000 / tick)) ms = $(((cpu1 - cpu0) * 1000000 / tick / events)) us" \
  "per event, WAL $((wal / events)) bytes per event (all sessions)"
