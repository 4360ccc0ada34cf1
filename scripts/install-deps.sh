#!/usr/bin/env bash
# Installs the Debian 12 packages wallet-engine needs to build, test and run locally.
# Idempotent: when everything is installed already it does nothing (not even `apt-get update`).
set -euo pipefail

# The one list of packages (facts behind the choices: /work/shared/DEPENDENCIES.md, docs/).
packages=(
  # Build toolchain.
  cmake g++ make pkg-config git ca-certificates
  # Actor runtime (CAF 0.17).
  libcaf-dev
  # Boost 1.81: Asio/Beast (HTTP), JSON, URL. Replaces Debian's 1.74 libboost-dev family.
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  # PostgreSQL client (libpqxx 6.4 over libpq).
  libpqxx-dev libpq-dev
  # NATS / JetStream client (NATS.c 3.4).
  libnats-dev
  # Metrics, logging, TLS.
  prometheus-cpp-dev libspdlog-dev libfmt-dev libssl-dev
  # Tests and micro-benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev
  # System tests pick free ports and read JSON with Python 3's standard library; the HTTP API's
  # authentication test speaks to walletd with curl.
  python3 curl
  # The HTTP API's benchmark (scripts/bench-http.sh) drives walletd with wrk.
  wrk
  # Local services started by scripts/services.sh (no systemd: the script runs them).
  postgresql-15 postgresql-client-15 nats-server
  # Lint (scripts/lint.sh).
  clang-format clang-tidy
  # Process tools (ps, pgrep, kill) used by system tests and when debugging local services.
  procps
)

# Node.js and npm drive the third-party client test (tests/system/node). A machine that already has
# them (e.g. NodeSource's nodejs, which conflicts with Debian's npm package) keeps its own; otherwise
# Debian's nodejs and npm are installed.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null || true)
  if [[ "${status}" != "install ok installed" ]]; then
    missing+=("${pkg}")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages are installed."
  exit 0
fi

echo "install-deps: missing: ${missing[*]}"

if [[ ${EUID} -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: must run as root (or with sudo available) to install: ${missing[*]}" >&2
  exit 1
fi

"${as_root[@]}" apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-deps: done."
