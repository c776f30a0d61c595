#!/usr/bin/env bash
# npm pack and npm publish run this first (the "prepack" script): a tarball is built from
# the sources in this tree, never from whatever lib/ and labextension/dist held before.
# lib/ is removed first because the command finds its subcommands by the files in lib/cli/:
# a module left over from a renamed source would ship as a command.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

fail() {
  printf '\nlabnote prepack: FAILED: %s\n' "$*" >&2
  exit 1
}
SETUP_HINT="run bash scripts/setup.sh first (it installs the npm packages and .venv with the JupyterLab that the extension is built against), then npm pack again"

[[ -x node_modules/.bin/tsc ]] || fail "node_modules has no TypeScript compiler; $SETUP_HINT"

rm -rf lib
npm run build || fail "npm run build failed (see above); a tarball needs both lib/ and the JupyterLab extension: $SETUP_HINT"

for f in lib/index.js lib/index.d.ts lib/cli/main.js labextension/dist/package.json; do
  [[ -f "$f" ]] || fail "the build produced no $f; $SETUP_HINT"
done
echo "labnote prepack: built lib/ and labextension/dist/"
