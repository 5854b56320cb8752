"""AWS hygiene: the organisation's tags, the KMS warning, the read-only resource policy, and the
IAM statements a consumer's declaration needs."""

from __future__ import annotations

import json

import boto3

from scanner.config import parse_config
from scanner.remediate.plan import Plan
from scanner.remediate.records import Item, Site
from scanner.remediate.rewriters import Context
from scanner.remediate.settings import Settings, load_settings
from scanner.remediate.stores import make_store
from tests.conftest import IDENTITY
from tests.remediate.conftest import digest_tree


def _tags(name: str) -> dict:
    return {t["Key"]: t["Value"] for t in boto3.client("secretsmanager").describe_secret(SecretId=name)["Tags"]}


def test_tags_app_env_owner_beside_leakstop_tags(remediate, sample_repo):
    (sample_repo / ".leakstop.yaml").write_text("remediation:\n  owner: payments-team\n  tags:\n    cost-center: '42'\n")
    r = remediate(sample_repo, "--apply", "--tag", "app=shop-web", "--tag", "data=confidential")
    assert r.code == 0, r.err
    tags = _tags("shop/prod/stripe")
    assert {k: tags[k] for k in ("app", "env", "owner", "cost-center", "data")} == {
        "app": "shop-web", "env": "prod", "owner": "payments-team", "cost-center": "42", "data": "confidential"}
    assert tags["leakstop:rotation"] == "required"
    r = remediate(sample_repo, "--tag", "aws:x=1")
    assert r.code == 2 and "not a tag key you can set" in r.err


def test_kms_warning_names_the_aws_managed_key(remediate, sample_repo):
    r = remediate(sample_repo)
    assert "warning: new secrets would be encrypted with the AWS-managed key aws/secretsmanager" in r.out
    assert "--kms-key-id alias/shop" in r.out
    kms = boto3.client("kms").create_key(Description="shop")["KeyMetadata"]["KeyId"]
    assert "AWS-managed key" not in remediate(sample_repo, "--kms-key-id", kms).out


def test_resource_policy_only_named_roles_read_deletion_denied(remediate, sample_repo):
    role = "arn:aws:iam::123456789012:role/shop-web"
    r = remediate(sample_repo, "--apply", "--read-role", role)
    assert r.code == 0, r.err
    sm = boto3.client("secretsmanager")
    policy = json.loads(sm.get_resource_policy(SecretId="shop/prod/stripe")["ResourcePolicy"])
    read, delete = policy["Statement"]
    assert read["Effect"] == "Deny" and read["Action"] == "secretsmanager:GetSecretValue"
    allowed = read["Condition"]["StringNotEquals"]["aws:PrincipalArn"]
    caller = boto3.client("sts").get_caller_identity()["Arn"]
    assert role in allowed and caller in allowed  # the caller keeps its read-back and re-runs
    assert delete == {"Sid": "LeakstopNoDeletion", "Effect": "Deny", "Principal": "*",
                      "Action": "secretsmanager:DeleteSecret", "Resource": "*"}
    before = digest_tree(sample_repo)
    r = remediate(sample_repo, "--read-role", "not-an-arn")
    assert r.code == 2 and "IAM role ARNs" in r.err and digest_tree(sample_repo) == before
    r = remediate(sample_repo, "--backend", "ssm", "--read-role", role)
    assert r.code == 2 and "resource policies" in r.err


def test_settings_validate_hygiene_keys(tmp_path):
    cfg = tmp_path / ".leakstop.yaml"

    def load(remediation):
        return load_settings(parse_config({"remediation": remediation}, cfg), "shop", "prod")

    s = load({"owner": "team-a", "read_roles": ["arn:aws:iam::123456789012:role/app"]})
    assert s.resource_tags() == {"app": "shop", "env": "prod", "owner": "team-a"}
    assert s.read_roles == ("arn:aws:iam::123456789012:role/app",)
    for bad, msg in (({"tags": {"leakstop:x": "1"}}, "not a tag key"), ({"tags": ["a"]}, "must map tag keys"),
                     ({"read_roles": ["arn:aws:iam::1:role/x"]}, "IAM role ARNs"), ({"owner": ""}, "non-empty")):
        try:
            load(bad)
        except Exception as exc:  # LeakstopError, naming the file and key
            assert msg in str(exc) and "remediation." in str(exc)
        else:
            raise AssertionError(f"accepted {bad}")


def test_grants_give_each_consumer_its_statements():
    """The mechanism platform rewriters use: a consumer declared in a file (a SAM function) gets the
    statements reading exactly its secrets, in the plan's data."""
    s = Settings(project="shop", env="prod", region="eu-west-1")
    store = make_store("secretsmanager", "eu-west-1")
    it = Item(value_hash=IDENTITY.value_hash(b"x" * 20), secret_name="shop/prod/stripe", json_key="secret_key",
              group="api-keys", rule_ids=["r"], providers=["stripe"], masked="x…", sites=[Site("t.yaml", 1, 1, 2, "r")],
              env_name="STRIPE", value=b"x" * 20)
    ctx = Context(settings=s, store=store, region="eu-west-1")
    ctx.grant("template.yaml", "ChargeFunction", [it], attached=True)
    plan = Plan(settings=s, items=[it], edits=[], manual=[], notes=[], root="out", store=store, grants=ctx.grants)
    [g] = plan.to_dict()["grants"]
    assert (g["file"], g["principal"], g["secrets"], g["attached"]) == ("template.yaml", "ChargeFunction",
                                                                       ["shop/prod/stripe"], True)
    assert g["statements"][0]["Resource"] == ["arn:aws:secretsmanager:eu-west-1:*:secret:shop/prod/stripe-??????"]
    assert g["statements"][0]["Action"] == ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
