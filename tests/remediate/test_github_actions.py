"""GitHub Actions workflows, applied against moto: step literals become ${{ env.X }} set by an
aws-secretsmanager-get-secrets step inserted after the job's credentials step; the workflow
still parses and the step reads the secret the variable names."""

from __future__ import annotations

import json
import random
import string

import boto3
import yaml

from scanner.remediate.rewriters import classify

WORKFLOW = """name: deploy
on: [push]
permissions:
  id-token: write
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: arn:aws:iam::123456789012:role/deploy
          aws-region: eu-west-1
      - name: Publish
        env:
          GH_TOKEN: {token}
        run: ./publish.sh
      - name: Notify
        run: |
          curl -H "Authorization: Bearer {token2}" \\
            https://example.com/hook
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: make lint
"""


def _rand(n: int, prefix: str) -> str:
    rng = random.SystemRandom()
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def test_classify_workflow():
    assert classify(".github/workflows/deploy.yml", b"on: push\n") == "github-actions"
    assert classify("ci/deploy.yml", b"on: push\n") == "config"


def test_step_values_come_from_the_get_secrets_step(remediate, make_repo, git_commit):
    token, token2 = _rand(36, "ghp_"), _rand(36, "ghp_")
    src = WORKFLOW.format(token=token, token2=token2)
    repo = make_repo("gha")
    (repo / ".github/workflows").mkdir(parents=True)
    (repo / ".github/workflows/deploy.yml").write_text(src)
    git_commit(repo, "workflow")
    r = remediate(repo, "--apply")
    assert r.code == 0, [ln for ln in r.out.splitlines() if "hand" in ln or "remain" in ln]
    text = (repo / ".github/workflows/deploy.yml").read_text()
    assert token not in text and token2 not in text
    doc = yaml.safe_load(text)
    steps = doc["jobs"]["deploy"]["steps"]
    assert steps[1]["uses"].startswith("aws-actions/configure-aws-credentials")
    get = steps[2]
    assert get["uses"] == "aws-actions/aws-secretsmanager-get-secrets@v2" and get["with"]["parse-json-secrets"] is True
    ids = dict(line.split(",", 1) for line in get["with"]["secret-ids"].split())
    var = steps[3]["env"]["GH_TOKEN"].removeprefix("${{ env.").removesuffix(" }}")
    assert steps[3]["run"] == "./publish.sh" and 'Bearer ${{ env.' in steps[4]["run"]
    # The variable the step uses is the action's ALIAS_KEY for a stored secret and key.
    sm = boto3.client("secretsmanager")
    alias = next(a for a in ids if var.startswith(a + "_"))
    stored = json.loads(sm.get_secret_value(SecretId=ids[alias])["SecretString"])
    assert var[len(alias) + 1:] in {k.upper() for k in stored}
    assert doc["jobs"]["lint"] == {"runs-on": "ubuntu-latest", "steps": [{"run": "make lint"}]}
    # Outside the edited spans the file keeps its bytes.
    assert text.startswith(src[: src.index("      - name: Publish")])
    r2 = remediate(repo, "--apply")
    assert r2.code == 0 and (repo / ".github/workflows/deploy.yml").read_text() == text
