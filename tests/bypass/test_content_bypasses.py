"""Content tricks (issue 9, "ways past the hook and the CI gate"): where a secret is stored or how
it is written so that a scanner looking only at plain text files skips it. Each scenario runs in
every mode (diff --staged, action.yml's range step, diff COMMIT, scan, history)."""

from __future__ import annotations

import os

import pytest

from tests.bypass.harness import Attack, Scenario, cases


def _symlink(a: Attack, secret: str) -> None:
    os.symlink(secret, a.repo / "link")


SCENARIOS = [
    Scenario(
        name="symlink-target",
        base={"app.py": "import os\n"},
        attack=_symlink,
        path="link",
    ),
]


@pytest.mark.parametrize("scenario, mode", cases(SCENARIOS))
def test_content_bypass(bypass, scenario, mode):
    bypass(scenario, mode)
