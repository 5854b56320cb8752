#!/usr/bin/env bash
# Create .venv (if missing) and install leakstop into it, editable; pass "test" to add test extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
extra=${1:-}
spec=.
[ "$extra" = test ] && spec='.[test]'
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
log=$(mktemp)
# compat: the checkout is put on sys.path by a plain .pth line. The default editable mode installs
# an import hook whose module pulls in pathlib, importlib.util and urllib at every start of the
# interpreter (~10 ms per command, the pre-commit hook included), which no installed wheel pays.
if ! { .venv/bin/python -m pip install -q --upgrade pip \
       && .venv/bin/python -m pip install -q -e "$spec" --config-settings editable_mode=compat; } >"$log" 2>&1; then
  cat "$log" >&2; rm -f "$log"; echo "install failed" >&2; exit 2
fi
rm -f "$log"
# Byte-compile the package: an editable install does not, and a hook that starts a fresh
# interpreter on every commit should not recompile its modules each time.
.venv/bin/python -m compileall -q scanner >/dev/null
