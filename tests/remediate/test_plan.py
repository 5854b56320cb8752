"""Naming, de-duplication, settings validation, --from-report, and the SSM backend end to end."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import boto3
import pytest

from scanner.config import Config, parse_config
from scanner.errors import LeakstopError
from scanner.models import Finding, mask
from scanner.remediate.plan import build_items, group_for, json_key, key_from_line
from scanner.remediate.settings import Settings, load_settings
from scanner.remediate.stores import make_store
from tests.conftest import IDENTITY
from tests.remediate import sample
from tests.remediate.conftest import digest_tree


def finding(value: str, path: str, line: int, key=None, category="api-keys", rule="stripe-live-secret-key") -> Finding:
    v = value.encode()
    return Finding(rule_id=rule, provider="stripe", description="", severity="critical", category=category,
                   path=path, line=line, column=5, end_column=5 + len(value), masked=mask(value),
                   fingerprint=IDENTITY.fingerprint(rule, v), secret_hash=IDENTITY.value_hash(v), key=key, secret=v)


def test_json_key_and_assigned_names():
    assert json_key("DB_PASSWORD") == "db_password"
    assert json_key("stripeApiKey") == "stripe_api_key"
    assert json_key("api-key.v2") == "api_key_v2"
    assert key_from_line('    STRIPE_KEY = ') == "STRIPE_KEY"
    assert key_from_line('const githubToken = ') == "githubToken"
    assert key_from_line('{"auth": {"apiKey": ') == "apiKey"
    assert key_from_line('client(token=') == "token"
    assert key_from_line('print(') is None
    assert group_for("generic", "DB_PASSWORD") == "database" and group_for("generic", "SESSION_KEY") == "app"
    assert group_for("database") == "database" and group_for("payment") == "api-keys" and group_for("cloud") == "cloud"


def test_dedup_by_value_and_key_collisions():
    s = Settings(project="shop", env="prod")
    other = sample.STRIPE_CFN
    fs = [finding(sample.STRIPE, "a.py", 1, key="STRIPE_KEY"), finding(sample.STRIPE, "b/.env", 3, key="STRIPE_KEY"),
          finding(other, "c.py", 2, key="STRIPE_KEY"), finding("pw-" + sample.DB_PASSWORD, "d.env", 1,
                                                                key="DB_PASSWORD", category="database")]
    sm = make_store("secretsmanager", None)
    items = build_items(fs, s, sm, lambda p, n: "", IDENTITY)
    by_hash = {i.value_hash: i for i in items}
    one = by_hash[IDENTITY.value_hash(sample.STRIPE.encode())]
    assert (one.secret_name, one.json_key) == ("shop/prod/api-keys", "stripe_key") and len(one.sites) == 2
    two = by_hash[IDENTITY.value_hash(other.encode())]
    assert (two.secret_name, two.json_key) == ("shop/prod/api-keys", "stripe_key_2")
    db = by_hash[IDENTITY.value_hash(("pw-" + sample.DB_PASSWORD).encode())]
    assert (db.secret_name, db.json_key) == ("shop/prod/database", "db_password")
    # the journal's earlier names win (stable across a resume)
    known = {two.value_hash: ("shop/prod/api-keys", "stripe_key")}
    again = {i.value_hash: i for i in build_items(fs, s, sm, lambda p, n: "", IDENTITY, known)}
    assert again[two.value_hash].json_key == "stripe_key" and again[one.value_hash].json_key == "stripe_key_2"
    ssm = build_items(fs, Settings(project="shop", env="prod", backend="ssm"), make_store("ssm", None),
                      lambda p, n: "", IDENTITY)
    assert {i.secret_name for i in ssm} >= {"/shop/prod/api-keys/stripe_key", "/shop/prod/database/db_password"}
    assert all(i.json_key is None for i in ssm)


def test_settings_are_validated_with_file_and_key(tmp_path):
    cfg = tmp_path / ".leakstop.yaml"

    def load(remediation):
        return load_settings(parse_config({"remediation": remediation}, cfg), "shop", "prod")

    assert load({"name_template": "apps/{env}/{project}-{group}"}).name_template == "apps/{env}/{project}-{group}"
    with pytest.raises(LeakstopError, match=r"\.leakstop\.yaml: unknown key 'remediation\.nmae_template'"):
        load({"nmae_template": "x"})
    with pytest.raises(LeakstopError, match=r"'remediation\.name_template': unknown field '\{team\}'"):
        load({"name_template": "{team}/{group}"})
    with pytest.raises(LeakstopError, match=r"'remediation\.backend' must be one of"):
        load({"backend": "vault"})
    with pytest.raises(LeakstopError, match=r"--project"):
        load_settings(Config(), "my project", "prod")
    with pytest.raises(LeakstopError, match="--rotate-after-days needs --rotation-lambda-arn"):
        load_settings(Config(), "shop", "prod", rotate_after_days=10)


def test_from_report_rereads_and_verifies_values(run_cli, remediate, sample_repo, tmp_path):
    report = tmp_path / "report.json"
    assert run_cli("scan", ".", "--engine", "keywords", "-f", "json", "-o", str(report), cwd=sample_repo).code == 1
    assert sample.STRIPE not in report.read_text()
    r = remediate(sample_repo, "--from-report", str(report), "-f", "json")
    assert r.code == 0, r.err
    plan = json.loads(r.out)
    assert any(s["json_key"] == "stripe_key" for s in plan["secrets"]) and sample.STRIPE not in r.out
    # a changed file no longer matches the report's fingerprint
    p = sample_repo / "service/billing.py"
    p.write_text(p.read_text().replace(sample.STRIPE, sample.STRIPE[::-1]))
    r = remediate(sample_repo, "--from-report", str(report))
    assert r.code == 2 and "file changed since the report was made" in r.err


def test_ssm_backend_end_to_end(remediate, sample_repo, aws):
    r = remediate(sample_repo, "--apply", "--backend", "ssm")
    assert r.code == 0, r.err
    ssm = boto3.client("ssm")
    p = ssm.get_parameter(Name="/shop/prod/api-keys/stripe_key", WithDecryption=True)["Parameter"]
    assert p["Type"] == "SecureString"
    assert hashlib.sha256(p["Value"].encode()).hexdigest() == hashlib.sha256(sample.STRIPE.encode()).hexdigest()
    tags = {t["Key"]: t["Value"] for t in ssm.list_tags_for_resource(
        ResourceType="Parameter", ResourceId="/shop/prod/api-keys/stripe_key")["TagList"]}
    assert tags["leakstop:rotation"] == "required" and tags["leakstop:in-git-history"] == "true"
    billing = (sample_repo / "service/billing.py").read_text()
    assert 'leakstop_parameter("/shop/prod/api-keys/stripe_key")' in billing
    policy = json.loads((sample_repo / "leakstop-remediation/iam-policy.json").read_text())
    assert policy["Statement"][0]["Action"] == ["ssm:GetParameter"]
    assert "arn:aws:ssm:us-east-1:123456789012:parameter/shop/prod/api-keys/stripe_key" in policy["Statement"][0]["Resource"]
    code = ("import sys, hashlib\nsys.modules['scanner'] = None\nsys.path.insert(0, 'service')\nimport billing\n"
            "print(hashlib.sha256(billing.get_keys()['stripe'].encode()).hexdigest())\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=sample_repo, env={**os.environ, "AWS_ENDPOINT_URL": aws},
                         capture_output=True, text=True)
    assert out.stdout.strip() == hashlib.sha256(sample.STRIPE.encode()).hexdigest(), out.stderr[-300:]
    before = digest_tree(sample_repo)
    versions = ssm.get_parameter(Name="/shop/prod/api-keys/stripe_key")["Parameter"]["Version"]
    assert remediate(sample_repo, "--apply", "--backend", "ssm").code == 0
    assert digest_tree(sample_repo) == before
    assert ssm.get_parameter(Name="/shop/prod/api-keys/stripe_key")["Parameter"]["Version"] == versions
