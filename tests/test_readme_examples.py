"""The README's shell examples run as written: every `leakstop ...` line of its ```sh blocks is
executed in a scratch repository holding a planted (fake) secret, and must answer with 0 or 1,
never a usage error, a traceback or an unmasked value."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, git

KEY = "AKIAZ5QW2XHC7RJK3MNB"
# Lines that change an AWS account: the remediation tests run them against a local AWS endpoint
# (tests/remediate/test_e2e.py); here they would need credentials.
NEEDS_AWS = ("--apply", "rotation status")
NEEDS_CLUSTER = "--cluster"  # tests/commands/test_audit.py starts a real one


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    lines = []
    for block in re.findall(r"```(?:sh|bash|shell)\n(.*?)```", text, re.S):
        for line in block.splitlines():
            cmd = line.split("  #")[0].strip()
            if re.search(r"(^|\|\s*)leakstop ", cmd):
                lines.append(cmd)
    return lines


def as_run(cmd: str) -> str:
    """Optional parts written as ``[ARG]``: a flag is given, a placeholder dropped."""
    cmd = re.sub(r"\[(--[\w-]+)\]", r"\1", cmd)
    return re.sub(r"\s*\[[A-Z_]+\]", "", cmd)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("readme") / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "config").mkdir()
    (repo / "src" / "app.py").write_text(f"AWS_KEY = '{KEY}'\n")
    (repo / "config" / "prod.env").write_text("LOG_LEVEL=info\n")
    (repo / "file").write_text("nothing here\n")
    (repo / ".secrets.baseline").write_text('{"version": "1.5.0", "plugins_used": [], "filters_used": [], "results": {}}\n')
    from tests.sources.image_builder import config_doc, layer_tar, oci_layout

    layers = [layer_tar({"app/settings.py": f"AWS_KEY = '{KEY}'\n".encode()}, compress=True)]
    (repo / "oci-dir").mkdir()
    oci_layout(repo / "oci-dir", layers, config_doc(layers, env=[], history=["COPY app /app"]))
    (repo / "repos.txt").write_text(f"# audited by the README example\n{repo}\n")
    for sibling in ("repo-a", "repo-b"):  # `leakstop audit ../repo-a ../repo-b …`
        other = repo.parent / sibling
        other.mkdir()
        (other / "x.py").write_text("print(1)\n")
        git(other, "init", "-q", "-b", "main")
        git(other, "add", "-A")
        git(other, "commit", "-qm", "init")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    return repo


def test_the_readme_has_examples_to_run():
    assert len(readme_commands()) >= 8


@pytest.mark.parametrize("cmd", readme_commands())
def test_readme_example_runs(cmd, scratch):
    if any(word in cmd for word in NEEDS_AWS):
        pytest.skip("changes an AWS account: run against moto in tests/remediate/test_e2e.py")
    if NEEDS_CLUSTER in cmd:
        pytest.skip("needs a Dask cluster: tests/commands/test_audit.py starts one and runs audit on it")
    shell = f'leakstop() {{ {shlex.quote(sys.executable)} -m scanner "$@"; }}\n{as_run(cmd)}'
    # A URL in an example is refused by git at once (tests reach only 127.0.0.1).
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_REGION": "us-east-1", "GIT_ALLOW_PROTOCOL": "file",
           "XDG_CACHE_HOME": str(scratch.parent / "cache")}
    r = subprocess.run(["bash", "-c", shell], cwd=scratch, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode in (0, 1), (cmd, r.stderr[-500:])
    assert "Traceback" not in r.stderr and KEY not in r.stdout + r.stderr
