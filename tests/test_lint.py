"""The code passes ruff and mypy at the strictness pyproject.toml states (run by the test command,
so a change that adds an unused import, an undefined name or a type error fails CI)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_ruff_finds_nothing():
    pytest.importorskip("ruff", reason="ruff is a test dependency: pip install -e '.[test]'")
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-500:]


def test_mypy_finds_nothing():
    """mypy at the strictness and over the files pyproject.toml's [tool.mypy] states."""
    pytest.importorskip("mypy", reason="mypy is a test dependency: pip install -e '.[test]'")
    r = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-500:]
