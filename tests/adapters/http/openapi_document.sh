#!/bin/bash
# docs/openapi.json against the OpenAPI 3.1 specification's JSON Schema (node and the npm package
# pinned in tests/adapters/http/openapi, installed there with `npm ci` the first time). A broken
# copy of the document must be refused first: the validator is shown to be able to fail.
# Usage: openapi_document.sh DOCUMENT.json
set -u
doc=$(realpath -- "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }
command -v node >/dev/null || fail "node is not installed (bash scripts/install-deps.sh)"
command -v npm >/dev/null || fail "npm is not installed (bash scripts/install-deps.sh)"
cd "$here/openapi" || fail "no $here/openapi"
if ! cmp -s package-lock.json node_modules/.wallet-engine-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error || fail "npm ci in $here/openapi failed"
  cp package-lock.json node_modules/.wallet-engine-lock
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$doc" "$work/broken.json" <<'PY' || fail "cannot make the broken copy"
import json, sys
d = json.load(open(sys.argv[1]))
del d["info"]["title"]
json.dump(d, open(sys.argv[2], "w"))
PY
node validate.mjs "$work/broken.json" 3.1 >/dev/null 2>&1 && fail "a document without info.title passed"
node validate.mjs "$doc" 3.1 || fail "$doc does not validate"
echo PASS
