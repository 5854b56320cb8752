"""Non-UTF-8 file names and terminals that cannot encode: every output is valid, nothing raises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.display import display_bytes, display_path
from tests.conftest import git
from tests.fakes import github_token

NAME = b"caf\xe9.py"  # Latin-1, not UTF-8
SHOWN = "caf\\xe9.py"


def test_display_path_escapes_undecodable_bytes_only():
    assert display_path(os.fsdecode(NAME)) == SHOWN == display_bytes(NAME)
    assert display_path("café/naïve.py") == "café/naïve.py"
    assert display_path(SHOWN) == SHOWN  # idempotent
    assert display_path("\ud800x").encode("utf-8")  # a surrogate surrogateescape did not make


@pytest.fixture
def odd_tree(tmp_path: Path) -> Path:
    if sys.platform == "darwin":
        pytest.skip("macOS refuses non-UTF-8 file names")
    d = tmp_path / "d"
    d.mkdir()
    token = github_token()
    with open(os.path.join(os.fsencode(d), NAME), "w") as fh:
        fh.write(f'token = "{token}"\n')
    return d


def _leakstop(args: list, cwd: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scanner", *args], cwd=cwd, capture_output=True,
                          env={**os.environ, **env})


def _paths(fmt: str, out: bytes) -> list[str]:
    text = out.decode("utf-8")  # strict: the report must be valid UTF-8
    if fmt == "text":
        return [line.split(":")[0] for line in text.splitlines()]
    if fmt == "jsonl":
        return [json.loads(line)["path"] for line in text.splitlines()]
    if fmt == "sarif":
        from urllib.parse import unquote

        results = json.loads(text)["runs"][0]["results"]
        return [unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results]
    return [f["path"] for f in json.loads(text)["findings"]]


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "sarif"])
def test_non_utf8_file_name_in_every_format(odd_tree: Path, fmt: str):
    """Before: UnicodeEncodeError with -f sarif/-o, raw invalid bytes on stdout with json/jsonl."""
    for out_file in (None, odd_tree.parent / f"report.{fmt}"):
        args = ["scan", "d", "-f", fmt] + (["-o", str(out_file)] if out_file else [])
        p = _leakstop(args, odd_tree.parent)
        assert p.returncode == 1 and b"Traceback" not in p.stderr, p.stderr[-300:]
        data = out_file.read_bytes() if out_file else p.stdout
        assert _paths(fmt, data) == [f"d/{SHOWN}"]


def test_non_utf8_file_name_shown_alike_in_git_modes(odd_tree: Path, make_repo):
    repo = make_repo()
    (repo / os.fsdecode(NAME)).write_bytes((odd_tree / os.fsdecode(NAME)).read_bytes())
    git(repo, "add", "-A")
    staged = _leakstop(["diff", "--staged", "-f", "json"], repo)
    git(repo, "commit", "-qm", "add")
    history = _leakstop(["history", "-f", "json"], repo)
    for p in (staged, history):
        assert p.returncode == 1 and _paths("json", p.stdout) == [SHOWN]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_ascii_terminal_degrades_instead_of_crashing(odd_tree: Path, fmt: str):
    """Before: UnicodeEncodeError on the mask's '…' with PYTHONIOENCODING=ascii."""
    p = _leakstop(["scan", "d", "-f", fmt], odd_tree.parent, PYTHONIOENCODING="ascii")
    assert p.returncode == 1 and b"Traceback" not in p.stderr
    if fmt == "text":
        p.stdout.decode("ascii")
        assert b"ghp_... key=token" in p.stdout and SHOWN.encode() in p.stdout
    else:  # JSON is UTF-8 whatever the terminal (RFC 8259)
        assert json.loads(p.stdout.decode("utf-8"))["findings"][0]["masked"] == "ghp_…"
    assert b"1 finding(s)" in p.stderr


def test_ascii_terminal_error_message(tmp_path: Path):
    missing = tmp_path / "naïve"
    p = _leakstop(["scan", str(missing)], tmp_path, PYTHONIOENCODING="ascii")
    assert p.returncode == 2 and p.stderr.decode("ascii").count("\n") == 1
    assert "na\\xefve: no such file or directory" in p.stderr.decode()
