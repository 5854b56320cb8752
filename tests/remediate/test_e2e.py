"""End to end against the moto server: sample app -> remediate --apply -> everything checked."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import boto3
from pathlib import Path

from scanner.config import Config
from scanner.engine import load_ruleset
from scanner.identity import resolve_identity

from tests.remediate import sample
from tests.remediate.conftest import digest_tree, tree


def h(v: str) -> str:
    return hashlib.sha256(v.encode()).hexdigest()


def secrets_state() -> dict:
    """name -> (sha256 of SecretString, versions count, kms key id, tags)."""
    sm = boto3.client("secretsmanager")
    out = {}
    for s in sm.list_secrets()["SecretList"]:
        d = sm.describe_secret(SecretId=s["Name"])
        value = sm.get_secret_value(SecretId=s["Name"])["SecretString"]
        tags = {t["Key"]: t["Value"] for t in d.get("Tags", [])}
        out[s["Name"]] = (h(value), len(d["VersionIdsToStages"]), d.get("KmsKeyId"), tags)
    return out


def stored_values() -> dict:
    sm = boto3.client("secretsmanager")
    vals = {}
    for s in sm.list_secrets()["SecretList"]:
        for k, v in json.loads(sm.get_secret_value(SecretId=s["Name"])["SecretString"]).items():
            vals[(s["Name"], k)] = h(v)
    return vals


def test_tokens_are_detected_before_we_rely_on_them(run_cli, sample_repo):
    r = run_cli("scan", ".", "--engine", "keywords", "-f", "json", cwd=sample_repo)
    assert r.code == 1
    found = {(f["path"], f["rule_id"]) for f in json.loads(r.out)["findings"]}
    for path, rule in [("service/billing.py", "stripe-live-secret-key"), ("service/billing.py", "aws-access-key-id"),
                       ("web/client.mjs", "github-pat-classic"), ("Dockerfile", "github-pat-classic"),
                       ("Dockerfile", "stripe-live-secret-key"), ("docker-compose.yml", "github-pat-classic"),
                       (".env", "aws-access-key-id"), ("template.yaml", "stripe-live-secret-key")]:
        assert (path, rule) in found, f"{path} {rule} not detected"


def test_dry_run_changes_nothing_and_masks_values(remediate, sample_repo):
    before = digest_tree(sample_repo)
    r = remediate(sample_repo)
    assert r.code == 0, r.err
    assert digest_tree(sample_repo) == before
    assert boto3.client("secretsmanager").list_secrets()["SecretList"] == []
    for v in sample.CORE.values():
        assert v not in r.out and v not in r.err, "a raw value was printed"
    assert "secret shop/prod/stripe\n" in r.out and "key secret_key: sk_l…" in r.out
    assert ('+def _leakstop_STRIPE_KEY():  # leakstop: looked up on first use\n'
            '+    return leakstop_env_or_lookup("STRIPE_KEY", "shop/prod/stripe", "secret_key")  # live key') in r.out
    assert "ecs-task-definition-secrets.json" in r.out and "BuildKit" in r.out
    assert "Dry run: nothing was changed" in r.out


def test_apply_end_to_end(remediate, sample_repo, run_cli, aws):
    kms = boto3.client("kms")
    key = kms.create_key(Description="app secrets")["KeyMetadata"]
    r = remediate(sample_repo, "--apply", "--kms-key-id", key["KeyId"])
    assert r.code == 0, r.err
    for v in sample.CORE.values():
        assert v not in r.out and v not in r.err, "a raw value was printed"

    # Secrets exist with the right values (compared by hash), the KMS key and the tags.
    vals = stored_values()
    # One secret per credential, named for its service; keys say what each value is.
    assert vals[("shop/prod/stripe", "secret_key")] == h(sample.STRIPE)
    assert vals[("shop/prod/stripe-2", "secret_key")] == h(sample.STRIPE_CFN)
    assert vals[("shop/prod/github-2", "token")] == h(sample.GITHUB)
    assert vals[("shop/prod/github", "token")] == h(sample.GITHUB_BUILD)
    assert vals[("shop/prod/aws", "access_key_id")] == h(sample.AWS_KEY)
    assert vals[("shop/prod/database", "password")] == h(sample.DB_PASSWORD)
    state = secrets_state()
    for name, (_, versions, kms_id, tags) in state.items():
        assert versions == 1
        assert kms_id == key["KeyId"]
        assert tags["leakstop:rotation"] == "required"
        assert tags["leakstop:in-git-history"] == "true"
        assert len(tags["leakstop:first-commit"]) == 40
        assert tags["leakstop:flagged-version"]
    # Tag values are single readable values (lists live in the journal and rotation-plan.json).
    assert state["shop/prod/stripe"][3]["leakstop:rule"] == "stripe-live-secret-key"
    assert state["shop/prod/stripe"][3]["leakstop:source"] == "Dockerfile +1 more"
    assert state["shop/prod/aws"][3]["leakstop:source"] == ".env +1 more"

    # A re-scan finds none of the moved literals (by fingerprint); no file holds a value any more.
    rules = {r.id for r in load_ruleset(Config())}
    ident = resolve_identity(Config(), sample_repo)  # the key the scan below uses: the repository's
    moved = {ident.fingerprint(rid, v.encode()) for rid in rules for v in sample.CORE.values()}
    scan = run_cli("scan", ".", "--engine", "keywords", "-f", "json", cwd=sample_repo)
    left = [f["path"] for f in json.loads(scan.out)["findings"] if f["fingerprint"] in moved]
    assert not left, f"re-scan still finds moved values in {left}"
    files = tree(sample_repo)
    for rel, data in files.items():
        for v in sample.CORE.values():
            assert v.encode() not in data, f"{rel} still holds a moved value"

    # Per-file rewrites.
    billing = files["service/billing.py"].decode()
    assert billing == sample.BILLING_AFTER, "python not rewritten as expected"
    assert "GetSecretValueCommand" in files["web/leakstop-secrets.mjs"].decode()
    assert ('export let githubToken; leakstopOnLoad(() => { githubToken = leakstopValue("shop/prod/github-2", '
            '"token", { env: "GITHUB_TOKEN" }); });') in files["web/client.mjs"].decode()
    docker = files["Dockerfile"].decode()
    assert "ENV APP_MODE=prod" in docker and "RUN --mount=type=secret,id=GITHUB_BUILD_TOKEN,env=GITHUB_BUILD_TOKEN" in docker
    sam = files["template.yaml"].decode()  # a SAM function's variable: read through the Lambda extension
    assert 'STRIPE_SECRET_SECRET_ID: "shop/prod/stripe-2"' in sam and 'STRIPE_SECRET_SECRET_KEY: "secret_key"' in sam
    assert "AWSSecretsManagerGetSecretValuePolicy" in sam and "LeakstopSecretsExtension" in sam
    compose = files["docker-compose.yml"].decode()
    assert '      GITHUB_TOKEN: "${GITHUB_TOKEN:?}"\n' in compose and "APP_MODE: prod" in compose
    assert "compose-secrets-docker-compose.sh" in " ".join(files)
    env = files[".env"].decode()
    assert "AWS_ACCESS_KEY_ID=\n" in env and "# leakstop: AWS_ACCESS_KEY_ID moved to Secrets Manager secret shop/prod/aws#access_key_id" in env
    assert "AWS_ACCESS_KEY_ID=" in files[".env.example"].decode()
    assert "/.env" in files[".gitignore"].decode().splitlines()

    # ECS snippet: full ARN + JSON key.
    ecs = json.loads(files["leakstop-remediation/ecs-task-definition-secrets.json"])
    arn = boto3.client("secretsmanager").describe_secret(SecretId="shop/prod/stripe")["ARN"]
    assert {"name": "STRIPE_KEY", "valueFrom": f"{arn}:secret_key::"} in ecs["containerDefinitions"][0]["secrets"]

    # Rotation plan lists every value with its provider's steps.
    plan = json.loads(files["leakstop-remediation/rotation-plan.json"])
    listed = {(v["secret_name"], v["json_key"]) for v in plan["values"]}
    assert set(vals) <= listed
    stripe = next(v for v in plan["values"] if v["secret_name"] == "shop/prod/stripe")
    assert "Stripe" in stripe["rotation"][0]["steps"] or "stripe" in stripe["rotation"][0]["steps"].lower()
    md = files["leakstop-remediation/rotation-plan.md"].decode()
    assert all(f"(key `{k}`)" in md for _, k in vals)

    # IAM policy: exactly the created ARNs, kms:Decrypt via Secrets Manager; accepted by IAM.
    policy = json.loads(files["leakstop-remediation/iam-policy.json"])
    arns = {boto3.client("secretsmanager").describe_secret(SecretId=n)["ARN"] for n in state}
    assert set(policy["Statement"][0]["Resource"]) == arns
    assert policy["Statement"][0]["Action"] == ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    assert policy["Statement"][1]["Resource"] == key["Arn"]
    assert policy["Statement"][1]["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
    boto3.client("iam").create_policy(PolicyName="app-runtime", PolicyDocument=json.dumps(policy))

    # The journal holds no value.
    journal = files["leakstop-remediation/journal.json"]
    for v in sample.CORE.values():
        assert v.encode() not in journal

    # Import and call the rewritten Python code (leakstop made unimportable) -> the original values.
    code = (
        "import sys, hashlib, json\n"
        "sys.modules['scanner'] = None\n"  # prove the helper does not need leakstop
        "sys.path.insert(0, 'service')\n"
        "import billing\n"
        "k = billing.get_keys()\n"
        "print(json.dumps({n: hashlib.sha256(v.encode()).hexdigest() for n, v in k.items()}))\n"
    )
    # Environment first: AWS_ACCESS_KEY_ID in the environment would win over the stored key, so
    # the subprocess takes its credentials from a shared credentials file instead.
    creds = sample_repo.parent / "aws-credentials"
    creds.write_text("[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    env_vars = {k: v for k, v in os.environ.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                               "AWS_SESSION_TOKEN")}
    env_vars.update(AWS_ENDPOINT_URL=aws, AWS_SHARED_CREDENTIALS_FILE=str(creds))
    out = subprocess.run([sys.executable, "-c", code], cwd=sample_repo, env=env_vars, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-500:]
    got = json.loads(out.stdout)
    assert got["stripe"] == h(sample.STRIPE) and got["aws"] == h(sample.AWS_KEY)

    # The helper resolves config placeholders too.
    code2 = ("import sys, hashlib\nsys.path.insert(0, 'service')\nimport leakstop_secrets\n"
             "doc = leakstop_secrets.resolve_config({'t': ['{{leakstop:secretsmanager:shop/prod/github-2#token}}']})\n"
             "print(hashlib.sha256(doc['t'][0].encode()).hexdigest())\n")
    out2 = subprocess.run([sys.executable, "-c", code2], cwd=sample_repo, env=env_vars, capture_output=True, text=True)
    assert out2.stdout.strip() == h(sample.GITHUB), out2.stderr[-300:]

    # A second --apply changes nothing: same files, same versions.
    before = digest_tree(sample_repo)
    r2 = remediate(sample_repo, "--apply", "--kms-key-id", key["KeyId"])
    assert r2.code == 0, r2.err
    assert "Nothing to remediate" in r2.out
    assert digest_tree(sample_repo) == before
    assert secrets_state() == state

    # rotation status: every flagged secret pending; a new version marks it rotated.
    st = run_cli("rotation", "status", "-f", "json", cwd=sample_repo)
    assert st.code == 1
    rows = {r["name"]: r for r in json.loads(st.out)["secrets"]}
    assert set(rows) == set(state) and not any(r["rotated"] for r in rows.values())
    text = run_cli("rotation", "status", cwd=sample_repo)
    assert text.code == 1 and "PENDING\tshop/prod/stripe\t" in text.out and "pending rotation" in text.err
    boto3.client("secretsmanager").put_secret_value(SecretId="shop/prod/aws", SecretString='{"access_key_id":"new"}')
    rows = {r["name"]: r for r in json.loads(run_cli("rotation", "status", "-f", "json", cwd=sample_repo).out)["secrets"]}
    assert rows["shop/prod/aws"]["rotated"] and not rows["shop/prod/stripe"]["rotated"]


def test_rewritten_esm_module_passes_node_check(remediate, sample_repo):
    import shutil

    r = remediate(sample_repo, "--apply")
    assert r.code == 0, r.err
    node = shutil.which("node")
    if node is None:
        return
    for f in ("web/client.mjs", "web/leakstop-secrets.mjs"):
        assert subprocess.run([node, "--check", str(sample_repo / f)], capture_output=True).returncode == 0, f


def _rotation_lambda(name: str, allow_secretsmanager: bool = True) -> str:
    import io
    import zipfile

    iam = boto3.client("iam")
    role = iam.create_role(RoleName=f"rot-{name}", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return None\n")
    lam = boto3.client("lambda")
    fn = lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
                             Code={"ZipFile": buf.getvalue()})["FunctionArn"]
    if allow_secretsmanager:
        lam.add_permission(FunctionName=name, StatementId="SecretsManagerRotation", Action="lambda:InvokeFunction",
                           Principal="secretsmanager.amazonaws.com")
    return fn


def test_rotate_secret_with_lambda(remediate, sample_repo):
    fn = _rotation_lambda("rotator")
    r = remediate(sample_repo, "--apply", "--rotation-lambda-arn", fn, "--rotate-after-days", "14")
    assert r.code == 0, r.err
    d = boto3.client("secretsmanager").describe_secret(SecretId="shop/prod/aws")
    assert d["RotationEnabled"] and d["RotationRules"]["AutomaticallyAfterDays"] == 14
    assert d["RotationLambdaARN"] == fn


def test_rotation_lambda_is_checked_before_anything_changes(remediate, sample_repo):
    before = digest_tree(sample_repo)
    closed = _rotation_lambda("closed", allow_secretsmanager=False)
    r = remediate(sample_repo, "--apply", "--rotation-lambda-arn", closed)
    assert r.code == 2 and "does not let secretsmanager.amazonaws.com invoke it" in r.err
    assert "aws lambda add-permission" in r.err
    missing = closed.replace(":function:closed", ":function:nope")
    r = remediate(sample_repo, "--apply", "--rotation-lambda-arn", missing)
    assert r.code == 2 and "no such function" in r.err
    assert digest_tree(sample_repo) == before
    assert boto3.client("secretsmanager").list_secrets()["SecretList"] == []


def test_rotation_lambdas_by_service_from_config(remediate, sample_repo):
    """remediation.rotation_lambdas: database credentials rotate with their own Lambda (e.g. AWS's
    RDS single-user template), others with --rotation-lambda-arn or not at all."""
    db_fn = _rotation_lambda("rds-single-user")
    (sample_repo / ".leakstop.yaml").write_text(f"remediation:\n  rotation_lambdas:\n    database: {db_fn}\n")
    r = remediate(sample_repo, "--apply")
    assert r.code == 0, r.err
    sm = boto3.client("secretsmanager")
    assert sm.describe_secret(SecretId="shop/prod/database")["RotationLambdaARN"] == db_fn
    assert not sm.describe_secret(SecretId="shop/prod/stripe").get("RotationEnabled")


def test_token_in_a_key_name_never_reaches_names_journal_or_rotation_plan(remediate, make_repo, tmp_path):
    from tests.fakes import checksummed

    token = checksummed("ghp_")
    repo = make_repo("keyname")
    (repo / "app.properties").write_text(f"secret.{token}=Xq7vR2mK9pLw4ZtD\n")
    plan = tmp_path / "plan.json"
    r = remediate(repo, "-f", "json", "--save-plan", str(plan))
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert {s["json_key"] for s in doc["secrets"]} >= {"secret"}
    # value hashes are keyed: a saved plan does not confirm a guessed value
    assert h("Xq7vR2mK9pLw4ZtD") not in plan.read_text() and h(token) not in plan.read_text()
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    written = [r.out, r.err] + [p.read_text() for p in (repo / "leakstop-remediation").iterdir()]
    written += [(repo / "app.properties").read_text(), plan.read_text()]
    sm = boto3.client("secretsmanager")
    for s in sm.list_secrets()["SecretList"]:
        written.append(json.dumps({"name": s["Name"], "tags": s.get("Tags", [])}))
    assert not [i for i, w in enumerate(written) if token[4:] in w], "the token reached a name, journal or plan"
    rot = json.loads((repo / "leakstop-remediation" / "rotation-plan.json").read_text())
    assert all("value_sha256_prefix" not in v and len(v["value_hash_prefix"]) == 12 for v in rot["values"])


def test_journal_is_refused_under_another_fingerprint_key(remediate, sample_repo, monkeypatch):
    assert remediate(sample_repo, "--apply").code == 0
    journal = sample_repo / "leakstop-remediation" / "journal.json"
    doc = json.loads(journal.read_text())
    assert doc["version"] == 2 and len(doc["key_id"]) == 16
    monkeypatch.setenv("LEAKSTOP_FINGERPRINT_KEY", "another key")
    r = remediate(sample_repo)
    assert r.code == 2 and "written under another fingerprint key" in r.err
    monkeypatch.delenv("LEAKSTOP_FINGERPRINT_KEY")
    journal.write_text(json.dumps({**doc, "version": 1}))
    r = remediate(sample_repo)
    assert r.code == 2 and "older leakstop with unkeyed value hashes" in r.err


def test_version_ids_are_keyed(remediate, sample_repo):
    """The idempotency token becomes the version id, which tags, the journal and `rotation status`
    show: it is derived from the content under the fingerprint key, not from the content alone."""
    import uuid

    assert remediate(sample_repo, "--apply").code == 0
    sm = boto3.client("secretsmanager")
    payload = sm.get_secret_value(SecretId="shop/prod/stripe")["SecretString"]
    version = sm.describe_secret(SecretId="shop/prod/stripe")["Tags"]
    flagged = {t["Key"]: t["Value"] for t in version}["leakstop:flagged-version"]
    unkeyed = hashlib.pbkdf2_hmac("sha256", payload.encode(), b"leakstop-token:shop/prod/stripe", 20_000)
    assert flagged != str(uuid.UUID(bytes=unkeyed[:16]))
    again = remediate(sample_repo, "--apply")  # still idempotent: nothing new is stored
    assert again.code == 0 and "Nothing to remediate" in again.out


def test_apply_stores_a_database_uri_rds_style_and_a_key_pair_together(remediate, make_repo):
    import secrets
    import string

    alnum = string.ascii_letters + string.digits
    pw = "".join(secrets.choice(alnum) for _ in range(20))
    key_id = "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    secret = "".join(secrets.choice(alnum + "/+") for _ in range(40))
    repo = make_repo("db")
    (repo / "settings.py").write_text(
        f'DATABASE_URL = "postgresql://admin:{pw}@db.internal/orders?sslmode=require"\n'
        f'AWS_ACCESS_KEY_ID = "{key_id}"\nAWS_SECRET_ACCESS_KEY = "{secret}"\n')
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    sm = boto3.client("secretsmanager")
    db = json.loads(sm.get_secret_value(SecretId="shop/prod/postgres")["SecretString"])
    assert {k: v for k, v in db.items() if k != "password"} == {
        "engine": "postgres", "host": "db.internal", "port": "5432", "username": "admin", "dbname": "orders"}
    assert h(db["password"]) == h(pw)
    pair = json.loads(sm.get_secret_value(SecretId="shop/prod/aws")["SecretString"])
    assert {k: h(v) for k, v in pair.items()} == {"access_key_id": h(key_id), "secret_access_key": h(secret)}
    assert {s["Name"] for s in sm.list_secrets()["SecretList"]} == {"shop/prod/postgres", "shop/prod/aws"}


def _aws_pair_repo(make_repo) -> tuple[Path, str, str]:
    import secrets
    import string

    key_id = "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    secret = "".join(secrets.choice(string.ascii_letters + string.digits + "/+") for _ in range(40))
    repo = make_repo("pair")
    (repo / "settings.py").write_text(f'AWS_ACCESS_KEY_ID = "{key_id}"\nAWS_SECRET_ACCESS_KEY = "{secret}"\n')
    return repo, key_id, secret


def test_rotation_status_per_key(remediate, make_repo, run_cli, monkeypatch):
    """Rotated means that key's value changed: not any key of the secret, not a new version
    holding the same JSON. A version left in AWSPENDING is shown."""
    repo, key_id, secret = _aws_pair_repo(make_repo)
    assert remediate(repo, "--apply").code == 0
    sm = boto3.client("secretsmanager")
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId="shop/prod/aws")["Tags"]}
    assert set(tags) >= {"leakstop:hash:access_key_id", "leakstop:hash:secret_access_key", "leakstop:hash-key"}
    assert not [v for v in tags.values() if key_id in v or secret in v or h(secret) in v]

    def keys():
        r = run_cli("rotation", "status", "-f", "json", cwd=repo)
        [row] = json.loads(r.out)["secrets"]
        return r.code, row, {k["key"]: k["rotated"] for k in row["keys"]}

    code, row, per_key = keys()
    assert code == 1 and per_key == {"access_key_id": False, "secret_access_key": False}
    same = sm.get_secret_value(SecretId="shop/prod/aws")["SecretString"]
    sm.put_secret_value(SecretId="shop/prod/aws", SecretString=same)  # identical JSON again: no rotation
    code, row, per_key = keys()
    assert code == 1 and not any(per_key.values()) and not row["rotated"]
    doc = json.loads(same)
    sm.put_secret_value(SecretId="shop/prod/aws", SecretString=json.dumps({**doc, "secret_access_key": "new-one"}))
    code, row, per_key = keys()
    assert code == 1 and per_key == {"access_key_id": False, "secret_access_key": True} and not row["rotated"]
    pending = sm.put_secret_value(SecretId="shop/prod/aws", SecretString=json.dumps({**doc, "access_key_id": "x"}),
                                  VersionStages=["AWSPENDING"])["VersionId"]
    code, row, _ = keys()
    assert row["pending_versions"] == [pending] and row["rotation_failed"]
    text = run_cli("rotation", "status", cwd=repo)
    assert f"version {pending} left in AWSPENDING" in text.out and "key secret_access_key: rotated" in text.out
    assert "key access_key_id: PENDING" in text.out
    sm.put_secret_value(SecretId="shop/prod/aws", SecretString=json.dumps({"access_key_id": "a", "secret_access_key": "b"}))
    code, row, per_key = keys()
    assert code == 0 and row["rotated"] and all(per_key.values())
    # Another fingerprint key cannot compare: it says so instead of guessing.
    monkeypatch.setenv("LEAKSTOP_FINGERPRINT_KEY", "another key")
    other = run_cli("rotation", "status", "-f", "json", cwd=repo)
    [row] = json.loads(other.out)["secrets"]
    assert not row["hashes_comparable"] and all(k["rotated"] is None for k in row["keys"]) and other.code == 1


def test_history_is_found_when_run_from_outside_the_repository(run_cli, sample_repo, tmp_path):
    """The repository holding PATH is searched, wherever the command runs."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    r = run_cli("remediate", str(sample_repo), "--project", "shop", "--env", "prod", "--engine", "keywords",
                "--apply", cwd=outside)
    assert r.code == 0, r.err
    sm = boto3.client("secretsmanager")
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId="shop/prod/stripe")["Tags"]}
    assert tags["leakstop:in-git-history"] == "true" and len(tags["leakstop:first-commit"]) == 40


def test_complete_or_exit_1_with_the_list(remediate, make_repo):
    """Before: a compose `command: redis-server --requirepass <pw>` kept the password, and the run
    said "none of the moved values remain" and exited 0. Now the whole repository is searched for
    the stored bytes (not only what the rules find), and what remains ends the run with exit 1."""
    import secrets
    import string

    pw = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
    repo = make_repo("redis")
    (repo / ".env").write_text(f"REDIS_PASSWORD={pw}\n")
    (repo / "docker-compose.yml").write_text(
        f"services:\n  cache:\n    image: redis:7\n    command: redis-server --requirepass {pw}\n")
    (repo / "docs").mkdir()
    (repo / "docs" / "notes.txt").write_text("x" * ((1 << 20) - 5) + pw + "\n")  # across a read block
    r = remediate(repo, "--apply")
    assert r.code == 1, r.err
    assert "still holds a value: docker-compose.yml:4" in r.out and "still holds a value: docs/notes.txt:1" in r.out
    assert "Incomplete: 2 place(s)" in r.out and pw not in r.out and pw not in r.err
    assert "Complete:" not in r.out
    (repo / "docker-compose.yml").write_text("services:\n  cache:\n    image: redis:7\n")
    (repo / "docs" / "notes.txt").unlink()
    r = remediate(repo, "--apply")
    assert r.code == 0, r.out


def test_remaining_lines_are_found_across_blocks(tmp_path, monkeypatch):
    from scanner.remediate import complete

    monkeypatch.setattr(complete, "_BLOCK", 7)
    p = tmp_path / "f"
    p.write_bytes(b"a\nb\nSECRETVALUE\nc\nxxSECRETVALUE\n\nSECRET\n")
    assert complete.lines_holding(p, [b"SECRETVALUE", b"zz"]) == [3, 5]
    assert complete.lines_holding(p, [b"S"]) == [3, 5, 7]


def test_dry_run_and_rotation_plan_give_the_history_purge(remediate, sample_repo, run_cli, tmp_path):
    """Committed values are named in the dry run (run from outside the repository too) with the
    purge procedure; the procedure fetches values from the store at the user's hand and leakstop
    writes no value anywhere."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    r = run_cli("remediate", str(sample_repo), "--project", "shop", "--env", "prod", "--engine", "keywords",
                cwd=outside)
    assert r.code == 0, r.err
    assert "in git history since " in r.out and "value(s) are in the git history" in r.out
    assert ("aws secretsmanager get-secret-value --region us-east-1 --secret-id shop/prod/stripe "
            "--query SecretString --output text | jq -r '.[\"secret_key\"]'") in r.out
    for step in ("umask 077", 'git filter-repo --replace-text "$R"', 'shred -u "$R"', "git push --force --mirror",
                 "refs/pull/*", "forks"):
        assert step in r.out, step
    assert remediate(sample_repo, "--apply").code == 0
    md = (sample_repo / "leakstop-remediation" / "rotation-plan.md").read_text()
    assert "## Purging git history (after rotating)" in md and "jq -Rrs" in md
    doc = json.loads((sample_repo / "leakstop-remediation" / "rotation-plan.json").read_text())
    assert any("git filter-repo" in line for line in doc["history_purge"])
    for v in sample.CORE.values():
        assert v not in md and v not in r.out


def test_purge_commands_build_the_replacements_file(tmp_path):
    """The printed pipeline turns a stored value (a key block too) into filter-repo's lines."""
    import shutil

    from scanner.remediate.history import purge_steps
    from scanner.remediate.stores import make_store

    if shutil.which("jq") is None:
        return
    fetch = purge_steps(make_store("secretsmanager", None), [("shop/prod/tls", "private_key")])[5]
    pipe = fetch.split(" | ", 2)[2].rsplit(" >> ", 1)[0]  # the jq that formats the value's lines
    out = subprocess.run(["bash", "-c", pipe], input="-----BEGIN KEY-----\nAbC==\n-----END KEY-----\n",
                         capture_output=True, text=True)
    assert out.stdout.splitlines() == ["literal:-----BEGIN KEY-----==>***REMOVED***", "literal:AbC====>***REMOVED***",
                                       "literal:-----END KEY-----==>***REMOVED***"]


def test_rotation_status_shows_an_overdue_scheduled_rotation_as_failed():
    from scanner.remediate.rotation import status
    from scanner.remediate.stores import Remote
    from tests.conftest import IDENTITY

    class Store:
        def list_flagged(self):
            return [Remote(name="s", arn="a", values={}, tags={"leakstop:flagged-version": "v1"}, version_id="v1",
                           rotation={"enabled": True, "next_rotation": "2020-01-01T00:00:00+00:00"}),
                    Remote(name="t", arn="b", values={}, tags={"leakstop:flagged-version": "v1"}, version_id="v1",
                           rotation={"enabled": True, "next_rotation": "2999-01-01T00:00:00"})]

    s, t = status(Store(), IDENTITY)
    assert s["rotation_overdue"] and s["rotation_failed"] and not s["rotated"]
    assert not t["rotation_overdue"] and not t["rotation_failed"]
