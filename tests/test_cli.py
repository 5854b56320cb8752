"""The one handler: every failure is one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import github_token


@pytest.fixture
def buggy_scan(monkeypatch):
    """A bug deep in a command whose exception message quotes scanned text."""
    token = github_token()

    def boom(*a, **kw):
        int(token)

    monkeypatch.setattr("scanner.pipeline.scan_paths", boom)
    return token


def test_unexpected_exception_is_one_line_without_its_message(run_cli, buggy_scan, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("LEAKSTOP_DEBUG", raising=False)
    r = run_cli("scan", str(tmp_path))
    assert r.code == 2 and r.out == ""
    assert r.err.startswith("leakstop: internal error: ValueError at ") and len(r.err.splitlines()) == 1
    assert "LEAKSTOP_DEBUG=1" in r.err and "Traceback" not in r.err
    assert buggy_scan not in r.err  # the message (which quotes the value) is never printed


def test_debug_env_prints_the_traceback(run_cli, buggy_scan, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LEAKSTOP_DEBUG", "1")
    r = run_cli("scan", str(tmp_path))
    assert r.code == 2 and "internal error: ValueError" in r.err and "Traceback (most recent call last)" in r.err


def test_deeply_nested_baseline_is_a_one_line_error(run_cli, tmp_path: Path):
    """Before: RecursionError from the JSON parser."""
    deep = tmp_path / "deep.json"
    deep.write_text('{"salt": "x", "entries": ' + "[" * 100_000 + "]" * 100_000 + "}")
    (tmp_path / "a.py").write_text("x = 1\n")
    r = run_cli("scan", str(tmp_path / "a.py"), "--baseline", str(deep))
    assert r.code == 2 and r.err == f"leakstop: error: {deep}: not a leakstop baseline (invalid JSON: nested too deeply)\n"


def test_deeply_nested_config_is_a_one_line_error(run_cli, tmp_path: Path):
    cfg = tmp_path / "deep.yaml"
    cfg.write_text("exclude: " + "[" * 100_000 + "]" * 100_000 + "\n")
    r = run_cli("scan", str(tmp_path), "--config", str(cfg))
    assert r.code == 2 and len(r.err.splitlines()) == 1 and "invalid YAML" in r.err


def _hostile_cases(tmp: Path) -> list[tuple[list[str], str]]:
    long_name = str(tmp / ("a" * 5000))
    ds = tmp / "ds.json"
    ds.write_text('{"results": {"a.py": [{"hashed_secret": "00", "line_number": "x"}]}}')
    return [
        (["scan", long_name], "File name too long"),
        (["scan", str(tmp), "--config", str(tmp)], "is a directory"),
        (["scan", str(tmp), "-j", "100000"], "is not in the range"),
        (["history", str(tmp), "-j", "100000"], "is not in the range"),
        (["baseline", "import", str(ds), "-o", str(tmp / "bl.json")], "integer 'line_number'"),
        (["diff", "--staged", "-C", long_name], "no such directory"),
    ]


def test_hostile_inputs_are_one_line_errors(run_cli, tmp_path: Path):
    (tmp_path / "a.py").write_text("x = 1\n")
    for args, message in _hostile_cases(tmp_path):
        r = run_cli(*args)
        assert r.code == 2 and message in r.err and len(r.err.splitlines()) == 1, (args[:2], r.err[-200:])
        assert "internal error" not in r.err


def test_unusable_cache_directory_is_not_an_error(run_cli, tmp_path: Path, monkeypatch):
    """The rules cache is an optimisation: one that cannot be read (before: OSError from
    is_file() on EACCES or a name too long) is skipped."""
    monkeypatch.setenv("LEAKSTOP_CACHE_DIR", str(tmp_path / ("c" * 5000)))
    (tmp_path / "a.py").write_text("x = 1\n")
    r = run_cli("scan", str(tmp_path / "a.py"))
    assert r.code == 0 and "1 files scanned" in r.err


def test_readme_documents_every_action_input_and_output():
    import yaml

    from tests.conftest import ROOT

    action = yaml.safe_load((ROOT / "action.yml").read_text())
    readme = (ROOT / "README.md").read_text()
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"| `{name}` |" in readme, name


def test_readme_snippets_pin_this_version():
    """The pre-commit `rev`, the action's tag and pip's `@v` in the README and docs name the
    version being released (a tag that exists once it is tagged), never another."""
    import re

    from scanner import __version__
    from tests.conftest import ROOT

    texts = [(ROOT / "README.md").read_text()] + [p.read_text() for p in (ROOT / "docs").rglob("*.*")]
    pins = {m for t in texts for m in re.findall(r"(?:rev: |@)v(\d+\.\d+\.\d+)", t)}
    assert pins == {__version__}
