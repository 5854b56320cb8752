"""Naming, de-duplication, settings validation, --from-report, and the SSM backend end to end."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import boto3
import random
import string

import pytest

from scanner.config import Config, parse_config
from scanner.errors import LeakstopError
from scanner.models import Finding, mask
from scanner.remediate.layout import connection_fields
from scanner.remediate.plan import build_items, group_for, json_key, key_from_line
from scanner.remediate.settings import Settings, load_settings
from scanner.remediate.stores import make_store
from tests.conftest import IDENTITY
from tests.remediate import sample
from tests.remediate.conftest import digest_tree


def finding(value: str, path: str, line: int, key=None, category="api-keys", rule="stripe-live-secret-key",
            provider="stripe", column=5) -> Finding:
    v = value.encode()
    return Finding(rule_id=rule, provider=provider, description="", severity="critical", category=category,
                   path=path, line=line, column=column, end_column=column + len(value), masked=mask(value),
                   fingerprint=IDENTITY.fingerprint(rule, v), secret_hash=IDENTITY.value_hash(v), key=key, secret=v)


def rand(n: int = 24) -> str:
    return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(n))


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


def test_dedup_by_value_and_one_secret_per_credential():
    s = Settings(project="shop", env="prod")
    other = sample.STRIPE_CFN
    pw = "pw-" + sample.DB_PASSWORD
    fs = [finding(sample.STRIPE, "a.py", 1, key="STRIPE_KEY"), finding(sample.STRIPE, "b/.env", 3, key="STRIPE_KEY"),
          finding(other, "c.py", 2, key="STRIPE_KEY"),
          finding(pw, "d.env", 1, key="DB_PASSWORD", category="generic", rule="env-file-credential", provider="dotenv")]
    sm = make_store("secretsmanager", None)
    items = build_items(fs, s, sm, lambda p, n: "", IDENTITY)
    by_hash = {i.value_hash: i for i in items}
    one = by_hash[IDENTITY.value_hash(sample.STRIPE.encode())]
    assert (one.secret_name, one.json_key) == ("shop/prod/stripe", "secret_key") and len(one.sites) == 2
    two = by_hash[IDENTITY.value_hash(other.encode())]  # another Stripe key: another credential
    assert (two.secret_name, two.json_key) == ("shop/prod/stripe-2", "secret_key")
    db = by_hash[IDENTITY.value_hash(pw.encode())]
    assert (db.secret_name, db.json_key, db.env_name) == ("shop/prod/database", "password", "DB_PASSWORD")
    # the journal's earlier names win (stable across a resume)
    known = {two.value_hash: ("shop/prod/stripe", "secret_key")}
    again = {i.value_hash: i for i in build_items(fs, s, sm, lambda p, n: "", IDENTITY, known)}
    assert again[two.value_hash].secret_name == "shop/prod/stripe"
    assert again[one.value_hash].secret_name == "shop/prod/stripe-2"
    ssm = build_items(fs, Settings(project="shop", env="prod", backend="ssm"), make_store("ssm", None),
                      lambda p, n: "", IDENTITY)
    assert {i.secret_name for i in ssm} == {"/shop/prod/stripe/secret_key", "/shop/prod/stripe-2/secret_key",
                                            "/shop/prod/database/password"}
    assert all(i.json_key is None for i in ssm)


def test_layout_key_pair_together_providers_apart_keys_say_what():
    """An AWS key id and its secret key share one secret; Stripe, OpenAI and SendGrid found in one
    file get one secret each; every JSON key names what the value is."""
    key_id, secret = "AKIA" + rand(16).upper(), rand(40)
    fs = [finding(key_id, ".env", 1, key="AWS_ACCESS_KEY_ID", category="cloud", rule="aws-access-key-id", provider="aws"),
          finding(secret, ".env", 2, key="AWS_SECRET_ACCESS_KEY", category="cloud", rule="aws-secret-access-key",
                  provider="aws"),
          finding("sk_" + "live_" + rand(), "settings.py", 1, key="STRIPE", rule="stripe-live-secret-key"),
          finding("sk-proj-" + rand(40), "settings.py", 2, key="OPENAI", rule="openai-api-key", provider="openai"),
          finding("SG." + rand(22) + "." + rand(43), "settings.py", 3, key="MAIL", rule="sendgrid-api-key",
                  provider="sendgrid"),
          finding(rand(30), "settings.py", 4, key="SLACK_BOT_TOKEN", category="generic", rule="config-credential",
                  provider="config"),
          finding(rand(30), "other.py", 1, key="AWS_SECRET_ACCESS_KEY", category="cloud", rule="aws-secret-access-key",
                  provider="aws")]
    items = build_items(fs, Settings(project="shop", env="prod"), make_store("secretsmanager", None),
                        lambda p, n: "", IDENTITY)
    got = sorted((i.secret_name, i.json_key) for i in items)
    assert got == [("shop/prod/aws", "access_key_id"), ("shop/prod/aws", "secret_access_key"),
                   ("shop/prod/aws-2", "secret_access_key"),  # another file, no key id beside it: its own
                   ("shop/prod/openai", "api_key"), ("shop/prod/sendgrid", "api_key"),
                   ("shop/prod/slack", "token"), ("shop/prod/stripe", "secret_key")]
    aliased = build_items(fs[4:5], Settings(project="shop", env="prod", services={"sendgrid": "mail"}),
                          make_store("secretsmanager", None), lambda p, n: "", IDENTITY)
    assert aliased[0].secret_name == "shop/prod/mail"


def test_layout_database_uri_rds_keys():
    """A password inside a connection URI: RDS-style keys, the URI's shape kept for rebuilding,
    the name from the variable the URI is assigned to (never the user name before the password)."""
    pw = rand(20)
    line = f'DATABASE_URL = "postgresql+psycopg://admin:{pw}@db.internal:6543/orders?sslmode=require"'
    col = line.index(pw) + 1
    fs = [finding(pw, "app.py", 1, category="database", rule="postgresql-uri-password", provider="postgresql",
                  column=col)]
    [it] = build_items(fs, Settings(project="shop", env="prod"), make_store("secretsmanager", None),
                       lambda p, n: line, IDENTITY)
    assert (it.secret_name, it.json_key, it.env_name) == ("shop/prod/postgres", "password", "DATABASE_URL")
    assert it.connection == {"engine": "postgres", "host": "db.internal", "port": "6543", "username": "admin",
                             "dbname": "orders", "scheme": "postgresql+psycopg", "query": "sslmode=require"}
    assert connection_fields(it.connection) == {"engine": "postgres", "host": "db.internal", "port": "6543",
                                                "username": "admin", "dbname": "orders"}
    redis = f"REDIS_URL=redis://:{pw}x@cache:6379/0"
    [r] = build_items([finding(pw + "x", ".env", 1, category="database", rule="redis-uri-password", provider="redis",
                               column=redis.index(pw) + 1)], Settings(project="shop", env="prod"),
                      make_store("secretsmanager", None), lambda p, n: redis, IDENTITY)
    assert (r.secret_name, r.json_key, r.connection["port"]) == ("shop/prod/redis", "password", "6379")


def test_layout_database_settings_beside_the_password():
    """DB_PASSWORD with DB_HOST, DB_USER, DB_PORT, DB_NAME beside it in a .env: RDS-style keys too."""
    pw = rand(20)
    text = ["POSTGRES_HOST=db.internal", "POSTGRES_USER=app", "POSTGRES_DB=orders", f"POSTGRES_PASSWORD={pw}",
            "OTHER_HOST=elsewhere", ""]
    fs = [finding(pw, ".env", 4, key="POSTGRES_PASSWORD", category="generic", rule="env-file-credential",
                  provider="dotenv", column=19)]
    [it] = build_items(fs, Settings(project="shop", env="prod"), make_store("secretsmanager", None),
                       lambda p, n: text[n - 1], IDENTITY, None, None, lambda p: text)
    assert (it.secret_name, it.json_key) == ("shop/prod/postgres", "password")
    assert connection_fields(it.connection) == {"engine": "postgres", "host": "db.internal", "username": "app",
                                                "dbname": "orders"}
    compose = ["    environment:", "      DB_HOST: db", "      DB_PORT: '3306'", f"      DB_PASSWORD: {pw}"]
    fs = [finding(pw, "docker-compose.yml", 4, key="DB_PASSWORD", category="generic",
                  rule="compose-environment-credential", provider="docker-compose", column=20)]
    [it] = build_items(fs, Settings(project="shop", env="prod"), make_store("secretsmanager", None),
                       lambda p, n: compose[n - 1], IDENTITY, None, None, lambda p: compose)
    assert (it.secret_name, connection_fields(it.connection)) == (
        "shop/prod/mysql", {"engine": "mysql", "host": "db", "port": "3306"})


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


def test_a_weak_fixture_below_the_floor_is_never_stretched(remediate, sample_repo, git_commit, monkeypatch):
    """Like scan and diff, remediation identifies (and stretches a weak value for) only the
    findings it acts on: a fixture password in a test file, low confidence, costs no scrypt."""
    from scanner import models

    (sample_repo / "tests").mkdir(exist_ok=True)
    (sample_repo / "tests" / "test_login.py").write_text('DB_PASSWORD = "password123"\n')
    git_commit(sample_repo, "a test fixture")
    calls: list[bytes] = []
    real = hashlib.scrypt
    monkeypatch.setattr(models.hashlib, "scrypt", lambda value, **kw: calls.append(value) or real(value, **kw))
    r = remediate(sample_repo, "-f", "json")
    assert r.code == 0, r.err
    assert b"password123" not in calls
    (sample_repo / ".leakstop.yaml").write_text("min_confidence: low\n")
    assert remediate(sample_repo, "-f", "json").code == 0
    assert b"password123" in calls  # acted on at min_confidence low: identified, so stretched


def test_from_report_rereads_and_verifies_values(run_cli, remediate, sample_repo, tmp_path):
    report = tmp_path / "report.json"
    assert run_cli("scan", ".", "--engine", "keywords", "-f", "json", "-o", str(report), cwd=sample_repo).code == 1
    assert sample.STRIPE not in report.read_text()
    r = remediate(sample_repo, "--from-report", str(report), "-f", "json")
    assert r.code == 0, r.err
    plan = json.loads(r.out)
    assert any(s["json_key"] == "secret_key" for s in plan["secrets"]) and sample.STRIPE not in r.out
    # a changed file no longer matches the report's fingerprint
    p = sample_repo / "service/billing.py"
    p.write_text(p.read_text().replace(sample.STRIPE, sample.STRIPE[::-1]))
    r = remediate(sample_repo, "--from-report", str(report))
    assert r.code == 2 and "file changed since the report was made" in r.err


def test_ssm_backend_end_to_end(remediate, sample_repo, aws):
    r = remediate(sample_repo, "--apply", "--backend", "ssm")
    assert r.code == 0, r.err
    ssm = boto3.client("ssm")
    p = ssm.get_parameter(Name="/shop/prod/stripe/secret_key", WithDecryption=True)["Parameter"]
    assert p["Type"] == "SecureString"
    assert hashlib.sha256(p["Value"].encode()).hexdigest() == hashlib.sha256(sample.STRIPE.encode()).hexdigest()
    tags = {t["Key"]: t["Value"] for t in ssm.list_tags_for_resource(
        ResourceType="Parameter", ResourceId="/shop/prod/stripe/secret_key")["TagList"]}
    assert tags["leakstop:rotation"] == "required" and tags["leakstop:in-git-history"] == "true"
    billing = (sample_repo / "service/billing.py").read_text()
    assert 'leakstop_env_or_parameter("STRIPE_KEY", "/shop/prod/stripe/secret_key")' in billing
    policy = json.loads((sample_repo / "leakstop-remediation/iam-policy.json").read_text())
    assert policy["Statement"][0]["Action"] == ["ssm:GetParameter"]
    assert "arn:aws:ssm:us-east-1:123456789012:parameter/shop/prod/stripe/secret_key" in policy["Statement"][0]["Resource"]
    code = ("import sys, hashlib\nsys.modules['scanner'] = None\nsys.path.insert(0, 'service')\nimport billing\n"
            "print(hashlib.sha256(billing.get_keys()['stripe'].encode()).hexdigest())\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=sample_repo, env={**os.environ, "AWS_ENDPOINT_URL": aws},
                         capture_output=True, text=True)
    assert out.stdout.strip() == hashlib.sha256(sample.STRIPE.encode()).hexdigest(), out.stderr[-300:]
    before = digest_tree(sample_repo)
    versions = ssm.get_parameter(Name="/shop/prod/stripe/secret_key")["Parameter"]["Version"]
    assert remediate(sample_repo, "--apply", "--backend", "ssm").code == 0
    assert digest_tree(sample_repo) == before
    assert ssm.get_parameter(Name="/shop/prod/stripe/secret_key")["Parameter"]["Version"] == versions
