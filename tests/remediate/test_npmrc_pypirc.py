""".npmrc and .pypirc, applied against moto: npm gets ${VAR} references it expands from the
environment; .pypirc (no interpolation) loses its password line for TWINE_PASSWORD; the noted
command sets each variable from the store."""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import string
import subprocess

import pytest

ALNUM = string.ascii_letters + string.digits


def _rand(n: int, prefix: str = "", alphabet: str = ALNUM) -> str:
    rng = random.SystemRandom()
    return prefix + "".join(rng.choice(alphabet) for _ in range(n))


def h(v: str) -> str:
    return hashlib.sha256(v.encode()).hexdigest()


def test_npmrc_and_pypirc(remediate, make_repo, git_commit, aws):
    npm = _rand(36, "npm_")
    gh = _rand(36, "ghp_")
    pypi = _rand(120, "pypi-AgEIcHlwaS5vcmc", ALNUM + "-_")
    repo = make_repo("rc")
    npmrc = (f"//registry.npmjs.org/:_authToken={npm}\n@shop:registry=https://npm.pkg.github.com\n"
             f"//npm.pkg.github.com/:_authToken={gh}\nsave-exact=true\n")
    pypirc = f"[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = {pypi}\n"
    (repo / ".npmrc").write_text(npmrc)
    (repo / ".pypirc").write_text(pypirc)
    git_commit(repo, "rc files")
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    new_npmrc = (repo / ".npmrc").read_text()
    assert new_npmrc == npmrc.replace(npm, "${NPM_TOKEN}").replace(gh, "${NPM_TOKEN_NPM_PKG_GITHUB_COM}")
    new_pypirc = (repo / ".pypirc").read_text()
    assert pypi not in new_pypirc and "username = __token__\n" in new_pypirc
    assert "# leakstop: password removed" in new_pypirc and "TWINE_PASSWORD" in new_pypirc
    dry = remediate(repo)  # nothing left: the notes were in the apply output
    assert dry.code == 0
    notes = dict(re.findall(r"export (\w+)=\"(\$\(.*?\))\"", r.out))
    assert set(notes) == {"NPM_TOKEN", "NPM_TOKEN_NPM_PKG_GITHUB_COM", "TWINE_PASSWORD"}
    if not (shutil.which("aws") and shutil.which("jq")):
        pytest.skip("aws CLI or jq not installed: the noted commands are not run")
    for var, want in (("NPM_TOKEN", npm), ("NPM_TOKEN_NPM_PKG_GITHUB_COM", gh), ("TWINE_PASSWORD", pypi)):
        run = subprocess.run(["bash", "-c", f'v={notes[var]}; printf %s "$v" | sha256sum'], cwd=repo,
                             env=dict(os.environ, AWS_ENDPOINT_URL=aws), capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-300:]
        assert run.stdout.split()[0] == h(want), var
