"""A scan that could not read what it was asked to scan says so and does not exit 0."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import scanner.sources.files as files_mod
from tests.fakes import github_token
from tests.report.test_reports import validate_sarif


@pytest.fixture
def denied(tmp_path: Path, monkeypatch) -> Path:
    """A tree where one directory and one file raise PermissionError (as for a non-root user;
    the suite may run as root, which reads everything)."""
    root = tmp_path / "t"
    (root / "locked").mkdir(parents=True)
    (root / "locked" / "inner.py").write_text("x = 1\n")
    (root / "ok.py").write_text("x = 1\n")
    (root / "noread.py").write_text("x = 1\n")
    real_scandir, real_open, real_os_open = os.scandir, open, os.open

    def scandir(path="."):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    def fake_open(path, *a, **kw):
        if str(path).endswith("noread.py"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **kw)

    def fake_os_open(path, *a, **kw):  # a walked file is read with os.open
        if str(path).endswith("noread.py"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_os_open(path, *a, **kw)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "open", fake_os_open)
    monkeypatch.setattr(files_mod, "open", fake_open, raising=False)
    return root


def test_unreadable_paths_exit_2_and_are_listed(run_cli, denied: Path):
    """Before: exit 0 ('0 finding(s) ... skipped 2 unreadable'), and nothing in JSON."""
    r = run_cli("scan", str(denied), "-f", "json")
    assert r.code == 2
    unread = json.loads(r.out)["stats"]["unreadable"]
    assert unread == [{"path": f"{denied}/locked", "error": "Permission denied"},
                      {"path": f"{denied}/noread.py", "error": "Permission denied"}]
    assert f"leakstop: warning: cannot read {denied}/locked: Permission denied" in r.err
    assert r.err.splitlines()[-1].startswith("leakstop: error: nothing found, but 2 path(s)")
    assert "Traceback" not in r.err


def test_unreadable_paths_in_sarif(run_cli, denied: Path):
    r = run_cli("scan", str(denied), "-f", "sarif", "-q")
    doc = json.loads(r.out)
    validate_sarif(doc)
    [inv] = doc["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is False
    assert [n["message"]["text"] for n in inv["toolExecutionNotifications"]] == [
        f"cannot read {denied}/locked: Permission denied", f"cannot read {denied}/noread.py: Permission denied"]
    assert r.code == 2 and len(r.err.splitlines()) == 3  # two warnings and the error, even with -q


def test_findings_take_precedence_over_unreadable(run_cli, denied: Path):
    (denied / "app.py").write_text(f"token = '{github_token()}'\n")
    r = run_cli("scan", str(denied), "-f", "json")
    doc = json.loads(r.out)
    assert r.code == 1 and len(doc["findings"]) == 1 and len(doc["stats"]["unreadable"]) == 2


def test_parallel_walk_reports_unreadable_too(run_cli, denied: Path, monkeypatch):
    monkeypatch.setattr("scanner.execute.SERIAL_CPU_SECONDS", 0.0)  # split after the first file
    for i in range(210):
        (denied / f"m{i:04d}.py").write_text("x = 1\n")
    r = run_cli("scan", str(denied), "-f", "json", "-j", "2")
    assert r.code == 2 and len(json.loads(r.out)["stats"]["unreadable"]) == 2


def test_path_too_long_in_a_walk(run_cli, tmp_path: Path):
    """A real one: directories nested past PATH_MAX cannot be opened by their full path."""
    name = "d" * 200
    fd = os.open(tmp_path, os.O_RDONLY)
    for _ in range(25):  # 25 x 201 characters > 4096
        os.mkdir(name, dir_fd=fd)
        nfd = os.open(name, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    os.close(fd)
    r = run_cli("scan", str(tmp_path), "-f", "json")
    unread = json.loads(r.out)["stats"]["unreadable"]
    assert r.code == 2 and [u["error"] for u in unread] == ["File name too long"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_real_permission_denied(run_cli, tmp_path: Path):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked").chmod(0)
    try:
        r = run_cli("scan", str(tmp_path))
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert r.code == 2 and "cannot read" in r.err
