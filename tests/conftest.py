"""Shared test helpers: run the CLI in-process, build scratch git repositories."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from scanner.models import Identity

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
# A fixed fingerprint key: hashes computed in a test compare with those of any engine given it.
IDENTITY = Identity(b"leakstop test key", "test")


# Property tests (hypothesis): CI runs a fixed set of examples (derandomize: the same inputs
# every run, no example database), so a red CI is reproducible locally with the same profile;
# "dev" explores new random inputs each run and remembers failures in .hypothesis/; "deep" is
# for hunting (thousands of examples per property). Choose with LEAKSTOP_HYPOTHESIS=NAME.
# Deadlines are per test (generous: they catch hangs and super-linear time, not slowness).
_PROFILE = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=40, derandomize=True, database=None, print_blob=True, **_PROFILE)
settings.register_profile("dev", max_examples=80, **_PROFILE)
settings.register_profile("deep", max_examples=2000, **_PROFILE)
settings.load_profile(os.environ.get("LEAKSTOP_HYPOTHESIS") or ("ci" if os.environ.get("CI") else "dev"))


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # One compiled-rules cache for the session, never the user's ~/.cache.
    monkeypatch.setenv("LEAKSTOP_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "leakstop-cache"))
    # The per-user fingerprint key goes to a session directory, never the user's ~/.config, and
    # a key set in the developer's environment does not change what the tests see.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "xdg-config"))
    monkeypatch.delenv("LEAKSTOP_FINGERPRINT_KEY", raising=False)


# Report schemas every report the tests produce is checked against: leakstop's own (shipped in the
# package) for JSON and JSON Lines, GitLab's published secret-detection schema (../shared; not
# checked where ../shared is absent) for -f gitlab.
REPORT_SCHEMA = ROOT / "scanner" / "schemas" / "report.schema.json"
GITLAB_SCHEMA = SHARED / "schemas" / "gitlab-secret-detection-report-format-15.2.4.json"


@dataclass
class ReportChecks:
    """Which formats' reports were validated so far (tests can assert the checker saw theirs)."""

    seen: dict


@pytest.fixture(scope="session")
def _report_validators():
    import json

    import jsonschema

    own = jsonschema.Draft202012Validator(json.loads(REPORT_SCHEMA.read_text()))
    line = jsonschema.Draft202012Validator({**own.schema, "$ref": "#/$defs/jsonl_line", "required": [],
                                            "type": "object"})
    gitlab = (jsonschema.Draft7Validator(json.loads(GITLAB_SCHEMA.read_text())) if GITLAB_SCHEMA.is_file() else None)

    def lines(text):
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    return {
        "json": lambda text: own.validate(json.loads(text)),
        "jsonl": lambda text: [line.validate(d) for d in lines(text)],
        "gitlab": (lambda text: gitlab.validate(json.loads(text))) if gitlab else None,
    }


@pytest.fixture(autouse=True)
def report_checks(monkeypatch, _report_validators):
    """Every JSON, JSONL and GitLab report rendered in-process during the tests is validated
    against its schema; a report that does not validate fails the test that produced it."""
    import scanner.report as reports

    checks = ReportChecks(seen={})
    real = reports.render

    def checked(fmt, findings, ctx):
        text = real(fmt, findings, ctx)
        validate = _report_validators.get(fmt)
        if validate is not None:
            validate(text)
            checks.seen[fmt] = checks.seen.get(fmt, 0) + 1
        return text

    monkeypatch.setattr(reports, "render", checked)
    return checks


@pytest.fixture
def run_cli(capsys):
    """Invoke ``leakstop ARGS`` in-process; returns exit code, stdout and stderr."""
    from scanner.cli import main

    def run(*args: str, cwd: Path | None = None) -> CliResult:
        old = os.getcwd()
        if cwd:
            os.chdir(cwd)
        try:
            code = main(list(args))
        finally:
            os.chdir(old)
        cap = capsys.readouterr()
        return CliResult(code, cap.out, cap.err)

    return run


@contextlib.contextmanager
def cpu_deadline(seconds: float):
    """Fail (not hang) when the block uses more than ``seconds`` of CPU time: a clock that a
    loaded CI machine does not slow down, as it does the wall clock. (A single call into C, such
    as one regex search, is interrupted only when it returns.)"""

    def expire(signum, frame):
        raise TimeoutError(f"used more than {seconds} s of CPU time")

    old = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


def git(repo: Path, *args: str, env: dict | None = None) -> str:
    e = {**os.environ, "GIT_AUTHOR_NAME": "Dev One", "GIT_AUTHOR_EMAIL": "dev@example.com",
         "GIT_COMMITTER_NAME": "Dev One", "GIT_COMMITTER_EMAIL": "dev@example.com", **(env or {})}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=e).stdout


@pytest.fixture
def make_repo(tmp_path):
    """A fresh git repository with identity configured; returns its path."""

    def make(name: str = "repo") -> Path:
        repo = tmp_path / name
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "user.name", "Dev One")
        git(repo, "config", "user.email", "dev@example.com")
        git(repo, "config", "commit.gpgsign", "false")
        return repo

    return make


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False, help="rewrite tests/golden/* from current output")
