"""ECS task definitions, applied for real against moto: environment values become
secrets[].valueFrom with the stored secret's full ARN and JSON key, and the task definition
registers with ECS."""

from __future__ import annotations

import json
import random
import string

import boto3
import pytest

from scanner.remediate.rewriters import classify


def _rand(n: int, prefix: str = "") -> str:
    rng = random.SystemRandom()
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def taskdef(token: str, stripe: str) -> str:
    return f"""{{
  "family": "web",
  "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"],
  "cpu": "256",
  "memory": "512",
  "containerDefinitions": [
    {{
      "name": "web",
      "image": "shop/web:1.2",
      "essential": true,
      "environment": [
        {{"name": "MODE", "value": "prod"}},
        {{"name": "GITHUB_TOKEN", "value": "{token}"}},
        {{"name": "STRIPE_KEY", "value": "{stripe}"}}
      ]
    }},
    {{
      "name": "worker",
      "image": "shop/worker:1.2",
      "environment": [{{"name": "STRIPE_KEY", "value": "{stripe}"}}],
      "secrets": []
    }}
  ]
}}
"""


def test_classify_task_definition():
    assert classify("deploy/task-definition.json", b'{"family": "x", "containerDefinitions": []}') == "ecs"
    assert classify("package.json", b'{"name": "x"}') == "config"


def test_environment_becomes_secrets_value_from_and_registers(remediate, make_repo, git_commit):
    repo = make_repo("ecs")
    token, stripe = _rand(36, "ghp_"), "sk_" + "live_" + _rand(24)
    src = taskdef(token, stripe)
    (repo / "deploy").mkdir()
    (repo / "deploy/task-definition.json").write_text(src)
    git_commit(repo, "task definition")
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    text = (repo / "deploy/task-definition.json").read_text()
    assert token not in text and stripe not in text and "@leakstop-arn(" not in text
    doc = json.loads(text)
    web, worker = doc["containerDefinitions"]
    assert web["environment"] == [{"name": "MODE", "value": "prod"}]
    assert worker["environment"] == []
    sm = boto3.client("secretsmanager")
    arns = {s["ARN"]: s["Name"] for s in sm.list_secrets()["SecretList"]}
    for c in (web, worker):
        for s in c["secrets"]:
            arn, key, stage, version = s["valueFrom"].rsplit(":", 3)
            assert arn in arns, "valueFrom does not name a stored secret's full ARN"
            assert stage == version == ""
            assert key in json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
    assert [s["name"] for s in web["secrets"]] == ["GITHUB_TOKEN", "STRIPE_KEY"]
    assert [s["name"] for s in worker["secrets"]] == ["STRIPE_KEY"]
    # Outside the edited spans the file keeps its bytes.
    assert text.startswith(src[: src.index('"prod"}') + 7])
    assert text.endswith(src[src.index('      "secrets": []'):].replace("[]", '[{"name": "STRIPE_KEY", "valueFrom": "%s"}]'
                                                                   % worker["secrets"][0]["valueFrom"]))
    # ECS accepts it.
    got = boto3.client("ecs").register_task_definition(**doc)["taskDefinition"]
    assert {s["name"] for s in got["containerDefinitions"][0]["secrets"]} == {"GITHUB_TOKEN", "STRIPE_KEY"}
    # Idempotent.
    r2 = remediate(repo, "--apply")
    assert r2.code == 0, r2.err
    assert (repo / "deploy/task-definition.json").read_text() == text


def test_a_value_inside_a_longer_string_is_a_manual_step(remediate, make_repo, git_commit):
    repo = make_repo("ecs2")
    token = _rand(36, "ghp_")
    src = ('{"family": "x", "containerDefinitions": [{"name": "a", "image": "i", '
           f'"environment": [{{"name": "URL", "value": "https://u:{token}@h/"}}]}}]}}\n')
    (repo / "taskdef.json").write_text(src)
    git_commit(repo, "td")
    r = remediate(repo)
    assert r.code == 0, r.err
    assert "taskdef.json" in r.out and "by hand" in r.out


def test_a_crash_before_the_file_is_written_resumes_with_the_full_arn(remediate, make_repo, git_commit, monkeypatch):
    from tests.remediate.test_faults import Crash, with_hook

    repo = make_repo("ecs3")
    token, stripe = _rand(36, "ghp_"), "sk_" + "live_" + _rand(24)
    (repo / "task-definition.json").write_text(taskdef(token, stripe))
    git_commit(repo, "td")

    def crash(step):
        if step.startswith("verify:"):
            raise Crash(step)

    with_hook(monkeypatch, crash)
    with pytest.raises(Crash):
        remediate(repo, "--apply")
    with_hook(monkeypatch, lambda s: None)
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    doc = json.loads((repo / "task-definition.json").read_text())
    arns = {s["ARN"] for s in boto3.client("secretsmanager").list_secrets()["SecretList"]}
    assert {s["valueFrom"].rsplit(":", 3)[0] for s in doc["containerDefinitions"][0]["secrets"]} <= arns
