"""Interrupted applies resume to the same end state; the errors users meet exit 2 with a clear line."""

from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.awsrequest import AWSResponse

import scanner.remediate.aws as backends
import scanner.remediate.runner as runner
from tests.conftest import git
from tests.remediate import sample
from tests.remediate.conftest import digest_tree, tree

SMALL = ("service/billing.py", ".env", "Dockerfile", "template.yaml")
FIXED_DATES = {"GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z"}


class Crash(BaseException):
    """The process dying mid-step (a BaseException: the CLI's last-resort guard for bugs, which
    catches Exception, must not turn it into an orderly exit)."""


def small_repo(make_repo, name: str):
    repo = make_repo(name)
    for rel in SMALL:
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(sample.FILES[rel], encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init", env=FIXED_DATES)  # same commit id in every repo
    return repo


def reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST")).read()


_ARN_SUFFIX = re.compile(rb"(:secret:[A-Za-z0-9/_+=.@-]+?)-[A-Za-z0-9]{6}\b")


def state(repo) -> tuple:
    """Secrets (value hash, version count, tags) and files, with moto's random ARN suffix removed."""
    sm = boto3.client("secretsmanager")
    secrets = {}
    for s in sm.list_secrets()["SecretList"]:
        d = sm.describe_secret(SecretId=s["Name"])
        v = sm.get_secret_value(SecretId=s["Name"])["SecretString"]
        secrets[s["Name"]] = (hashlib.sha256(v.encode()).hexdigest(), len(d["VersionIdsToStages"]),
                              sorted((t["Key"], t["Value"]) for t in d.get("Tags", [])))
    # hashes, never contents: a failing comparison must not print a value
    files = {k: hashlib.sha256(_ARN_SUFFIX.sub(rb"\1", v)).hexdigest() for k, v in tree(repo).items()}
    return secrets, files


def with_hook(monkeypatch, hook) -> None:
    orig = getattr(runner.apply_plan, "orig", runner.apply_plan)

    def patched(*a):
        return orig(*a[:7], hook)

    patched.orig = orig
    monkeypatch.setattr(runner, "apply_plan", patched)


def test_interrupt_after_each_step_then_resume(make_repo, remediate, monkeypatch, aws):
    steps: list[str] = []
    with_hook(monkeypatch, steps.append)
    ref = small_repo(make_repo, "ref")
    assert remediate(ref, "--apply").code == 0
    expected = state(ref)
    assert len(steps) >= 10 and {s.split(":")[0] for s in steps} >= {"store", "verify", "write", "tag", "artifacts"}
    for k, step in enumerate(steps):
        reset(aws)
        repo = small_repo(make_repo, f"crash{k}")

        def crash(s, k=k, seen=[]):
            seen.append(s)
            if len(seen) == k + 1:
                raise Crash(s)

        with_hook(monkeypatch, crash)
        with pytest.raises(Crash):
            remediate(repo, "--apply")
        with_hook(monkeypatch, lambda s: None)
        r = remediate(repo, "--apply")
        assert r.code == 0, f"resume after {step}: {r.err}"
        got = state(repo)
        diff = sorted(n for n in set(got[0]) | set(expected[0]) if got[0].get(n) != expected[0].get(n)) + sorted(
            f for f in set(got[1]) | set(expected[1]) if got[1].get(f) != expected[1].get(f))
        assert not diff, f"state differs after a crash at step {k} ({step}): {diff}"


def test_file_changed_after_store_is_refused(make_repo, remediate, monkeypatch):
    repo = small_repo(make_repo, "r")

    def edit(step):
        if step.startswith("verify:"):
            with open(repo / "service/billing.py", "a") as fh:
                fh.write("# edited meanwhile\n")

    with_hook(monkeypatch, edit)
    r = remediate(repo, "--apply")
    assert r.code == 2 and "file changed since the plan was made" in r.err
    assert (repo / "service/billing.py").read_text().endswith("# edited meanwhile\n")


def test_saved_plan_refuses_changed_file(make_repo, remediate, tmp_path):
    repo = small_repo(make_repo, "r")
    saved = tmp_path / "plan.json"
    assert remediate(repo, "--save-plan", str(saved)).code == 0
    doc = json.loads(saved.read_text())
    assert doc["files"] and all(sample.STRIPE not in json.dumps(doc) for _ in [0])
    (repo / ".env").write_text((repo / ".env").read_text() + "EXTRA=1\n")
    r = remediate(repo, "--apply", "--plan", str(saved))
    assert r.code == 2 and ".env: file changed since the plan was made" in r.err
    assert boto3.client("secretsmanager").list_secrets()["SecretList"] == []


def test_no_credentials(make_repo, remediate, monkeypatch):
    repo = small_repo(make_repo, "r")
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(k)
    before = digest_tree(repo)
    r = remediate(repo, "--apply")
    assert r.code == 2 and "no AWS credentials found" in r.err
    assert digest_tree(repo) == before


def _fake(code: str, status: int = 400):
    class Raw:
        def stream(self, **kw):
            yield json.dumps({"__type": code, "message": "injected"}).encode()

    return lambda request, **kw: AWSResponse(request.url, status, {"x-amzn-requestid": "x"}, Raw())


def _inject(monkeypatch, event: str, handler) -> None:
    orig = backends.make_client

    def factory(service, region):
        client = orig(service, region)
        client.meta.events.register(event, handler)
        return client

    monkeypatch.setattr(backends, "make_client", factory)


def test_access_denied(make_repo, remediate, monkeypatch):
    repo = small_repo(make_repo, "r")
    _inject(monkeypatch, "before-send.secrets-manager.DescribeSecret", _fake("AccessDeniedException"))
    before = digest_tree(repo)
    r = remediate(repo, "--apply")
    assert r.code == 2 and "access denied" in r.err and "DescribeSecret" in r.err
    assert digest_tree(repo) == before


def test_throttling_is_retried_with_backoff(make_repo, remediate, monkeypatch):
    repo = small_repo(make_repo, "r")
    calls = []
    throttle = _fake("ThrottlingException")

    def handler(request, **kw):
        calls.append(1)
        return throttle(request) if len(calls) <= 2 else None

    _inject(monkeypatch, "before-send.secrets-manager.CreateSecret", handler)
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    assert len(calls) >= 3
    names = {s["Name"] for s in boto3.client("secretsmanager").list_secrets()["SecretList"]}
    assert {"shop/prod/aws", "shop/prod/stripe"} <= names


def test_throttling_gives_up_with_clear_error(make_repo, remediate, monkeypatch):
    repo = small_repo(make_repo, "r")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    _inject(monkeypatch, "before-send.secrets-manager.CreateSecret", _fake("ThrottlingException"))
    before = digest_tree(repo)
    r = remediate(repo, "--apply")
    assert r.code == 2 and "throttled by AWS" in r.err and "2 attempts" in r.err
    assert digest_tree(repo) == before


def test_secret_scheduled_for_deletion(make_repo, remediate):
    repo = small_repo(make_repo, "r")
    sm = boto3.client("secretsmanager")
    sm.create_secret(Name="shop/prod/aws", SecretString="{}")
    sm.delete_secret(SecretId="shop/prod/aws", RecoveryWindowInDays=7)
    before = digest_tree(repo)
    r = remediate(repo, "--apply")
    assert r.code == 2 and "scheduled for deletion" in r.err and "restore-secret" in r.err
    assert digest_tree(repo) == before


def test_kms_key_not_found(make_repo, remediate):
    repo = small_repo(make_repo, "r")
    r = remediate(repo, "--apply", "--kms-key-id", "alias/nope")
    assert r.code == 2 and "KMS key not found" in r.err
    assert boto3.client("secretsmanager").list_secrets()["SecretList"] == []


def test_different_value_needs_overwrite(make_repo, remediate):
    repo = small_repo(make_repo, "r")
    sm = boto3.client("secretsmanager")
    sm.create_secret(Name="shop/prod/aws", SecretString='{"access_key_id": "older", "other": "kept"}')
    before = digest_tree(repo)
    r = remediate(repo, "--apply")
    assert r.code == 2 and "shop/prod/aws key 'access_key_id' already holds a different value" in r.err
    assert digest_tree(repo) == before
    r = remediate(repo, "--apply", "--overwrite")
    assert r.code == 0, r.err
    doc = json.loads(sm.get_secret_value(SecretId="shop/prod/aws")["SecretString"])
    assert doc["other"] == "kept" and doc["access_key_id"] == sample.AWS_KEY
    assert len(sm.describe_secret(SecretId="shop/prod/aws")["VersionIdsToStages"]) == 2
    # never deleted: the secret that existed before is still there, with its other key
    assert "shop/prod/aws" in {s["Name"] for s in sm.list_secrets()["SecretList"]}


def test_aws_region_alone_is_honoured(make_repo, remediate, monkeypatch):
    """AWS_REGION (set by the AWS CLI's users, CI actions and Lambda) works without
    AWS_DEFAULT_REGION; before, botocore ignored it and the run failed with 'no AWS region'."""
    repo = small_repo(make_repo, "r")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    arns = [s["ARN"] for s in boto3.client("secretsmanager", region_name="eu-west-3").list_secrets()["SecretList"]]
    assert arns and all(":eu-west-3:" in a for a in arns)


def test_no_region_names_what_works(make_repo, remediate, monkeypatch):
    repo = small_repo(make_repo, "r")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION")
    r = remediate(repo, "--apply")
    assert r.code == 2 and len(r.err.splitlines()) == 1
    assert "AWS_DEFAULT_REGION" in r.err and "--region" in r.err


def test_kill_between_write_and_rename_leaves_no_value_and_no_temp_after_resume(make_repo, remediate, monkeypatch):
    """kill -9 between a temporary file's write and its rename leaves .NAME.leakstop-PID.tmp;
    it holds no value, and the resumed run removes it (before: such files stayed for ever)."""
    import scanner.fsutil as fsutil

    repo = small_repo(make_repo, "r")
    real_replace = os.replace
    left: list[str] = []

    def dying_replace(src, dst):
        if str(dst).endswith(("journal.json", "billing.py")) and len(left) < 2 and Path(dst).name not in left:
            # what kill -9 leaves: the temporary, renamed as if by another (now dead) process
            dead = Path(src).with_name(Path(src).name.replace(f"-{os.getpid()}.", f"-{_dead_pid()}."))
            real_replace(src, dead)
            left.append(Path(dst).name)
            raise Crash(dst)
        return real_replace(src, dst)

    monkeypatch.setattr(fsutil.os, "replace", dying_replace)
    seen = []
    for _ in range(2):  # killed while writing the journal, then (resumed) while rewriting billing.py
        with pytest.raises(Crash):
            remediate(repo, "--apply")
        for p in repo.rglob("*.leakstop-*.tmp"):
            seen.append(p.name.split(".leakstop-")[0])
            data = p.read_bytes()
            for v in sample.CORE.values():
                assert v.encode() not in data, f"{p.name} holds a value"
    assert seen == [".journal.json", ".billing.py"]  # the second run removed the journal's
    monkeypatch.setattr(fsutil.os, "replace", real_replace)
    assert remediate(repo, "--apply").code == 0
    assert list(repo.rglob("*.leakstop-*.tmp")) == []


def _dead_pid() -> int:
    import subprocess

    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid
