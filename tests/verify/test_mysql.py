"""MySQL and MariaDB URIs against a real MariaDB server on 127.0.0.1 (Debian's mariadbd, started
by tests/verify/dbservers.py, with and without TLS), and caching_sha2_password (MySQL 8's default,
which no installable server speaks) against a local fake of its documented exchange."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from scanner.verify.providers.mysql import MYSQL, SHA2, auth_data
from tests.motoserver import free_port
from tests.verify import dbservers
from tests.verify.cases import rand
from tests.verify.dbservers import verify_uri


@pytest.fixture(scope="module", params=["plain", "tls"])
def maria(request):
    password = rand(24)
    with dbservers.mariadb("app", password, tls=request.param == "tls") as port:
        yield port, password, " (TLS)" if request.param == "tls" else ""


def test_right_password_is_verified(maria):
    port, password, tls = maria
    r = verify_uri(MYSQL, password, f"mysql://app:{password}@127.0.0.1:{port}/app")
    assert (r.status, r.detail) == ("verified", "authenticated as app" + tls)


def test_wrong_password_and_unknown_user_are_invalid(maria):
    port, _, _ = maria
    wrong = rand(24)
    r = verify_uri(MYSQL, wrong, f"mysql://app:{wrong}@127.0.0.1:{port}/app")
    assert (r.status, r.detail) == ("invalid", "access denied (1045)")
    assert verify_uri(MYSQL, wrong, f"mysql://nobody:{wrong}@127.0.0.1:{port}").status == "invalid"


def test_driver_and_mariadb_schemes_and_a_database_that_does_not_exist(maria):
    port, password, _ = maria
    for uri in (f"mysql+pymysql://app:{password}@127.0.0.1:{port}/no_such_db?charset=utf8mb4",
                f"mariadb://app:{password}@127.0.0.1:{port}"):
        assert verify_uri(MYSQL, password, uri).status == "verified", uri.split("://")[0]


def test_nothing_listening_is_a_network_error():
    password = rand(20)
    r = verify_uri(MYSQL, password, f"mysql://app:{password}@127.0.0.1:{free_port()}/app")
    assert r.status == "error" and r.detail.startswith("network error")


def test_a_silent_server_costs_no_more_than_the_timeout():
    password = rand(20)
    with dbservers.silent_server() as port:
        start = time.monotonic()
        r = verify_uri(MYSQL, password, f"mysql://app:{password}@127.0.0.1:{port}/app", timeout=1.0)
        elapsed = time.monotonic() - start
    assert r.status == "unknown" and elapsed < 3, (r.detail, elapsed)


def test_x_protocol_and_a_uri_without_user_are_not_checked():
    password = rand(20)
    r = verify_uri(MYSQL, password, f"mysqlx://app:{password}@127.0.0.1:{free_port()}/app")
    assert (r.status, r.detail) == ("unknown", "cannot be checked: the X Protocol (mysqlx://) is not supported")
    assert verify_uri(MYSQL, password, f"mysql://:{password}@127.0.0.1:1/app").status == "unknown"


def test_scan_verify_reads_the_uri_and_never_prints_the_password(run_cli, maria, tmp_path):
    port, password, tls = maria
    wrong = rand(24)
    (tmp_path / "settings.py").write_text(f"DATABASE_URL = 'mysql://app:{password}@127.0.0.1:{port}/app'\n"
                                          f"REPLICA_URL = 'mariadb://app:{wrong}@127.0.0.1:{port}/app'\n")
    r = run_cli("scan", ".", "--verify", "-f", "json", "--engine", "keywords", cwd=tmp_path)
    got = {f["rule_id"]: f["verification"] for f in json.loads(r.out)["findings"]}
    assert got["mysql-uri-password"] == {"status": "verified", "detail": "authenticated as app" + tls}
    assert got["mariadb-uri-password"]["status"] == "invalid"
    assert password not in r.out + r.err and wrong not in r.out + r.err


# -- caching_sha2_password, against a fake of MySQL 8's documented exchange ----------------------------
def _packet(seq: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload


class Sha2Server:
    """MySQL 8 with caching_sha2_password: a greeting naming mysql_native_password (so the client
    is switched), then the fast path when the account's entry is cached, or a request for the
    full password when it is not. Records every packet the client sends."""

    def __init__(self, password: str, cached: bool) -> None:
        self.password, self.cached, self.received = password.encode(), cached, []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def finished(self) -> list[bytes]:
        """Every packet the client sent, once the exchange is over (the client may return before
        this thread has read its closing of the connection)."""
        self.thread.join(timeout=10)
        return self.received

    def _read(self, conn) -> bytes:
        head = conn.recv(4)
        body = conn.recv(int.from_bytes(head[:3], "little")) if len(head) == 4 else b""
        self.received.append(body)
        return body

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            greeting_scramble = b"A" * 20
            caps = (0x1 | 0x200 | 0x8000 | 0x80000).to_bytes(4, "little")
            conn.sendall(_packet(0, b"\x0a8.0.36\0" + b"\1\0\0\0" + greeting_scramble[:8] + b"\0" + caps[:2]
                                 + b"\x21\x02\x00" + caps[2:] + b"\x15" + b"\0" * 10 + greeting_scramble[8:] + b"\0"
                                 + b"mysql_native_password\0"))
            self._read(conn)
            scramble = bytes(range(65, 85))
            conn.sendall(_packet(2, b"\xfe" + SHA2.encode() + b"\0" + scramble + b"\0"))
            answer = self._read(conn)
            if answer != auth_data(SHA2, self.password, scramble, False):
                conn.sendall(_packet(4, b"\xff\x15\x04#28000Access denied"))
            elif self.cached:
                conn.sendall(_packet(4, b"\x01\x03") + _packet(5, b"\x00\x00\x00\x02\x00\x00\x00"))
            else:
                conn.sendall(_packet(4, b"\x01\x04"))
                self._read(conn)
            self._read(conn)  # whatever the client sends next, until it closes


@pytest.mark.parametrize("cached, status", [(True, "verified"), (False, "unknown")])
def test_caching_sha2_fast_path_and_no_password_without_tls(cached, status):
    password = rand(24)
    fake = Sha2Server(password, cached)
    r = verify_uri(MYSQL, password, f"mysql://app:{password}@127.0.0.1:{fake.port}")
    assert r.status == status, r.detail
    if not cached:
        assert "without TLS: not sent" in r.detail
    received = fake.finished()
    assert password.encode() not in b"".join(received)  # scrambles only; nothing after the login (no query)
    assert received[-1] == b"" and len([p for p in received if p]) == 2


def test_caching_sha2_wrong_password_is_invalid():
    password = rand(24)
    fake = Sha2Server(password, True)
    wrong = rand(24)
    assert verify_uri(MYSQL, wrong, f"mysql://app:{wrong}@127.0.0.1:{fake.port}").status == "invalid"
