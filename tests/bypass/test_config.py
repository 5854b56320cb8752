"""Bypass: a pull request that rewrites the configuration or baseline the gate applies to it
(allowlist everything, disable rules, accept its own secret)."""

from __future__ import annotations

import pytest

from tests.bypass.harness import Attack, Scenario, cases


# The pre-commit hook reads the committer's own work tree (they control their machine and can skip
# the hook anyway); scan and history audit with the repository's current configuration. The
# gate (range) and `diff COMMIT` must apply the base's configuration.
CONFIG_SKIP = {
    "staged": "the hook applies the committer's own configuration (docs/git-hook-and-ci.md)",
    "scan": "scan audits a tree with that tree's configuration",
    "history": "history audits with the repository's current configuration",
}


def _config_attack(new_config: str, config_path: str = ".leakstop.yaml"):
    def attack(a: Attack, s: str) -> None:
        a.write({config_path: new_config, "app.py": f"import os\nTOKEN = '{s}'\n"})

    return attack


BENIGN = "allowlist:\n  paths: ['tests/fixtures/**']\n"
CONFIGS = [
    Scenario("config-adds-allowlist-all", {"app.py": "import os\n"},
             _config_attack("allowlist:\n  paths: ['**']\n"), "app.py", skip=CONFIG_SKIP),
    Scenario("config-disables-rules", {"app.py": "import os\n", ".leakstop.yaml": BENIGN},
             _config_attack(BENIGN + "disabled_rules: [github-pat-classic, generic-secret-assignment]\n"),
             "app.py", skip=CONFIG_SKIP),
    Scenario("config-allowlists-values", {"app.py": "import os\n", ".leakstop.yaml": BENIGN},
             _config_attack("allowlist:\n  regexes: ['.']\n  stopwords: ['ghp_']\n"), "app.py", skip=CONFIG_SKIP),
    Scenario("config-tiny-size-limit", {"app.py": "import os\n"},
             _config_attack("max_file_size: 8\n"), "app.py", skip=CONFIG_SKIP),
    Scenario("config-named-by-action-input", {"app.py": "import os\n", "ci/leakstop.yaml": BENIGN},
             _config_attack("allowlist:\n  paths: ['**']\n", "ci/leakstop.yaml"), "app.py",
             skip=CONFIG_SKIP, action_inputs={"config": "ci/leakstop.yaml"},
             diff_args=("--config", "ci/leakstop.yaml")),
]


def _accept_in_baseline(a: Attack, s: str) -> None:
    a.write({"app.py": f"import os\nTOKEN = '{s}'\n"})
    a.leakstop("baseline", "create", ".")  # the pull request accepts its own secret


def _base_with_baseline() -> dict:
    return {"app.py": "import os\n", ".leakstop-baseline.json": EMPTY_BASELINE}


EMPTY_BASELINE = '{\n  "tool": "leakstop",\n  "version": 1,\n  "salt": "00112233445566778899aabbccddeeff",\n  "entries": [\n  ]\n}\n'
BASELINES = [
    Scenario("baseline-accepts-own-secret", _base_with_baseline(), _accept_in_baseline, "app.py",
             skip=CONFIG_SKIP, action_inputs={"baseline": ".leakstop-baseline.json"},
             diff_args=("--baseline", ".leakstop-baseline.json")),
]

SCENARIOS = CONFIGS + BASELINES


@pytest.mark.parametrize("scenario, mode", cases(SCENARIOS))
def test_bypass(bypass, scenario, mode):
    bypass(scenario, mode)
