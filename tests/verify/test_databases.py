"""Database URIs against real servers on 127.0.0.1: PostgreSQL (SCRAM-SHA-256) and Valkey (the
Redis protocol). The right password is verified, a wrong one invalid; the URI is read from the
finding's own line."""

from __future__ import annotations

import json

import pytest

from scanner.verify.providers.databases import POSTGRES, REDIS
from tests.verify import dbservers
from tests.verify.cases import rand
from tests.verify.dbservers import verify_uri as check


@pytest.fixture(scope="module")
def pg():
    password = rand(24)
    with dbservers.postgres("app", password) as port:
        yield port, password


@pytest.fixture(scope="module")
def redis(tmp_path_factory):
    password, acl_password = rand(24), rand(24)
    with dbservers.valkey(tmp_path_factory.mktemp("valkey"), password, "worker", acl_password) as port:
        yield port, password, acl_password


def test_postgres_right_password_is_verified(pg):
    port, password = pg
    r = check(POSTGRES, password, f"postgresql://app:{password}@127.0.0.1:{port}/app")
    assert (r.status, r.detail) == ("verified", "authenticated as app")


def test_postgres_unknown_database_still_proves_the_password(pg):
    port, password = pg
    r = check(POSTGRES, password, f"postgres://app:{password}@127.0.0.1:{port}/no_such_db")
    assert (r.status, r.detail) == ("verified", "authenticated as app")  # authentication comes first


def test_postgres_wrong_password_is_invalid(pg):
    port, _ = pg
    wrong = rand(24)
    r = check(POSTGRES, wrong, f"postgresql://app:{wrong}@127.0.0.1:{port}/app")
    assert (r.status, r.detail) == ("invalid", "password authentication failed (28P01)")


def test_redis_password_and_acl_user(redis):
    port, password, acl_password = redis
    assert check(REDIS, password, f"redis://:{password}@127.0.0.1:{port}/0").status == "verified"
    r = check(REDIS, acl_password, f"redis://worker:{acl_password}@127.0.0.1:{port}")
    assert (r.status, r.detail) == ("verified", "authenticated as worker")
    wrong = rand(24)
    assert check(REDIS, wrong, f"redis://:{wrong}@127.0.0.1:{port}").status == "invalid"


def test_nothing_listening_is_a_network_error():
    from tests.motoserver import free_port

    r = check(REDIS, "pw-" + rand(20), f"redis://:x@127.0.0.1:{free_port()}")
    assert r.status == "error" and r.detail.startswith("network error")


def test_scan_verify_reads_the_uri_from_the_findings_line(run_cli, pg, redis, tmp_path):
    port, password = pg
    rport, rpassword, _ = redis
    (tmp_path / "settings.py").write_text(
        f"DATABASE_URL = 'postgresql://app:{password}@127.0.0.1:{port}/app'\n"
        f"CACHE_URL = \"redis://:{rpassword}@127.0.0.1:{rport}/0\"\n")
    r = run_cli("scan", ".", "--verify", "-f", "json", "--engine", "keywords", cwd=tmp_path)
    got = {f["rule_id"]: f["verification"] for f in json.loads(r.out)["findings"]}
    assert got["postgresql-uri-password"]["status"] == "verified"
    assert got["redis-uri-password"]["status"] == "verified"
    assert password not in r.out + r.err and rpassword not in r.out + r.err
