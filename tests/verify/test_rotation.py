"""``rotation status --verify``: a secret rotated in the store whose old value its provider still
accepts is a failure ("rotated, but the old value is still live", exit 1); an old value the
provider rejects passes. The store is moto; the provider a local fake."""

from __future__ import annotations

import json

import pytest

from tests.remediate.conftest import aws, moto_url  # noqa: F401  (moto, a clean account per test)
from tests.verify.cases import CASES, rand

NAME = "shop/prod/vcs"


@pytest.fixture
def flagged(aws, fake):  # noqa: F811
    """A flagged secret holding a GitHub token and an unrecognised value; returns the token."""
    import boto3

    sm = boto3.client("secretsmanager")
    old = "ghp_" + rand(36)
    version = sm.create_secret(Name=NAME, SecretString=json.dumps({"github_token": old, "note": "x"}))["VersionId"]
    sm.tag_resource(SecretId=NAME, Tags=[{"Key": "leakstop:rotation", "Value": "required"},
                                         {"Key": "leakstop:flagged-version", "Value": version},
                                         {"Key": "leakstop:rule", "Value": "github-pat-classic"}])
    fake.ok, fake.bad = CASES["github"].ok, CASES["github"].bad
    return sm, old


def _rotate(sm) -> None:
    sm.put_secret_value(SecretId=NAME, SecretString=json.dumps({"github_token": "ghp_" + rand(36), "note": "x"}))


def test_rotated_but_old_value_still_live_fails(run_cli, flagged, fake, tmp_path):
    sm, old = flagged
    _rotate(sm)
    fake.valid.add(old)
    r = run_cli("rotation", "status", "--verify", cwd=tmp_path)
    assert r.code == 1
    assert f"STILL-LIVE\t{NAME}\t" in r.out and "old value: verified (github-pat-classic: login octocat" in r.out
    assert "1 flagged, 0 pending rotation, 1 rotated, but the old value is still live" in r.err
    assert old not in r.out + r.err
    assert len(fake.seen) == 1 and fake.seen[0].carries(old)  # the old version's token, not the new one


def test_rotated_and_old_value_rejected_passes(run_cli, flagged, fake, tmp_path):
    sm, old = flagged
    _rotate(sm)
    r = run_cli("rotation", "status", "--verify", "-f", "json", cwd=tmp_path)
    assert r.code == 0
    (row,) = json.loads(r.out)["secrets"]
    assert row["rotated"] and not row["still_live"]
    assert row["old_value"] == {"status": "invalid", "detail": "github-pat-classic: rejected (HTTP 401)"}


def test_pending_secret_shows_whether_its_value_is_live(run_cli, flagged, fake, tmp_path):
    sm, old = flagged
    fake.valid.add(old)
    r = run_cli("rotation", "status", "--verify", cwd=tmp_path)
    assert r.code == 1 and f"PENDING\t{NAME}\t" in r.out and "old value: verified" in r.out


def test_without_verify_no_provider_is_asked(run_cli, flagged, fake, tmp_path):
    sm, _ = flagged
    _rotate(sm)
    r = run_cli("rotation", "status", cwd=tmp_path)
    assert r.code == 0 and fake.seen == [] and "old value" not in r.out


def test_ssm_parameter_old_version_is_read(run_cli, aws, fake, tmp_path):  # noqa: F811
    import boto3

    ssm = boto3.client("ssm")
    old = "ghp_" + rand(36)
    ssm.put_parameter(Name="/shop/prod/github_token", Value=old, Type="SecureString")
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/shop/prod/github_token",
                             Tags=[{"Key": "leakstop:rotation", "Value": "required"},
                                   {"Key": "leakstop:flagged-version", "Value": "1"}])
    ssm.put_parameter(Name="/shop/prod/github_token", Value="ghp_" + rand(36), Type="SecureString", Overwrite=True)
    fake.ok, fake.bad = CASES["github"].ok, CASES["github"].bad
    fake.valid.add(old)
    r = run_cli("rotation", "status", "--backend", "ssm", "--verify", cwd=tmp_path)
    assert r.code == 1 and "STILL-LIVE\t/shop/prod/github_token" in r.out


def test_per_key_answers_for_a_secret_flagged_per_value(run_cli, aws, fake, tmp_path):  # noqa: F811
    """A secret flagged by this leakstop (a keyed hash per key): each key says whether its own old
    value still works; only the rotated key whose old value is live makes it STILL-LIVE."""
    import boto3

    from scanner.config import Config
    from scanner.identity import resolve_identity
    from scanner.remediate.rotation import HASH_KEY_TAG, HASH_TAG

    identity = resolve_identity(Config(), tmp_path)
    sm = boto3.client("secretsmanager")
    token, other = "ghp_" + rand(36), "ghp_" + rand(36)
    values = {"github_token": token, "deploy_token": other}
    version = sm.create_secret(Name=NAME, SecretString=json.dumps(values))["VersionId"]
    tags = {"leakstop:rotation": "required", "leakstop:flagged-version": version, HASH_KEY_TAG: identity.key_id,
            **{f"{HASH_TAG}:{k}": identity.value_hash(v.encode()) for k, v in values.items()}}
    sm.tag_resource(SecretId=NAME, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    sm.put_secret_value(SecretId=NAME, SecretString=json.dumps({"github_token": "ghp_" + rand(36),
                                                                "deploy_token": "ghp_" + rand(36)}))
    fake.ok, fake.bad = CASES["github"].ok, CASES["github"].bad
    fake.valid.add(token)
    r = run_cli("rotation", "status", "--verify", "-f", "json", cwd=tmp_path)
    (row,) = json.loads(r.out)["secrets"]
    keys = {k["key"]: (k["rotated"], k["old_value"]["status"]) for k in row["keys"]}
    assert keys == {"github_token": (True, "verified"), "deploy_token": (True, "invalid")}
    assert r.code == 1 and row["still_live"]
    assert token not in r.out and other not in r.out
