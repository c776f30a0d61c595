#!/usr/bin/env bash
# npm start                 sets everything up, then opens JupyterLab on the quickstart notebook
# npm start -- --headless   sets everything up, runs the quickstart notebook with the tslab
#                           kernel (outputs kept in the notebook) and prints its runs table
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

HEADLESS=0
LAB_ARGS=()
for arg in "$@"; do
  case "$arg" in
    --headless) HEADLESS=1 ;;
    -h|--help)
      echo "usage: npm start [-- --headless] [-- <extra jupyter lab options>]"
      exit 0 ;;
    *) LAB_ARGS+=("$arg") ;;
  esac
done

bash scripts/setup.sh

NOTEBOOK="notebooks/quickstart.ipynb"
JUPYTER="$ROOT/.venv/bin/jupyter"

if [[ $HEADLESS == 1 ]]; then
  if [[ ! -f "$NOTEBOOK" ]]; then
    echo "start: $NOTEBOOK does not exist yet; there is nothing to run headless." >&2
    exit 1
  fi
  # The executed copy goes to .tmp/ so that the notebook in the repository stays as it is.
  # The kernel runs in the notebook's folder and sees its path, as under JupyterLab.
  mkdir -p .tmp
  EXECUTED=".tmp/quickstart.executed.ipynb"
  echo "start: running $NOTEBOOK with the tslab kernel ..."
  STATUS=0
  JPY_SESSION_NAME="$ROOT/$NOTEBOOK" "$JUPYTER" execute --kernel_name=tslab --timeout=600 \
    --output="../$EXECUTED" "$NOTEBOOK" >.tmp/quickstart.log 2>&1 || STATUS=$?
  grep -v "MissingIDFieldWarning\|validate(nb)" .tmp/quickstart.log || true
  [[ $STATUS == 0 ]] || { echo "start: running $NOTEBOOK failed (see above)" >&2; exit 1; }
  echo "start: the executed notebook, with its outputs: $EXECUTED"
  echo "start: runs of the quickstart experiment:"
  if node lib/cli/main.js ls --help >/dev/null 2>&1; then
    node lib/cli/main.js ls quickstart --root notebooks/experiments
  else
    echo "start: this build has no 'labnote ls' command yet, so there is no runs table to print;" >&2
    echo "start: the runs are on disk under notebooks/experiments/quickstart/." >&2
    exit 1
  fi
  exit 0
fi

PORT="${LABNOTE_PORT:-8888}"
ARGS=(--ServerApp.root_dir="$ROOT" --ServerApp.ip=127.0.0.1 --ServerApp.port="$PORT")
[[ $(id -u) == 0 ]] && ARGS+=(--allow-root)
TARGET=()
if [[ -f "$NOTEBOOK" ]]; then
  TARGET=("$NOTEBOOK")
  URL_PATH="lab/tree/$NOTEBOOK"
else
  echo "start: $NOTEBOOK does not exist yet; opening JupyterLab on the repository." >&2
  URL_PATH="lab"
fi
# A token of our own (passed in the environment, not on the command line) so that the URL
# printed here opens the notebook directly.
export JUPYTER_TOKEN="${JUPYTER_TOKEN:-$("$ROOT/.venv/bin/python" -c 'import secrets; print(secrets.token_hex(24))')}"
echo "start: JupyterLab (loopback only; Ctrl+C stops it) at"
echo "start:   http://127.0.0.1:$PORT/$URL_PATH?token=$JUPYTER_TOKEN"
exec "$JUPYTER" lab "${TARGET[@]}" "${ARGS[@]}" "${LAB_ARGS[@]}"
