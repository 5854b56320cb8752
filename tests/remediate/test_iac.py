"""--emit terraform|cloudformation DIR: the secrets, a KMS key, tags and policies as code, no value;
--apply afterwards only puts the values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import hcl2

from tests.remediate import sample
from tests.remediate.conftest import digest_tree


def _no_value(text: str) -> None:
    for v in [*sample.CORE.values(), sample.DB_PASSWORD]:
        assert v not in text, "infrastructure code holds a value"


def _unquoted(x):
    """python-hcl2 keeps the quotes of string literals and block labels (version 8); older ones drop them."""
    if isinstance(x, dict):
        return {_unquoted(k): _unquoted(v) for k, v in x.items() if k != "__is_block__"}
    if isinstance(x, list):
        return [_unquoted(v) for v in x]
    if isinstance(x, str) and len(x) >= 2 and x[0] == x[-1] == '"':
        return json.loads(x)
    return x


def test_terraform_parses_and_declares_no_value(remediate, sample_repo, tmp_path):
    before = digest_tree(sample_repo)
    out = tmp_path / "infra"
    r = remediate(sample_repo, "--emit", "terraform", str(out), "--owner", "payments",
                  "--read-role", "arn:aws:iam::123456789012:role/shop-web")
    assert r.code == 0, r.err
    assert digest_tree(sample_repo) == before  # emitting changes no file of the repository
    assert boto3.client("secretsmanager").list_secrets()["SecretList"] == []
    text = (out / "leakstop-secrets.tf").read_text()
    _no_value(text)
    assert "secret_string" not in text
    doc = _unquoted(hcl2.loads(text))
    res = {}
    for block in doc["resource"]:
        for rtype, named in block.items():
            for name, body in named.items():
                res[(rtype, name)] = body
    assert not [k for k in res if k[0] == "aws_secretsmanager_secret_version"]  # a value there lands in state
    key = res[("aws_kms_key", "leakstop")]
    assert key["enable_key_rotation"] is True
    secrets = {body["name"]: body for (rtype, _), body in res.items() if rtype == "aws_secretsmanager_secret"}
    assert set(secrets) == {"shop/prod/stripe", "shop/prod/stripe-2", "shop/prod/github", "shop/prod/github-2",
                            "shop/prod/aws", "shop/prod/database"}
    tags = secrets["shop/prod/stripe"]["tags"]
    assert tags["owner"] == "payments" and tags["app"] == "shop" and tags["leakstop:managed-by"] == "iac"
    assert tags["leakstop:rotation"] == "required" and "leakstop:hash:secret_key" in tags
    assert "aws_kms_key.leakstop.arn" in str(secrets["shop/prod/stripe"]["kms_key_id"])
    policies = [body for (rtype, _), body in res.items() if rtype == "aws_secretsmanager_secret_policy"]
    assert len(policies) == 6 and "LeakstopNoDeletion" in str(policies[0]["policy"])
    assert ("aws_iam_policy", "leakstop_read") in res


def test_cloudformation_passes_cfn_lint_and_apply_then_only_puts_values(remediate, sample_repo, tmp_path):
    out = tmp_path / "infra"
    r = remediate(sample_repo, "--emit", "cloudformation", str(out))
    assert r.code == 0, r.err
    path = out / "leakstop-secrets.template.json"
    text = path.read_text()
    _no_value(text)
    assert "SecretString" not in text and "GenerateSecretString" not in text
    cfn_lint = str(Path(sys.executable).parent / "cfn-lint")
    lint = subprocess.run([cfn_lint, "--regions", "us-east-1", "--", str(path)],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout[-2000:] + lint.stderr[-500:]
    tpl = json.loads(text)
    assert tpl["Resources"]["LeakstopKey"]["Properties"]["EnableKeyRotation"] is True
    # Deploy the template's secrets as a stack would (the values are not in it), then --apply.
    sm = boto3.client("secretsmanager")
    for res in tpl["Resources"].values():
        if res["Type"] == "AWS::SecretsManager::Secret":
            p = res["Properties"]
            sm.create_secret(Name=p["Name"], Description=p["Description"], Tags=p["Tags"])
    r = remediate(sample_repo, "--apply")
    assert r.code == 0, r.err
    stripe = json.loads(sm.get_secret_value(SecretId="shop/prod/stripe")["SecretString"])
    assert stripe["secret_key"] == sample.STRIPE
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId="shop/prod/stripe")["Tags"]}
    assert tags["leakstop:managed-by"] == "iac" and "leakstop:flagged-version" not in tags  # code owns the tags


def test_emit_refuses_apply_and_ssm(remediate, sample_repo, tmp_path):
    r = remediate(sample_repo, "--emit", "terraform", str(tmp_path / "x"), "--apply")
    assert r.code == 2 and "deploy it, then run --apply" in r.err
    r = remediate(sample_repo, "--emit", "terraform", str(tmp_path / "x"), "--backend", "ssm")
    assert r.code == 2 and "created with its value" in r.err
