#!/usr/bin/env bash
# README command 1: install dependencies, build, start PostgreSQL and NATS (durable mode) and run
# walletd in the foreground. The services this started are stopped when walletd exits; Ctrl-C or
# SIGTERM is forwarded to walletd so it shuts down gracefully first. Arguments go to walletd
# (e.g. --config=config/examples/walletd.json).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=${BUILD_DIR:-build}

bash scripts/install-deps.sh
bash scripts/build.sh

# services.sh run starts the services, exports WALLET_PG_URL / WALLET_NATS_URL, runs the command,
# stops the services on exit (trap) and exits with the command's code. walletd reads its settings
# from WALLETD_SECTION__NAME variables, so the service URLs are handed over unless already set.
# shellcheck disable=SC2016 # expanded by the inner shell, once services.sh has exported the URLs
WALLET_SERVICES_MODE=${WALLET_SERVICES_MODE:-durable} \
  exec bash scripts/services.sh run -- bash -c '
    export WALLETD_POSTGRES__URL="${WALLETD_POSTGRES__URL:-${WALLET_PG_URL}}"
    export WALLETD_NATS__URL="${WALLETD_NATS__URL:-${WALLET_NATS_URL}}"
    # A local run has no token issuer: the HTTP API runs without authentication unless told.
    export WALLETD_AUTH__MODE="${WALLETD_AUTH__MODE:-off}"
    if [ "$WALLETD_AUTH__MODE" = off ]; then
      echo "run.sh: the HTTP API runs WITHOUT authentication (auth.mode=off, development only);" \
        "set WALLETD_AUTH__MODE=jwt and the auth.* settings to turn it on" >&2
    fi
    exec "$@"' walletd "${build_dir}/app/walletd" "$@"
