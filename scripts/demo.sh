#!/usr/bin/env bash
# Install leakstop into .venv and scan a small demo application with planted (fake) secrets.
# Usage: bash scripts/demo.sh [extra leakstop scan args...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
DEMO=$(mktemp -d "${TMPDIR:-/tmp}/leakstop-demo.XXXXXX")
.venv/bin/python scripts/make_demo.py "$DEMO"
echo "== leakstop scan $DEMO" >&2
set +e
.venv/bin/leakstop scan "$DEMO" "$@"
rc=$?
set -e
echo "== exit code $rc (0 clean, 1 leaks found, 2 error)" >&2
exit 0
