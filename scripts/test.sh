#!/usr/bin/env bash
# npm test: sets everything up (with Chromium), then runs every test file in one run of
# node's test runner: core, kernel, notebook and browser tests.
#   npm test -- <files or node --test options>   e.g. npm test -- test/kernel/smoke.test.ts
#   LABNOTE_TEST_CONCURRENCY=N                    test files run at once (default 2)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh --browser

FILES=()
OPTIONS=()
for arg in "$@"; do
  if [[ "$arg" == -* ]]; then OPTIONS+=("$arg"); else FILES+=("$arg"); fi
done
if [[ ${#FILES[@]} == 0 ]]; then
  while IFS= read -r f; do FILES+=("$f"); done < <(find test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
fi
if [[ ${#FILES[@]} == 0 ]]; then
  echo "test: no test files found under test/" >&2
  exit 1
fi

# Two cores: kernel and browser tests each start heavy processes (a tslab kernel compiles
# TypeScript; JupyterLab plus Chromium), so two test files at a time keeps both cores busy
# without starving the timing-sensitive ones.
CONCURRENCY="${LABNOTE_TEST_CONCURRENCY:-2}"
# One hung test must not hold CI: each test gets 10 minutes, the whole run 28.
PER_TEST_MS="${LABNOTE_TEST_TIMEOUT_MS:-600000}"
TOTAL_S="${LABNOTE_TEST_TOTAL_S:-1680}"

echo "test: ${#FILES[@]} test files, $CONCURRENCY at a time"
STATUS=0
timeout --signal=TERM --kill-after=30 "$TOTAL_S" \
  node --import tsx --test --test-concurrency="$CONCURRENCY" --test-timeout="$PER_TEST_MS" \
  "${OPTIONS[@]}" "${FILES[@]}" || STATUS=$?
if [[ $STATUS == 124 || $STATUS == 137 ]]; then
  echo "test: FAILED: the suite ran longer than ${TOTAL_S}s and was stopped (LABNOTE_TEST_TOTAL_S)" >&2
fi
exit "$STATUS"
