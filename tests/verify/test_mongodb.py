"""MongoDB URIs against tests/verify/mongofake.py on 127.0.0.1: a server of the wire protocol's
handshake and SCRAM authentication (no real mongod can be installed from the registries), checked
here against the official driver, pymongo, before the verifier is checked against it."""

from __future__ import annotations

import datetime
import json
import socket
import time

import bson
import pymongo
import pytest
from bson.objectid import ObjectId
from bson.timestamp import Timestamp

from scanner.verify.providers import mongodb
from scanner.verify.providers.mongodb import MONGODB
from tests.motoserver import free_port
from tests.verify import dbservers
from tests.verify.cases import rand
from tests.verify.dbservers import verify_uri
from tests.verify.mongofake import FakeMongo


@pytest.fixture(scope="module")
def mongo():
    passwords = {("admin", "app"): rand(24), ("shop", "clerk"): rand(24), ("admin", "old"): rand(24)}
    fake = FakeMongo({k: v for k, v in passwords.items() if k[1] != "old"})
    legacy = FakeMongo({("admin", "old"): passwords["admin", "old"]}, mechanisms=("SCRAM-SHA-1",))
    yield fake, passwords, legacy
    fake.close()
    legacy.close()


def test_the_fake_lets_the_official_driver_in_with_the_right_password_only(mongo):
    fake, passwords, _ = mongo
    base = f"127.0.0.1:{fake.port}/?directConnection=true&serverSelectionTimeoutMS=5000"
    client = pymongo.MongoClient(f"mongodb://app:{passwords['admin', 'app']}@{base}")
    try:
        assert client.admin.command("ping")["ok"] == 1
    finally:
        client.close()
    client = pymongo.MongoClient(f"mongodb://app:{rand(24)}@{base}")
    try:
        with pytest.raises(pymongo.errors.OperationFailure) as failed:
            client.admin.command("ping")
        assert failed.value.code == 18
    finally:
        client.close()


def test_right_password_is_verified_with_handshake_and_authentication_only(mongo):
    fake, passwords, _ = mongo
    pw = passwords["admin", "app"]
    fake.commands.clear()
    r = verify_uri(MONGODB, pw, f"mongodb://app:{pw}@127.0.0.1:{fake.port}/?authSource=admin")
    assert (r.status, r.detail) == ("verified", "authenticated as app on admin (SCRAM-SHA-256)")
    assert fake.commands == ["hello", "saslStart", "saslContinue"]  # no query, no other command


def test_wrong_password_and_unknown_user_are_invalid(mongo):
    fake, _, _ = mongo
    wrong = rand(24)
    r = verify_uri(MONGODB, wrong, f"mongodb://app:{wrong}@127.0.0.1:{fake.port}")
    assert (r.status, r.detail) == ("invalid", "authentication failed (AuthenticationFailed)")
    assert verify_uri(MONGODB, wrong, f"mongodb://nobody:{wrong}@127.0.0.1:{fake.port}").status == "invalid"


def test_seed_list_database_as_auth_source_and_scram_sha1(mongo):
    fake, passwords, legacy = mongo
    pw = passwords["shop", "clerk"]
    uri = f"mongodb://clerk:{pw}@127.0.0.1:{fake.port},mongo-1.internal:27017/shop?replicaSet=rs0&w=majority"
    assert verify_uri(MONGODB, pw, uri).detail == "authenticated as clerk on shop (SCRAM-SHA-256)"
    pw = passwords["admin", "old"]  # a user with SCRAM-SHA-1 credentials only (MongoDB 3.x)
    r = verify_uri(MONGODB, pw, f"mongodb://old:{pw}@127.0.0.1:{legacy.port}")
    assert (r.status, r.detail) == ("verified", "authenticated as old on admin (SCRAM-SHA-1)")
    wrong = rand(24)
    assert verify_uri(MONGODB, wrong, f"mongodb://old:{wrong}@127.0.0.1:{legacy.port}").status == "invalid"


def test_srv_uris_are_not_resolved(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("no lookup or connection for mongodb+srv://")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    pw = rand(20)
    r = verify_uri(MONGODB, pw, f"mongodb+srv://app:{pw}@cluster0.example.mongodb.net/app")
    assert (r.status, r.detail) == ("unknown", "cannot be checked: " + mongodb.SRV)


def test_nothing_listening_and_a_silent_server():
    pw = rand(20)
    r = verify_uri(MONGODB, pw, f"mongodb://app:{pw}@127.0.0.1:{free_port()}")
    assert r.status == "error" and r.detail.startswith("network error")
    with dbservers.silent_server() as port:
        start = time.monotonic()
        r = verify_uri(MONGODB, pw, f"mongodb://app:{pw}@127.0.0.1:{port}", timeout=1.0)
        elapsed = time.monotonic() - start
    assert r.status == "unknown" and elapsed < 3, (r.detail, elapsed)


def test_unsupported_mechanism_is_not_tried(mongo):
    fake, _, _ = mongo
    fake.commands.clear()
    pw = rand(20)
    r = verify_uri(MONGODB, pw, f"mongodb://app:{pw}@127.0.0.1:{fake.port}/?authMechanism=PLAIN")
    assert (r.status, r.detail) == ("unknown", "cannot be checked: authMechanism PLAIN is not supported")


def test_bson_codec_agrees_with_pymongos():
    doc = {"hello": 1, "name": "app", "flag": True, "payload": b"n,,n=app,r=abc", "nested": {"skip": False}}
    assert bson.decode(mongodb.bson(doc)) == doc
    theirs = {"ok": 1.0, "n": 7, "big": 1 << 40, "s": "é", "arr": ["SCRAM-SHA-256", "SCRAM-SHA-1"], "none": None,
              "bin": bson.Binary(b"\x00\x01"), "oid": ObjectId(), "when": datetime.datetime(2026, 1, 1),
              "ts": Timestamp(1, 2), "doc": {"a": [1, {"b": 2}]}}
    ours = mongodb.unbson(bson.encode(theirs))
    assert {k: ours[k] for k in ("ok", "n", "big", "s", "arr", "none", "bin", "doc")} == {
        "ok": 1.0, "n": 7, "big": 1 << 40, "s": "é", "arr": ["SCRAM-SHA-256", "SCRAM-SHA-1"], "none": b"",
        "bin": b"\x00\x01", "doc": {"a": [1, {"b": 2}]}}
    assert list(ours) == list(theirs)


def test_scan_verify_reads_the_uri_and_never_prints_the_password(run_cli, mongo, tmp_path):
    fake, passwords, _ = mongo
    pw, wrong = passwords["admin", "app"], rand(24)
    (tmp_path / "settings.py").write_text(f"MONGO_URL = 'mongodb://app:{pw}@127.0.0.1:{fake.port}/?authSource=admin'\n"
                                          f"OLD_URL = \"mongodb://app:{wrong}@127.0.0.1:{fake.port}/admin\"\n")
    r = run_cli("scan", ".", "--verify", "-f", "json", "--engine", "keywords", cwd=tmp_path)
    got = sorted(f["verification"]["status"] for f in json.loads(r.out)["findings"]
                 if f["rule_id"] == "mongodb-uri-password")
    assert got == ["invalid", "verified"]
    assert pw not in r.out + r.err and wrong not in r.out + r.err
