#!/usr/bin/env bash
# Install leakstop with its test dependencies into .venv and run the whole test suite.
# Usage: bash scripts/test.sh [pytest args...]      (CI runs exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test
# Headless Chromium renders the HTML audit report in one test; install it where we can.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "note: chromium not installed; the HTML render test will skip"
fi
# npm packages the rewritten JavaScript/TypeScript runs with (AWS SDK v3, tsx, typescript): `npm ci`
# from tests/remediate/node/ into ~/.cache/leakstop/test-node (or $LEAKSTOP_NODE_CACHE), once.
# Without node/npm the Node tests skip and say why.
.venv/bin/python -m tests.remediate.node_fixture
# The moto server (AWS endpoint for the remediation tests) is started by tests/remediate/conftest.py.
exec .venv/bin/python -m pytest "$@"
