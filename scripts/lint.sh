#!/usr/bin/env bash
# Lint: clang-format (no changes allowed) on every project C++ file, then clang-tidy (.clang-tidy, all
# findings are errors) on every project .cpp file in the compile database. Exits non-zero on any finding.
#   scripts/lint.sh                          both
#   scripts/lint.sh format|tidy              one of them
#   scripts/lint.sh all|format|tidy DIR      tidy with DIR's compile_commands.json
# The build directory (DIR, else $BUILD_DIR, else build) holds compile_commands.json; it is
# configured (not built: the headers tidy needs are generated at configure time) if missing.
set -euo pipefail

what=${1:-all}
# DIR is taken relative to the caller's directory, BUILD_DIR (like the other scripts) to the root.
build_dir=${BUILD_DIR:-build}
if (($# > 1)); then build_dir=$(realpath -m -- "$2"); fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo_root=$(pwd)

# Tracked files plus new ones not yet committed (ignored files such as build/ are left out).
project_files() { # patterns...
  git ls-files -z --cached --others --exclude-standard -- "$@" | xargs -0 -r ls -d 2>/dev/null
}

run_format() {
  local files
  mapfile -t files < <(project_files '*.hpp' '*.cpp' '*.h' '*.cc')
  echo "lint: clang-format on ${#files[@]} files"
  ((${#files[@]} == 0)) || clang-format --dry-run --Werror "${files[@]}"
}

run_tidy() {
  if [[ ! -f "${build_dir}/compile_commands.json" ]]; then
    cmake -S . -B "${build_dir}" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  # Only files the build compiles: anything else would be analysed with guessed flags.
  local files=() file
  while IFS= read -r file; do
    if grep -qF "\"${repo_root}/${file}\"" "${build_dir}/compile_commands.json"; then
      files+=("${file}")
    fi
  done < <(project_files '*.cpp' '*.cc')
  echo "lint: clang-tidy on ${#files[@]} files (${build_dir}/compile_commands.json)"
  ((${#files[@]} > 0)) || return 0
  # Generated headers (configure_file) live in the build tree; only the sources are ours to report.
  local header_filter="^${repo_root}/(engine|actors|adapters|app|config)/"
  # The sed drops clang-tidy's per-file "N warnings generated." counts (mostly suppressed system-header
  # warnings); pipefail keeps xargs' status (123 when any file has a finding).
  printf '%s\0' "${files[@]}" |
    xargs -0 -n 1 -P "$(nproc)" clang-tidy -p "${build_dir}" --quiet \
      --header-filter="${header_filter}" --extra-arg=-Wno-unknown-warning-option 2>&1 |
    sed -E '/^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$/d'
}

case "${what}" in
  all)
    rc=0
    run_format || rc=1
    run_tidy || rc=1
    if ((rc == 0)); then echo "lint: clean"; else echo "lint: findings above" >&2; fi
    exit "${rc}"
    ;;
  format) run_format ;;
  tidy) run_tidy ;;
  *)
    echo "usage: scripts/lint.sh [all|format|tidy] [BUILD_DIR]" >&2
    exit 2
    ;;
esac
