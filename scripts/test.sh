#!/usr/bin/env bash
# Install leakstop with its test dependencies into .venv and run the whole test suite.
# Usage: bash scripts/test.sh [pytest args...]      (CI runs exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test
# From Debian's packages, where we can (root with apt-get): headless Chromium renders the HTML audit
# report in one test; MariaDB (mariadbd, and mariadb-install-db with the my_print_defaults it runs) is
# the real server the MySQL/MariaDB URI verifier is tested against (PyPI and npm publish no server).
debs=()
command -v chromium >/dev/null 2>&1 || debs+=(chromium)
{ command -v mariadbd || [ -x /usr/sbin/mariadbd ]; } >/dev/null 2>&1 || debs+=(mariadb-server-core)
command -v my_print_defaults >/dev/null 2>&1 || debs+=(mariadb-client-core)
if [ ${#debs[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq || true
  for deb in "${debs[@]}"; do  # one at a time: one that fails does not keep out the others
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null \
      || echo "note: $deb not installed; the tests that need it will skip"
  done
fi
# npm packages the rewritten JavaScript/TypeScript runs with (AWS SDK v3, tsx, typescript): `npm ci`
# from tests/remediate/node/ into ~/.cache/leakstop/test-node (or $LEAKSTOP_NODE_CACHE), once.
# Without node/npm the Node tests skip and say why.
.venv/bin/python -m tests.remediate.node_fixture
# The moto server (AWS endpoint for the remediation tests) is started by tests/remediate/conftest.py.
exec .venv/bin/python -m pytest "$@"
