"""Database URIs: connect to the server the URI names and authenticate, nothing more (no query,
no database opened beyond what the handshake requires; the connection is closed at once).

PostgreSQL speaks the v3 wire protocol: TLS is asked for first (used when the server offers it);
SCRAM-SHA-256 and MD5 never send the password itself, and a server asking for the password in
clear text on a connection without TLS is refused. Redis (and Valkey) get one ``AUTH``. The
server's answers decide: authenticated = verified; a wrong password = invalid."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import ssl
import struct
from typing import Optional
from urllib.parse import unquote, urlsplit

from scanner.verify.base import ERROR, INVALID, UNKNOWN, VERIFIED, Context, Credential, Result, Unverifiable, Verifier
from scanner.verify import scram
from scanner.verify.context import uri_of

URI_MISSING = "its URI was not found on its line (read in scan mode only)"
HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


def plain_host(host: str) -> bool:
    if HOST_NAME.fullmatch(host):
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def server(uri: str, default_port: int) -> tuple[str, int, str, str, str]:
    """(host, port, user, password, database) of a URI, the host a plain name or address."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if not plain_host(host):
        raise Unverifiable("the URI names no plain host")
    try:
        port = parts.port or default_port
    except ValueError:
        raise Unverifiable("the URI's port is not a number") from None
    return host, port, unquote(parts.username or ""), unquote(parts.password or ""), unquote(parts.path.lstrip("/"))


def connect(host: str, port: int, timeout: float) -> socket.socket:
    return socket.create_connection((host, port), timeout=timeout)


# -- PostgreSQL ---------------------------------------------------------------------------------
SSL_REQUEST = struct.pack("!ii", 8, 80877103)
PASSWORD_WRONG = {"28P01"}  # invalid_password


def recv_exact(sock, n: int) -> bytes:
    data = b""
    while len(data) < n:
        got = sock.recv(n - len(data))
        if not got:
            raise ConnectionResetError("closed by the server")
        data += got
    return data


def _message(sock) -> tuple[bytes, bytes]:
    kind = recv_exact(sock, 1)
    (size,) = struct.unpack("!i", recv_exact(sock, 4))
    if size < 4 or size > 1 << 20:
        raise ConnectionResetError("not a PostgreSQL answer")
    return kind, recv_exact(sock, size - 4)


def _send(sock, kind: bytes, body: bytes) -> None:
    sock.sendall(kind + struct.pack("!i", len(body) + 4) + body)


def _pg_error(body: bytes) -> Result:
    fields = {f[:1]: f[1:].decode("utf-8", "replace") for f in body.split(b"\0") if f}
    code = fields.get(b"C", "")
    if code in PASSWORD_WRONG:
        return Result(INVALID, "password authentication failed (28P01)")
    return Result(ERROR, f"server refused before authentication (SQLSTATE {code or '?'})")


def _pg_open(host: str, port: int, timeout: float) -> tuple[socket.socket, bool]:
    sock = connect(host, port, timeout)
    sock.sendall(SSL_REQUEST)
    if recv_exact(sock, 1) == b"S":
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # libpq's sslmode=prefer
        return ctx.wrap_socket(sock, server_hostname=host), True
    return sock, False


def _scram(sock, password: str) -> Optional[Result]:
    """SCRAM-SHA-256 (scanner.verify.scram); None when the server accepted the proof."""
    first_bare, nonce = scram.client_first()
    first = ("n,," + first_bare).encode()
    _send(sock, b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first)
    kind, body = _message(sock)
    if kind == b"E":
        return _pg_error(body)
    final, _ = scram.client_final(password.encode(), first_bare, body[4:].decode(), nonce)
    _send(sock, b"p", final.encode())
    return None


def _pg_answer(sock, user: str, password: str, tls: bool) -> Result:
    while True:
        kind, body = _message(sock)
        if kind == b"E":
            return _pg_error(body)
        if kind != b"R":
            return Result(ERROR, "unexpected PostgreSQL message")
        (code,) = struct.unpack("!i", body[:4])
        if code == 0:
            return Result(VERIFIED, f"authenticated as {user}" + (" (TLS)" if tls else ""))
        if code == 3 and not tls:
            raise Unverifiable("the server asks for the password in clear text without TLS: not sent")
        if code == 3:
            _send(sock, b"p", password.encode() + b"\0")
        elif code == 5:
            inner = hashlib.md5((password + user).encode()).hexdigest()
            _send(sock, b"p", b"md5" + hashlib.md5(inner.encode() + body[4:8]).hexdigest().encode() + b"\0")
        elif code == 10 and b"SCRAM-SHA-256\0" in body[4:]:
            failed = _scram(sock, password)
            if failed:
                return failed
        elif code not in (11, 12):
            return Result(UNKNOWN, f"authentication method {code} is not supported")


def _postgres(cred: Credential, ctx: Context) -> Result:
    host, port, user, password, db = server(cred.context_text, 5432)
    if not user:
        raise Unverifiable("the URI names no user")
    sock, tls = _pg_open(host, port, ctx.timeout)
    try:
        params = b"user\0" + user.encode() + b"\0database\0" + (db or user).encode() + b"\0\0"
        sock.sendall(struct.pack("!ii", len(params) + 8, 196608) + params)
        return _pg_answer(sock, user, password, tls)
    finally:
        try:
            _send(sock, b"X", b"")
        except OSError:
            pass
        sock.close()


POSTGRES = Verifier(
    name="postgresql", provider="postgresql", rule_ids=("postgresql-uri-password",), hosts=(),
    request="connect to the server the URI names (TLS when offered) and authenticate (SCRAM-SHA-256/MD5); no query",
    check=_postgres, own_host=True, locate=uri_of, locate_missing=URI_MISSING)


# -- Redis ----------------------------------------------------------------------------------------
def _resp(*parts: str) -> bytes:
    out = f"*{len(parts)}\r\n"
    for p in parts:
        out += f"${len(p.encode())}\r\n{p}\r\n"
    return out.encode()


def _redis(cred: Credential, ctx: Context) -> Result:
    uri = cred.context_text
    host, port, user, password, _ = server(uri, 6379)
    sock = connect(host, port, ctx.timeout)
    if uri.lower().startswith("rediss://"):
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
    try:
        sock.sendall(_resp("AUTH", user, password) if user and user != "default" else _resp("AUTH", password))
        line = sock.recv(512).split(b"\r\n", 1)[0].decode("utf-8", "replace")
    finally:
        sock.close()
    if line.startswith("+OK"):
        return Result(VERIFIED, f"authenticated{' as ' + user if user else ''}")
    if "WRONGPASS" in line or "invalid password" in line or "invalid username-password" in line:
        return Result(INVALID, "wrong password (WRONGPASS)")
    if "no password is set" in line or "without any password configured" in line:
        return Result(UNKNOWN, "the server has no password at all (open to anyone)")
    return Result(ERROR, f"unexpected answer ({line[:40]})")


REDIS = Verifier(
    name="redis", provider="redis", rule_ids=("redis-uri-password",), hosts=(),
    request="connect to the server the URI names (TLS for rediss://) and send AUTH; no other command",
    check=_redis, own_host=True, locate=uri_of, locate_missing=URI_MISSING)
