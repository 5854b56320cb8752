"""A file's name is no verdict: lockfiles and baselines are scanned like any file, and only their
digests (by shape, in the fields that hold digests) are noise."""

from __future__ import annotations

import base64
import json
import secrets

import pytest

from scanner.config import Config
from scanner.engine import Engine
from scanner.models import Chunk
from tests.fakes import github_token


def _hex(n: int) -> str:
    return secrets.token_hex(n // 2)


def _b64(n: int) -> str:
    return base64.b64encode(secrets.token_bytes(n)).decode()


def fake_github_token() -> str:
    return github_token()


def lockfiles() -> dict[str, str]:
    """Small lockfiles of each kind, shaped as their tools write them, with fresh random digests."""
    n = range(6)
    npm = {f"node_modules/p{i}": {"version": f"1.{i}.0", "resolved": f"https://registry.npmjs.org/p{i}/-/p{i}-1.{i}.0.tgz",
                                  "integrity": "sha512-" + _b64(64)} for i in n}
    composer = [{"name": f"v/p{i}", "source": {"type": "git", "reference": _hex(40)},
                 "dist": {"type": "zip", "url": f"https://api.github.com/repos/v/p{i}/zipball/{_hex(40)}",
                          "reference": _hex(40), "shasum": _hex(40)}} for i in n]
    return {
        "Cargo.lock": "version = 3\n\n" + "".join(
            f'[[package]]\nname = "c{i}"\nversion = "1.0.{i}"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n'
            f'checksum = "{_hex(64)}"\n\n' for i in n),
        "go.sum": "".join(f"github.com/o/m{i} v1.{i}.0 h1:{_b64(32)}\ngithub.com/o/m{i} v1.{i}.0/go.mod h1:{_b64(32)}\n" for i in n),
        "package-lock.json": json.dumps({"name": "x", "lockfileVersion": 3, "packages": npm}, indent=2),
        "yarn.lock": "".join(f'p{i}@^1.0.0:\n  version "1.0.{i}"\n  resolved "https://registry.yarnpkg.com/p{i}/-/p{i}-1.0.{i}.tgz#{_hex(40)}"\n'
                             f"  integrity sha512-{_b64(64)}\n\n" for i in n),
        "pnpm-lock.yaml": "lockfileVersion: '6.0'\npackages:\n" + "".join(
            f"  /p{i}@1.0.{i}:\n    resolution: {{integrity: sha512-{_b64(64)}}}\n" for i in n),
        "poetry.lock": "".join(f'[[package]]\nname = "p{i}"\nfiles = [\n    {{file = "p{i}.whl", hash = "sha256:{_hex(64)}"}},\n]\n\n'
                               for i in n) + f'[metadata]\ncontent-hash = "{_hex(64)}"\n',
        "Pipfile.lock": json.dumps({"_meta": {"hash": {"sha256": _hex(64)}},
                                    "default": {f"p{i}": {"hashes": ["sha256:" + _hex(64)], "version": "==1.0"} for i in n}}, indent=4),
        "composer.lock": json.dumps({"content-hash": _hex(32), "packages": composer}, indent=4),
        "Gemfile.lock": "GEM\n  specs:\n" + "".join(f"    g{i} (1.0.{i})\n" for i in n) + "\nCHECKSUMS\n"
                        + "".join(f"  g{i} (1.0.{i}) sha256={_hex(64)}\n" for i in n),
        "uv.lock": "".join(f'[[package]]\nname = "p{i}"\nsdist = {{ url = "https://files.pythonhosted.org/packages/{_hex(60)}/p{i}.tar.gz", '
                           f'hash = "sha256:{_hex(64)}", size = 1234 }}\n\n' for i in n),
        "packages.lock.json": json.dumps({"version": 1, "dependencies": {"net8.0": {
            f"P.N{i}": {"type": "Direct", "resolved": "1.0.0", "contentHash": _b64(64)} for i in n}}}, indent=2),
    }


def baselines() -> dict[str, str]:
    """detect-secrets' and leakstop's baselines: SHA-1 / SHA-256 digests and a salt, no secrets."""
    ds = {"version": "1.4.0", "plugins_used": [{"name": "KeywordDetector"}, {"name": "HexHighEntropyString", "limit": 3.0}],
          "results": {f"src/f{i}.py": [{"type": "Secret Keyword", "filename": f"src/f{i}.py", "hashed_secret": _hex(40),
                                        "is_verified": False, "line_number": i + 3}] for i in range(6)}}
    entries = ",\n".join(f'    {{"path": "app.py", "rule_id": "generic-password-quoted", "hash": "{_hex(64)}"}}' for _ in range(6))
    ours = f'{{\n  "tool": "leakstop",\n  "version": 1,\n  "salt": "{_hex(32)}",\n  "entries": [\n{entries}\n  ]\n}}\n'
    return {".secrets.baseline": json.dumps(ds, indent=2), ".leakstop-baseline.json": ours}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(Config())


def scan(engine: Engine, path: str, text: str):
    return engine.scan(Chunk(path=path, data=text.encode()))


@pytest.mark.parametrize("name", sorted({**lockfiles(), **baselines()}))
def test_digests_in_lockfiles_and_baselines_are_not_findings(engine, name):
    text = {**lockfiles(), **baselines()}[name]
    assert scan(engine, f"sub/{name}", text) == []


@pytest.mark.parametrize("name", sorted({**lockfiles(), **baselines()}))
def test_a_token_pasted_into_a_lockfile_or_baseline_is_found(engine, name):
    text = {**lockfiles(), **baselines()}[name]
    token = fake_github_token()
    lines = text.splitlines()
    at = len(lines) // 2
    lines.insert(at, f"  token = {token}")
    found = scan(engine, name, "\n".join(lines) + "\n")
    assert [f.rule_id for f in found] == ["github-pat-classic"] and found[0].line == at + 1
