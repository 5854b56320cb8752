"""The harness itself: a plainly added secret is found in every mode, a scenario that plants
nothing fails every mode, and the range mode really runs action.yml's scan step."""

from __future__ import annotations

import pytest

from tests.bypass.harness import MODES, Scenario, _action_step, cases

PLAIN = Scenario(
    name="plain-added-line",
    base={"app.py": "import os\n"},
    attack=lambda a, s: a.write({"app.py": f"import os\nTOKEN = '{s}'\n"}),
    path="app.py",
)
NOTHING = Scenario(
    name="plants-nothing",
    base={"app.py": "import os\n"},
    attack=lambda a, s: a.write({"app.py": "import os\nTOKEN = os.environ['TOKEN']\n"}),
    path="app.py",
)


@pytest.mark.parametrize("scenario, mode", cases([PLAIN]))
def test_plain_secret_found_in_every_mode(bypass, scenario, mode):
    bypass(scenario, mode)


@pytest.mark.parametrize("mode", MODES)
def test_a_miss_fails(bypass, mode):
    with pytest.raises(AssertionError, match="missed the planted secret"):
        bypass(NOTHING, mode)


def test_range_mode_runs_the_actions_scan_step():
    script, env, defaults = _action_step()
    assert "leakstop diff" in script and "INPUT_BASE" in env
    assert "sarif-file" in defaults
