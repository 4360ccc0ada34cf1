#!/usr/bin/env bash
# README command 2: install dependencies, build, then run the whole test suite (CTest) against
# throwaway PostgreSQL and NATS started in fast mode (no fsync) and stopped afterwards.
# Exits with CTest's code. Extra arguments go to ctest, e.g. -L engine or -R money.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=${BUILD_DIR:-build}

bash scripts/install-deps.sh
bash scripts/build.sh
WALLET_SERVICES_MODE=${WALLET_SERVICES_MODE:-fast} \
  exec bash scripts/services.sh run -- \
  ctest --test-dir "${build_dir}" --output-on-failure -j2 --timeout 900 "$@"
