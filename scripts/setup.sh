#!/usr/bin/env bash
# Sets up everything labnote needs, from nothing, and is quick when nothing changed:
#   npm packages from package-lock.json, the build (lib/ and the JupyterLab extension),
#   .venv with requirements.txt (JupyterLab, nbclient, ...), the tslab kernels and the
#   extension registered in .venv, and with --browser, Chromium for the browser tests.
# Each step keeps a hash of its inputs and is skipped while they are unchanged.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BROWSER=0
for arg in "$@"; do
  case "$arg" in
    --browser) BROWSER=1 ;;
    -h|--help)
      echo "usage: scripts/setup.sh [--browser]   (--browser also installs Chromium for the browser tests)"
      exit 0 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done

LOGS="$ROOT/.tmp/setup"
mkdir -p "$LOGS"
START=$(date +%s)

# Two setups of one tree at once (two terminals, npm test beside npm start) take turns.
if command -v flock >/dev/null; then
  exec 9>"$ROOT/.tmp/setup.lock"
  flock 9
fi

say() { printf 'setup: %s\n' "$*"; }
die() { printf '\nsetup: FAILED: %s\n' "$*" >&2; exit 1; }
# Runs a step with its output in a log; on failure shows the end of the log and stops.
logged() {
  local name="$1"; shift
  local log="$LOGS/$name.log"
  local t0=$SECONDS
  if ! "$@" >"$log" 2>&1; then
    echo "----- last lines of $log -----" >&2
    grep -v "^WARNING: Location 'file:" "$log" | tail -n 40 >&2 || true
    die "$name failed (command: $*; full log: $log)"
  fi
  say "  $name done in $((SECONDS - t0))s"
}
hash_files() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }
stamp_ok() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }

command -v node >/dev/null || die "node is not installed (Node 20.17 or newer is needed)"
command -v npm >/dev/null || die "npm is not installed"
command -v python3 >/dev/null || die "python3 is not installed (Python 3.11 or newer with the venv module is needed)"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "python3 is $(python3 -V 2>&1); requirements.txt needs Python 3.11 or newer"

# --- npm packages -------------------------------------------------------------------
NPM_STAMP="node_modules/.labnote-lock.sha256"
LOCK_HASH="$(hash_files package-lock.json)"
if [[ ! -d node_modules ]] || ! stamp_ok "$NPM_STAMP" "$LOCK_HASH"; then
  if [[ -d node_modules && -f node_modules/.package-lock.json && node_modules/.package-lock.json -nt package-lock.json ]] \
     && [[ -d node_modules/tslab ]]; then
    # npm install wrote package-lock.json and then the tree: already in step.
    say "npm packages: in step with package-lock.json"
  else
    say "npm packages: npm ci (package-lock.json is new or changed) ..."
    if command -v flock >/dev/null; then
      # Serialises setups that share this machine's npm cache and tree.
      logged npm-ci flock "${LABNOTE_NPM_LOCK:-/tmp/labnote-npm.lock}" npm ci --no-audit --no-fund
    else
      logged npm-ci npm ci --no-audit --no-fund
    fi
  fi
  echo "$LOCK_HASH" >"$NPM_STAMP"
else
  say "npm packages: up to date"
fi

# Notebooks in this repository import "labnote" by name (as a user's project would, with
# labnote installed): link the package into its own node_modules. npm ci and npm install
# remove the link, so it is checked on every run.
if [[ "$(readlink node_modules/labnote 2>/dev/null)" != ".." ]]; then
  rm -rf node_modules/labnote
  ln -s .. node_modules/labnote
  say "npm packages: linked node_modules/labnote to this package"
fi

# --- Python environment -------------------------------------------------------------
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
PIP_STAMP="$VENV/.labnote-requirements.sha256"
REQ_HASH="$( (cat requirements.txt; python3 -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
if [[ -x "$PY" ]] && "$PY" -c 'import sys' 2>/dev/null && stamp_ok "$PIP_STAMP" "$REQ_HASH"; then
  say "python: .venv up to date"
else
  if ! [[ -x "$PY" ]] || ! "$PY" -c 'import sys' 2>/dev/null; then
    say "python: creating .venv ..."
    rm -rf "$VENV"
    logged venv python3 -m venv "$VENV"
  fi
  say "python: pip install -r requirements.txt (JupyterLab, nbclient, ...) ..."
  logged pip "$PY" -m pip install --disable-pip-version-check --no-input -r requirements.txt
  echo "$REQ_HASH" >"$PIP_STAMP"
fi

# --- build: lib/ and the JupyterLab extension -----------------------------------------
# `npm run build` is both halves; each half has its own stamp, so that a change in src/
# does not rebuild the extension (it only reads src/protocol) and the reverse.
sources_hash() {
  if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked and untracked files that git does not ignore: every source the build reads.
    (git ls-files -co --exclude-standard -- "$@" | sort | while IFS= read -r f; do
       [[ -f "$f" ]] && { echo "$f"; cat "$f"; }; done) | sha256sum | cut -d' ' -f1
  else
    echo "no-git-$(date +%s%N)"
  fi
}
LIB_STAMP="$LOGS/lib-build.sha256"
LIB_HASH="$(sources_hash src tsconfig.json package.json package-lock.json)"
LIB_OK=0
stamp_ok "$LIB_STAMP" "$LIB_HASH" && [[ -f lib/cli/main.js ]] && LIB_OK=1
NEED_EXT=0
EXT_OK=1
EXT_STAMP="$LOGS/extension-build.sha256"
EXT_HASH=""
if [[ -f labextension/package.json ]]; then
  NEED_EXT=1
  EXT_HASH="$(sources_hash labextension src/protocol package.json package-lock.json)"
  stamp_ok "$EXT_STAMP" "$EXT_HASH" && [[ -f labextension/dist/package.json ]] || EXT_OK=0
fi
if [[ $LIB_OK == 1 && $EXT_OK == 1 ]]; then
  say "build: up to date"
elif [[ $LIB_OK == 0 && $EXT_OK == 0 ]]; then
  say "build: npm run build (TypeScript to lib/, JupyterLab extension to labextension/dist/) ..."
  logged build npm run build
elif [[ $LIB_OK == 0 ]]; then
  say "build: TypeScript to lib/ (the extension is up to date) ..."
  logged build npm run build:lib
else
  say "build: JupyterLab extension to labextension/dist/ (lib/ is up to date) ..."
  logged build npm run build:labextension --if-present
fi
[[ -f lib/cli/main.js ]] || die "the build produced no lib/cli/main.js"
echo "$LIB_HASH" >"$LIB_STAMP"
if [[ $NEED_EXT == 1 ]]; then
  [[ -f labextension/dist/package.json ]] || die "the build produced no labextension/dist/package.json"
  echo "$EXT_HASH" >"$EXT_STAMP"
fi
BUILD_HASH="$LIB_HASH $EXT_HASH"

# --- kernels and extension in .venv -----------------------------------------------------
KSPEC="$VENV/share/jupyter/kernels/tslab/kernel.json"
EXT_DIR="$VENV/share/jupyter/labextensions/labnote-jupyterlab"
INSTALL_HASH="$(echo "$BUILD_HASH $REQ_HASH $LOCK_HASH $ROOT")"
INSTALL_STAMP="$VENV/.labnote-install.sha256"
if stamp_ok "$INSTALL_STAMP" "$INSTALL_HASH" && [[ -f "$KSPEC" ]] && { [[ $NEED_EXT == 0 ]] || [[ -f "$EXT_DIR/package.json" ]]; }; then
  say "kernels: tslab and the extension already installed in .venv"
else
  say "kernels: labnote install --python .venv/bin/python --sys-prefix ..."
  if ! node lib/cli/main.js install --python "$PY" --sys-prefix >"$LOGS/install.log" 2>&1; then
    cat "$LOGS/install.log" >&2
    die "labnote install failed (log: $LOGS/install.log)"
  fi
  grep -E "^labnote:" "$LOGS/install.log" | sed 's/^/  /'
  [[ -f "$KSPEC" ]] || die "the tslab kernel spec was not written to $KSPEC"
  echo "$INSTALL_HASH" >"$INSTALL_STAMP"
fi

# --- Chromium for browser tests ---------------------------------------------------------
if [[ $BROWSER == 1 ]]; then
  if [[ -x /usr/bin/chromium ]]; then
    say "chromium: present (/usr/bin/chromium)"
  else
    SUDO=""
    if [[ $(id -u) != 0 ]]; then
      command -v sudo >/dev/null || die "Chromium is missing and installing it needs root: apt-get install -y chromium"
      SUDO="sudo -n"
    fi
    say "chromium: apt-get install -y chromium ..."
    logged apt-update $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update
    logged apt-chromium $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
    [[ -x /usr/bin/chromium ]] || die "apt-get installed chromium but /usr/bin/chromium is missing"
  fi
fi

say "ready in $(( $(date +%s) - START ))s"
