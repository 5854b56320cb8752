"""The ``bypass`` fixture: ``bypass(scenario, mode)`` builds the scenario's repository in a fresh
temporary directory, runs the mode and asserts the planted secret is reported (see harness.py)."""

from __future__ import annotations

import pytest

from tests.bypass.harness import Outcome, Scenario, check_mode


@pytest.fixture
def bypass(run_cli, tmp_path):
    def run(scenario: Scenario, mode: str) -> Outcome:
        return check_mode(run_cli, scenario, mode, tmp_path / mode)

    return run
