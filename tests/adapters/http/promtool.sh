#!/bin/bash
# Prints the path of a promtool that runs, for the HTTP API's test of /metrics: $PROMTOOL, one on
# PATH, the chart checks' copy (tests/chart/.tools, tests/chart/setup.sh), or else one unpacked
# here the same way the chart checks do it: Debian 12's prometheus package fetched with
# `apt-get download` and extracted with `dpkg-deb -x` (not installed: no service), kept in
# <repo>/.run/tools (ignored by git). Exit 1 with the reason when none can be had.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
runs() { [ -n "$1" ] && "$1" --version >/dev/null 2>&1; }
for candidate in "${PROMTOOL:-}" "$(command -v promtool || true)" "$repo/tests/chart/.tools/promtool" \
  "$repo/.run/tools/promtool"; do
  if runs "$candidate"; then
    echo "$candidate"
    exit 0
  fi
done
tools="$repo/.run/tools"
mkdir -p "$tools"
download=$(mktemp -d)
trap 'rm -rf "$download"' EXIT
if ! (cd "$download" && apt-get download prometheus >/dev/null 2>&1); then
  # A fresh machine may have no package lists yet.
  if [ "$(id -u)" -eq 0 ]; then apt-get update >/dev/null 2>&1 || true; fi
  (cd "$download" && apt-get download prometheus >/dev/null 2>&1) || {
    echo "promtool.sh: apt-get download prometheus failed (run apt-get update, or set PROMTOOL)" >&2
    exit 1
  }
fi
dpkg-deb -x "$download"/prometheus_*.deb "$download/root"
cp "$download/root/usr/bin/promtool" "$tools/promtool.part"
mv "$tools/promtool.part" "$tools/promtool"
runs "$tools/promtool" || { echo "promtool.sh: the unpacked promtool does not run" >&2; exit 1; }
echo "$tools/promtool"
