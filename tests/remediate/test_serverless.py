"""serverless.yml, applied against moto: every literal becomes a Serverless variable that resolves
(through SSM's Secrets Manager reference path, as the Framework reads it) to the original value,
and the functions' role gets the read statement on exactly the stored secrets."""

from __future__ import annotations

import json
import random
import re
import string

import boto3
import pytest
import yaml

from scanner.remediate.rewriters import classify


def _rand(n: int, prefix: str = "") -> str:
    rng = random.SystemRandom()
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


V3 = """service: billing
frameworkVersion: "3"   # keep me
provider:
  name: aws
  runtime: python3.12
  environment:
    STRIPE_KEY: {stripe}
    MODE: prod
functions:
  charge:
    handler: handler.charge
    environment:
      GITHUB_TOKEN: '{token}'
      AUTH_HEADER: "token {token}"
"""

V2_LEGACY = """service: billing
frameworkVersion: ">=2.0.0 <3.0.0"
provider:
  name: aws
  iamRoleStatements:
    - Effect: Allow
      Action: ["s3:GetObject"]
      Resource: "arn:aws:s3:::bucket/*"
  environment:
    STRIPE_KEY: {stripe}
custom:
  stage: prod
functions:
  charge:
    handler: handler.charge
"""


def resolve(value: str, doc: dict, ssm) -> str:
    """A Serverless variable the way the Framework resolves it: ${self:a.b.c} walks the document
    (resolving what it reaches), ${ssm:/aws/reference/secretsmanager/NAME} reads SSM with
    decryption and parses a JSON secret into an object."""
    def one(m):
        kind, addr = m.group(1), m.group(2)
        if kind == "ssm":
            got = ssm.get_parameter(Name=addr, WithDecryption=True)["Parameter"]["Value"]
            return json.loads(got) if addr.startswith("/aws/reference/secretsmanager/") else got
        node = doc
        for part in addr.split("."):
            node = node[part]
            if isinstance(node, str) and node.startswith("${"):
                node = resolve(node, doc, ssm)
        return node

    whole = re.fullmatch(r"\$\{(ssm|self):([^}]+)\}", value)
    if whole:
        return one(whole)
    return re.sub(r"\$\{(ssm|self):([^}]+)\}", lambda m: str(one(m)), value)


def test_classify_serverless():
    assert classify("serverless.yml", b"service: x\nprovider:\n  name: aws\nresources:\n  Resources:\n"
                                      b"    B:\n      Type: AWS::S3::Bucket\n") == "serverless"


@pytest.mark.parametrize("version", ["v3", "v2-legacy"])
def test_variables_resolve_to_the_values_and_the_role_reads_them(remediate, make_repo, git_commit, version):
    stripe, token = "sk_" + "live_" + _rand(24), _rand(36, "ghp_")
    src = (V3 if version == "v3" else V2_LEGACY).format(stripe=stripe, token=token)
    repo = make_repo("sls")
    (repo / "serverless.yml").write_text(src)
    git_commit(repo, "serverless")
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    text = (repo / "serverless.yml").read_text()
    assert stripe not in text and token not in text and "@leakstop-arn(" not in text
    doc = yaml.safe_load(text)
    ssm, sm = boto3.client("ssm"), boto3.client("secretsmanager")
    env = dict(doc["provider"]["environment"], **(doc["functions"]["charge"].get("environment") or {}))
    expected = {"STRIPE_KEY": stripe}
    if version == "v3":
        expected.update(GITHUB_TOKEN=token, AUTH_HEADER="token " + token, MODE="prod")
        assert 'frameworkVersion: "3"   # keep me\n' in text
    for var, want in expected.items():
        assert resolve(env[var], doc, ssm) == want, f"{var} does not resolve to its original value"
    arns = {s["Name"]: s["ARN"] for s in sm.list_secrets()["SecretList"]}
    refs = set(re.findall(r"/aws/reference/secretsmanager/([^}~]+)", text))
    assert refs and refs <= set(arns)
    statements = (doc["provider"]["iam"]["role"]["statements"] if version == "v3"
                  else doc["provider"]["iamRoleStatements"])
    granted = [s for s in statements if "secretsmanager:GetSecretValue" in s["Action"]]
    assert len(granted) == 1 and set(granted[0]["Resource"]) == {arns[n] for n in refs}
    if version == "v2-legacy":
        assert statements[0]["Action"] == ["s3:GetObject"] and doc["custom"]["stage"] == "prod"


def test_role_named_by_arn_is_left_with_a_note(remediate, make_repo, git_commit):
    stripe = "sk_" + "live_" + _rand(24)
    repo = make_repo("sls-role")
    (repo / "serverless.yml").write_text(
        "service: billing\nframeworkVersion: '4'\nprovider:\n  name: aws\n  iam:\n"
        "    role: arn:aws:iam::123456789012:role/billing\n  environment:\n"
        f"    STRIPE_KEY: {stripe}\n")
    git_commit(repo, "serverless")
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    doc = yaml.safe_load((repo / "serverless.yml").read_text())
    assert doc["provider"]["iam"]["role"] == "arn:aws:iam::123456789012:role/billing"
    assert resolve(doc["provider"]["environment"]["STRIPE_KEY"], doc, boto3.client("ssm")) == stripe
    assert "not declared here" in r.out


def test_two_names_with_one_label_are_not_merged(tmp_path):
    from scanner.remediate.records import Workspace
    from scanner.remediate.rewriters import rewrite_all
    from scanner.remediate.stores import make_store
    from tests.remediate.test_rewriters import S, item, site_of

    a, b = "sk_" + "live_" + _rand(24), "sk_" + "live_" + _rand(24)
    (tmp_path / "serverless.yml").write_text(f"service: x\nprovider:\n  name: aws\n  environment:\n    A: {a}\n    B: {b}\n")
    items = [item(a, [site_of(tmp_path, "serverless.yml", a)], name="shop/prod/pay-x"),
             item(b, [site_of(tmp_path, "serverless.yml", b)], name="shop/prod/pay_x")]
    ws = Workspace(tmp_path)
    ctx = rewrite_all(ws, items, S, make_store("secretsmanager", "eu-west-1"))
    doc = yaml.safe_load(ws.pending["serverless.yml"])
    assert doc["custom"]["leakstopSecrets"] == {"shop_prod_pay_x": "${ssm:/aws/reference/secretsmanager/shop/prod/pay-x}"}
    assert doc["provider"]["environment"]["A"] == "${self:custom.leakstopSecrets.shop_prod_pay_x.stripe_key}"
    assert [m.site.line for m in ctx.manual] == [6]
