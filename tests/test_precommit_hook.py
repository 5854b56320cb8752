"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit framework.

A scratch repository's .pre-commit-config.yaml points at this project by local path and rev
(``repo: <git repo holding a copy of this project>``, ``rev: <its commit>``), so pre-commit
clones it, builds its own virtualenv with ``language: python`` and runs the hooks from
``git commit`` exactly as on a developer machine.

Tests reach no network, so the one thing done differently from a user's install is where the
dependencies come from: pre-commit's ``pip install .`` runs with ``--no-index --no-deps`` (pip's
own PIP_* environment variables) and a ``.pth`` file then makes the test venv's already
installed dependencies (click, hyperscan, ...) importable in pre-commit's env. The leakstop code
that runs is the copy pre-commit installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

KEY = "AKIAZ5QW2XHC7RJK3MNB"
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
pytestmark = pytest.mark.skipif(not PRE_COMMIT.exists() or not shutil.which("git"), reason="needs pre-commit and git")


def _env(home: Path, cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PIP_", "PRE_COMMIT"))}
    env.update({
        "PRE_COMMIT_HOME": str(home),
        "LEAKSTOP_CACHE_DIR": str(cache),
        # Keep the user's git configuration (hooksPath, templates, signing) out of it.
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Dev One", "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev One", "GIT_COMMITTER_EMAIL": "dev@example.com",
    })
    return env


def run(cmd: list, cwd: Path, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if cmd[0] != "git" or cmd[1] != "show":
        leaked = KEY in proc.stdout + proc.stderr
        assert not leaked, "a raw value was printed"
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd[:3]} failed ({proc.returncode}): {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
    return proc


@pytest.fixture(scope="module")
def hook_source(tmp_path_factory) -> dict:
    """A git repository holding this project's current files (committed, so it works on a dirty
    tree), and a PRE_COMMIT_HOME where pre-commit has installed its environment once."""
    base = tmp_path_factory.mktemp("precommit")
    env = _env(base / "pre-commit-home", tmp_path_factory.getbasetemp() / "leakstop-cache")
    src = base / "leakstop-src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("scanner", "rules"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    run(["git", "init", "-q", "-b", "main"], src, env)
    run(["git", "add", "-A"], src, env)
    run(["git", "commit", "-q", "--no-verify", "-m", "leakstop snapshot"], src, env)
    rev = run(["git", "rev-parse", "HEAD"], src, env).stdout.strip()

    # Install pre-commit's environment for this repo+rev once, offline (see module docstring).
    probe = base / "probe"
    probe.mkdir()
    run(["git", "init", "-q", "-b", "main"], probe, env)
    (probe / ".pre-commit-config.yaml").write_text(config_text(src, rev))
    offline = {**env, "PIP_NO_INDEX": "1", "PIP_NO_DEPS": "1", "PIP_NO_BUILD_ISOLATION": "0"}
    run([str(PRE_COMMIT), "install-hooks"], probe, offline)
    site = sorted((base / "pre-commit-home").glob("repo*/py_env-*/lib/python*/site-packages"))
    assert site, "pre-commit did not create a python environment"
    deps = next(p for p in map(Path, sys.path) if p.name == "site-packages" and (p / "click").is_dir())
    (site[0] / "zz-leakstop-test-deps.pth").write_text(str(deps) + "\n")
    return {"src": src, "rev": rev, "env": env}


def config_text(src: Path, rev: str) -> str:
    return (
        "repos:\n"
        f"  - repo: {src}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: leakstop\n"
        "      - id: leakstop-files\n"
    )


@pytest.fixture
def scratch(hook_source, tmp_path) -> tuple[Path, dict]:
    env = hook_source["env"]
    repo = tmp_path / "scratch"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], repo, env)
    (repo / ".pre-commit-config.yaml").write_text(config_text(hook_source["src"], hook_source["rev"]))
    (repo / "README.md").write_text("scratch\n")
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-q", "-m", "init"], repo, env)  # before the hook is installed
    run([str(PRE_COMMIT), "install"], repo, env)
    return repo, env


def test_commit_with_secret_is_blocked_with_masked_message(scratch):
    repo, env = scratch
    (repo / "settings.py").write_text(f"DEBUG = True\nAWS_KEY = '{KEY}'\n")
    run(["git", "add", "settings.py"], repo, env)
    proc = run(["git", "commit", "-m", "add settings"], repo, env, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, "the commit was not blocked"
    assert "settings.py:2:12: aws-access-key-id" in out and "AKIA…" in out
    assert "hook id: leakstop\n" in out
    # Nothing was committed.
    log = run(["git", "log", "--format=%s"], repo, env).stdout.split()
    assert log == ["init"]


def test_clean_commit_goes_through(scratch):
    repo, env = scratch
    (repo / "app.py").write_text("print('hello')\n")
    run(["git", "add", "app.py"], repo, env)
    proc = run(["git", "commit", "-m", "clean"], repo, env, check=False)
    assert proc.returncode == 0, proc.stdout[-1000:]
    assert "leakstop (staged secrets)" in proc.stdout + proc.stderr and "Passed" in proc.stdout + proc.stderr


def test_run_all_files_finds_secret_committed_earlier(scratch):
    repo, env = scratch
    (repo / "old.env").write_text(f"AWS_ACCESS_KEY_ID={KEY}\n")
    run(["git", "add", "old.env"], repo, env)
    run(["git", "commit", "-q", "--no-verify", "-m", "sneaked in"], repo, env)
    proc = run([str(PRE_COMMIT), "run", "--all-files"], repo, env, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1
    assert "hook id: leakstop-files" in out and "old.env:1:" in out and "aws-access-key-id" in out


def test_unstaged_secret_does_not_block(scratch):
    repo, env = scratch
    (repo / "app.py").write_text("x = 1\n")
    run(["git", "add", "app.py"], repo, env)
    # The work tree differs from the index: a secret only there, and in an untracked file.
    (repo / "app.py").write_text(f"x = 1\nk = '{KEY}'\n")
    (repo / "scratch.py").write_text(f"k = '{KEY}'\n")
    proc = run(["git", "commit", "-m", "clean staged part"], repo, env, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-1000:]
    committed = run(["git", "show", "HEAD:app.py"], repo, env).stdout
    assert committed == "x = 1\n"
    # pre-commit put the unstaged change back.
    restored = KEY in (repo / "app.py").read_text()
    assert restored, "unstaged change lost"


def _snippets() -> list[tuple[str, str]]:
    """The .pre-commit-config.yaml snippets the documentation tells users to copy."""
    import re

    out = []
    for doc in ("README.md", "docs/git-hook-and-ci.md"):
        for block in re.findall(r"```yaml\n(repos:\n.*?)```", (ROOT / doc).read_text(), re.S):
            out.append((doc, block))
    return out


@pytest.mark.parametrize("doc,snippet", _snippets(), ids=lambda v: v if v.endswith(".md") else "")
def test_documented_snippet_does_what_its_comments_say(hook_source, tmp_path, doc, snippet):
    """The snippets promised that a manual-stage leakstop-files runs on `pre-commit run
    --all-files` (it needs --hook-stage manual). (Their `rev`: tests/test_cli.py.)"""
    import re

    import yaml

    [entry] = yaml.safe_load(snippet)["repos"]
    env = hook_source["env"]
    repo = tmp_path / "user"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], repo, env)
    entry.update(repo=str(hook_source["src"]), rev=hook_source["rev"])
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [entry]}))
    (repo / "old.env").write_text(f"AWS_ACCESS_KEY_ID={KEY}\n")
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-q", "--no-verify", "-m", "sneaked in"], repo, env)
    files = next(h for h in entry["hooks"] if h["id"] == "leakstop-files")
    command = "pre-commit run --all-files"
    if "manual" in files.get("stages", []):
        assert not re.search(r"leakstop-files.*`pre-commit run --all-files`", snippet), "claims a plain run audits"
        plain = run([str(PRE_COMMIT), "run", "--all-files"], repo, env, check=False)
        assert plain.returncode == 0 and "leakstop (secrets in files)" not in plain.stdout
        command += " --hook-stage manual"
    assert command in snippet
    audit = run([str(PRE_COMMIT), *command.split()[1:]], repo, env, check=False)
    assert audit.returncode == 1 and "old.env:1:" in audit.stdout
