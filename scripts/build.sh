#!/usr/bin/env bash
# Configures and builds wallet-engine (Release) into build/ (override with BUILD_DIR).
# Extra arguments are passed to the CMake configure step, e.g. -DWALLET_BUILD_BENCHMARKS=OFF.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=${BUILD_DIR:-build}

cmake -S . -B "${build_dir}" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "${build_dir}" -j"$(nproc)"
