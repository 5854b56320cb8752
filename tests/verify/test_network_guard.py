"""Whole runs in a subprocess whose sockets are guarded (netguard/sitecustomize.py): every name
lookup and connection is logged and anything but loopback refused. Without --verify a scan makes
no lookup or connection at all; with it, only hosts the registry declares are looked up; the test
hook that redirects verifiers to a fake works only when a test installs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.rules import load_rules, rule_files
from scanner.verify.registry import VERIFIERS
from tests.conftest import ROOT
from tests.verify.cases import CASES, rand

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """One file per verifier (its first rule's documented example), and an AWS key pair."""
    root = tmp_path_factory.mktemp("tree")
    rules = {r.id: r for r in load_rules(rule_files())}
    for name, v in VERIFIERS.items():
        rule = rules[v.rule_ids[0]]
        (root / f"{name}.txt").write_text("\n".join(rule.examples) + "\n")
    secret = rand(40)
    (root / "aws.py").write_text(f"AWS_ACCESS_KEY_ID = 'AKIA{rand(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}'\n"
                                 f"AWS_SECRET_ACCESS_KEY = '{secret}'\n")
    (root / "live.py").write_text(f"GITHUB_TOKEN = '{'ghp_' + rand(36)}'\n")
    return root


def run(tree: Path, tmp_path: Path, hook: str, *args: str, fake_port: int = 0):
    log = tmp_path / "net.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE / hook), str(ROOT)]),
           "LEAKSTOP_TEST_NETLOG": str(log), "LEAKSTOP_CACHE_DIR": "", "LEAKSTOP_FINGERPRINT_KEY": "net-guard-test",
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_PROFILE"):
        env.pop(var, None)
    if fake_port:
        env["LEAKSTOP_TEST_FAKE_PORT"] = str(fake_port)
    proc = subprocess.run([sys.executable, "-m", "scanner.cli", "scan", ".", "--engine", "keywords", "-j", "1", *args],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=120)
    events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return proc, events


def test_scan_without_verify_makes_no_connection_at_all(tree, tmp_path):
    proc, events = run(tree, tmp_path, "netguard")
    assert proc.returncode == 1, proc.stderr
    assert events == []


def uri_hosts(tree: Path) -> set[str]:
    """The servers the tree's database URIs name: the only hosts a database verifier may reach."""
    from urllib.parse import urlsplit

    from scanner.verify.context import URI

    return {urlsplit(m.group().decode()).hostname for name, v in VERIFIERS.items() if v.own_host
            for m in URI.finditer((tree / f"{name}.txt").read_bytes())}


def test_scan_verify_looks_up_only_declared_hosts(tree, tmp_path, fake):
    from scanner.verify.http import host_allowed

    declared = tuple({h for v in VERIFIERS.values() for h in v.hosts} | uri_hosts(tree))
    proc, events = run(tree, tmp_path, "netguard", "--verify", "-f", "json", fake_port=fake.port)
    assert proc.returncode == 1, proc.stderr
    looked_up = {e["host"] for e in events if e["kind"] == "lookup"}
    assert looked_up and all(host_allowed(h, declared) for h in looked_up), looked_up
    assert {"api.github.com", "sts.amazonaws.com"} <= looked_up
    assert not [e for e in events if e["kind"] == "connect"]  # every lookup was refused first
    statuses = {f["verification"]["status"] for f in json.loads(proc.stdout)["findings"]}
    assert "verified" not in statuses and statuses <= {"error", "unknown"}
    # The fake's port in the environment changed nothing: only the test hook reads it.
    assert fake.seen == []


def test_the_test_hook_reaches_the_fake_on_loopback_only(tree, tmp_path, fake):
    token = (tree / "live.py").read_text().split("'")[1]
    fake.ok, fake.bad = CASES["github"].ok, CASES["github"].bad
    fake.valid.add(token)
    proc, events = run(tree, tmp_path, "fakehook", "--verify", "-f", "json", fake_port=fake.port)
    got = {Path(f["path"]).name: f["verification"] for f in json.loads(proc.stdout)["findings"]}
    assert got["live.py"]["status"] == "verified"
    connects = {(e["host"], e["port"]) for e in events if e["kind"] == "connect"}
    assert connects == {("127.0.0.1", fake.port)}
    assert token not in proc.stdout + proc.stderr
