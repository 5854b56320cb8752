"""Options every scanning command shares, and the conventions users bring from other tools:
--exit-code, --color / NO_COLOR, -V, the next step after a block, `leakstop init`."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

KEY = "AKIAZ5QW2XHC7RJK3MNB"


def committed(make_repo, files: dict) -> Path:
    from tests.conftest import git

    repo = make_repo()
    for name, text in files.items():
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "add")
    return repo


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(f"AWS = '{KEY}'\n")
    return tmp_path


@pytest.mark.parametrize("code", ["0", "3", "1"])
def test_exit_code_replaces_only_the_findings_code(run_cli, leaky, code):
    assert run_cli("scan", "--exit-code", code, str(leaky)).code == int(code)
    (leaky / "app.py").write_text("print('clean')\n")
    assert run_cli("scan", "--exit-code", code, str(leaky)).code == 0


def test_exit_code_does_not_hide_errors(run_cli, tmp_path):
    r = run_cli("scan", "--exit-code", "0", str(tmp_path / "missing"))
    assert r.code == 2 and "no such file" in r.err


def test_exit_code_on_diff_and_history(run_cli, make_repo):
    repo = committed(make_repo, {"a.py": f"k = '{KEY}'\n"})
    assert run_cli("history", "--exit-code", "0", "-q", str(repo)).code == 0
    assert run_cli("diff", "--exit-code", "5", "-C", str(repo), "HEAD").code == 5


def test_color_choices_and_no_color(run_cli, leaky, monkeypatch):
    assert "\x1b[" in run_cli("scan", "--color", "always", str(leaky)).out
    assert "\x1b[" not in run_cli("scan", str(leaky)).out  # captured output is not a terminal
    assert "\x1b[" not in run_cli("scan", "--color", "never", str(leaky)).out


def test_use_color_auto_rules(tmp_path, monkeypatch):
    from scanner.commands.common import use_color

    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color("auto", None, Tty())
    assert not use_color("auto", tmp_path / "report.txt", Tty())  # writing a file
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color("auto", None, Tty()) and use_color("always", None, Tty())


def _on_a_terminal(args: list[str], cwd: Path) -> str:
    """Run leakstop with stdout and stderr on a pseudo-terminal; what the terminal showed."""
    import fcntl
    import struct
    import termios

    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a real terminal's size
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "scanner", *args], cwd=cwd, stdout=child, stderr=child, env=env)
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=60)
    os.close(main)
    return out.decode("utf-8", "replace")


def test_colour_on_a_terminal_and_not_in_a_pipe(leaky):
    shown = _on_a_terminal(["scan", "."], leaky)
    assert "\x1b[1mapp.py\x1b[0m" in shown and KEY not in shown
    piped = subprocess.run([sys.executable, "-m", "scanner", "scan", "."], cwd=leaky, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "\x1b[" not in piped.stdout + piped.stderr and "app.py:1:8: aws-access-key-id" in piped.stdout


def test_next_steps_after_a_block(run_cli, leaky):
    r = run_cli("scan", str(leaky))
    hints = [line for line in r.err.splitlines() if line.startswith("leakstop: next:")]
    assert len(hints) == 3
    assert "rotate" in hints[0] and "aws-access-key-id: Deactivate" in hints[0]
    assert "leakstop remediate" in hints[1] and "leakstop:allow" in hints[2] and "baseline" in hints[2]
    assert "next:" not in run_cli("scan", "-q", str(leaky)).err
    (leaky / "app.py").write_text("print('clean')\n")
    assert "next:" not in run_cli("scan", str(leaky)).err


def test_version_names_the_rules(run_cli):
    from scanner import __version__

    for flag in ("-V", "--version"):
        r = run_cli(flag)
        assert r.code == 0 and r.out.startswith(f"leakstop {__version__} (rules: ") and " built in, pack " in r.out


def test_version_reads_the_parsed_rules_cache(run_cli, monkeypatch):
    """-V counts the rules from the scans' parsed-rules cache: once it exists, no YAML is parsed
    (parsing every pack made -V take ~0.6 s, more than a pre-commit scan)."""
    from scanner.rules import load_rules, rule_files

    first = run_cli("--version").out
    assert f"(rules: {len(load_rules(rule_files()))} built in, pack " in first

    def no_yaml(path):
        raise AssertionError(f"parsed {path}")

    monkeypatch.setattr("scanner.rules.load_pack", no_yaml)
    again = run_cli("--version")
    assert again.code == 0 and again.out == first


def test_init_writes_a_commented_config_that_changes_nothing(run_cli, make_repo):
    repo = committed(make_repo, {"a.py": "print('hi')\n"})
    r = run_cli("init", "-C", str(repo))
    assert r.code == 0 and "rev: v" in r.out and "- id: leakstop" in r.out
    cfg = repo / ".leakstop.yaml"
    from scanner.config import load_config

    assert cfg.read_text().startswith("# leakstop configuration")
    from dataclasses import replace

    assert replace(load_config(cfg, repo), source=None) == load_config(None, ROOT / "tests" / "fixtures")  # all commented
    assert run_cli("scan", str(repo)).code == 0  # the template's example token is only a comment
    again = run_cli("init", "-C", str(repo))
    assert again.code == 2 and "already exists" in again.err
    assert run_cli("init", "-C", str(repo), "--force").code == 0


def test_reports_produced_in_tests_are_checked_against_the_schemas(run_cli, leaky, report_checks):
    for fmt in ("json", "jsonl", "gitlab"):
        run_cli("scan", "-f", fmt, str(leaky))
    assert report_checks.seen.get("json") == 1 and report_checks.seen.get("jsonl") == 1
    doc = json.loads(run_cli("scan", "-f", "json", str(leaky)).out)
    doc["findings"][0]["severity"] = "urgent"
    import jsonschema

    from tests.conftest import REPORT_SCHEMA

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json.loads(REPORT_SCHEMA.read_text()))


def test_progress_bar_on_a_terminal_and_not_in_a_pipe(tmp_path):
    for i in range(50):
        (tmp_path / f"f{i}.txt").write_text("nothing to see here\n")
    assert "leakstop scan" in _on_a_terminal(["scan", "--progress", "."], tmp_path)
    # Unasked, a bar waits a moment: a small scan (a pre-commit run) stays silent on a terminal.
    assert "leakstop scan" not in _on_a_terminal(["scan", "."], tmp_path)
    piped = subprocess.run([sys.executable, "-m", "scanner", "scan", "."], cwd=tmp_path, capture_output=True,
                           text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert piped.returncode == 0 and "leakstop scan" not in piped.stderr


def test_progress_bar_is_delayed_only_when_unasked():
    from scanner.progress import DELAY_SECONDS, bar_delay

    class Tty:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty

    assert bar_delay(True, stream=Tty(False)) == 0 and bar_delay(False, stream=Tty(True)) is None
    assert bar_delay(None, stream=Tty(True)) == DELAY_SECONDS and bar_delay(None, stream=Tty(False)) is None
    assert bar_delay(None, quiet=True, stream=Tty(True)) is None


def test_rule_descriptions_are_sentences_and_details_are_verbose(run_cli):
    """Reports show plain descriptions; thresholds and patterns are for `rules list --verbose`."""
    import re

    from scanner.rules import load_rules, rule_files

    for r in load_rules(rule_files()):
        assert not re.search(r"min_entropy|bits/char|\bregex\b", r.summary), r.id
    plain = run_cli("rules", "list")
    line = next(l for l in plain.out.splitlines() if l.startswith("generic-password-quoted\t"))
    assert "entropy" not in line
    verbose = run_cli("rules", "list", "--verbose").out.splitlines()
    i = verbose.index(line)
    details = verbose[i + 1 : i + 8]
    assert any(d.strip().startswith("min_entropy: ") for d in details)
    assert any(d.strip().startswith("regex: ") for d in details)
