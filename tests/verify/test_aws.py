"""AWS keys against moto's server with IAM authentication on: a key pair created in its IAM is
verified with its ARN, a random well-formed pair is invalid; the endpoint rules."""

from __future__ import annotations

import json
import secrets
import string

import pytest

from scanner.verify import executor
from scanner.verify.base import Context, Credential
from scanner.verify.cache import Cache
from scanner.verify.jobs import Job
from scanner.verify.providers.aws import AWS, endpoint
from tests.conftest import IDENTITY
from tests.motoserver import moto_server
from tests.fakes import aws_key_id

B64ISH = string.ascii_letters + string.digits + "/+"


@pytest.fixture(scope="module")
def iam_key(tmp_path_factory):
    """moto with IAM authentication after two unauthenticated calls: CreateUser, CreateAccessKey."""
    import boto3

    with moto_server(tmp_path_factory.mktemp("moto-iam"), {"INITIAL_NO_AUTH_ACTION_COUNT": "2"}) as url:
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="setup",
                           aws_secret_access_key="setup")
        iam.create_user(UserName="leaked-deployer")
        key = iam.create_access_key(UserName="leaked-deployer")["AccessKey"]
        yield url, key["AccessKeyId"], key["SecretAccessKey"]


def random_pair() -> tuple[str, str]:
    return (aws_key_id(),
            "".join(secrets.choice(B64ISH) for _ in range(40)))


def check(url: str, key_id: str, secret: str, allowed=()):
    settings = executor.Settings(timeout=10, cache_path=None, allowed_endpoints=allowed,
                                 environ={"AWS_ENDPOINT_URL_STS": url})
    return executor.run([Job(AWS, Credential(secret.encode(), key_id.encode()))], settings, Cache(None), IDENTITY)[0]


def test_key_created_in_iam_is_verified_with_its_arn(iam_key):
    url, key_id, secret = iam_key
    r = check(url, key_id, secret)
    assert r.status == "verified" and "arn:aws:iam::123456789012:user/leaked-deployer" in r.detail
    assert secret not in r.detail


def test_random_well_formed_pair_is_invalid(iam_key):
    r = check(iam_key[0], *random_pair())
    assert (r.status, r.detail) == ("invalid", "rejected (InvalidClientTokenId)")


def test_temporary_key_without_its_session_token_is_unknown(iam_key):
    _, secret = random_pair()
    r = check(iam_key[0], "ASIA" + "Q" * 16, secret)
    assert r.status == "unknown" and "session token" in r.detail


@pytest.mark.parametrize("env, allowed, want", [
    ({}, (), "https://sts.amazonaws.com"),
    ({"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}, (), "http://127.0.0.1:5000"),
    ({"AWS_ENDPOINT_URL": "http://localhost:5000", "AWS_ENDPOINT_URL_STS": "http://[::1]:9"}, (), "http://[::1]:9"),
    ({"AWS_ENDPOINT_URL_STS": "https://sts.vpce.corp.example"}, ("sts.vpce.corp.example",),
     "https://sts.vpce.corp.example"),
    ({"AWS_ENDPOINT_URL_STS": "https://sts.vpce.corp.example/"}, ("https://sts.vpce.corp.example",),
     "https://sts.vpce.corp.example/"),
    ({"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, (),
     "https://sts.amazonaws.com"),
])
def test_endpoint_is_global_sts_unless_loopback_or_allowed(env, allowed, want):
    assert endpoint(Context(timeout=1, allowed_endpoints=allowed, environ=env)) == want


@pytest.mark.parametrize("url", ["https://collector.attacker.example", "http://127.0.0.1.attacker.example:80",
                                 "http://10.0.0.5:4566"])
def test_other_endpoints_are_refused_and_the_key_is_not_sent(url, monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    r = check(url, *random_pair())
    assert r.status == "unknown" and "neither loopback nor in verify.allowed_endpoints" in r.detail


def test_scan_verify_pairs_the_key_id_and_secret_in_a_file(run_cli, iam_key, tmp_path, monkeypatch):
    url, key_id, secret = iam_key
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    (tmp_path / "settings.py").write_text(f"AWS_ACCESS_KEY_ID = '{key_id}'\nAWS_SECRET_ACCESS_KEY = '{secret}'\n")
    r = run_cli("scan", ".", "--verify", "-f", "json", "--engine", "keywords", cwd=tmp_path)
    got = {f["rule_id"]: f["verification"] for f in json.loads(r.out)["findings"]}
    assert got["aws-secret-access-key"]["status"] == "verified"
    assert got["aws-access-key-id"] == got["aws-secret-access-key"]
    assert "user/leaked-deployer" in got["aws-access-key-id"]["detail"]
    assert secret not in r.out + r.err
