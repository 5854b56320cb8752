"""MySQL and MariaDB URIs: the client/server protocol's handshake, nothing more (no query, no
database selected, the connection closed as soon as the server answers the login).

TLS is used when the server offers it (the MySQL clients' default, ssl-mode=PREFERRED).
mysql_native_password and caching_sha2_password's fast path send a scramble of the password, never
the password; a server that asks for the password itself (caching_sha2_password's full
authentication, sha256_password, mysql_clear_password) gets it only over TLS. The server's answer
decides: OK = verified; access denied (1045) = invalid."""

from __future__ import annotations

import hashlib
import ssl
import struct
from dataclasses import dataclass

from scanner.verify.base import ERROR, INVALID, VERIFIED, Context, Credential, Result, Unverifiable, Verifier
from scanner.verify.context import uri_of
from scanner.verify.providers.databases import URI_MISSING, connect, recv_exact, server

# Capability flags (MySQL client/server protocol).
LONG_PASSWORD, PROTOCOL_41, SSL, SECURE_CONNECTION, PLUGIN_AUTH = 0x1, 0x200, 0x800, 0x8000, 0x80000
CLIENT_FLAGS = LONG_PASSWORD | PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH
CHARSET = 33  # utf8_general_ci: known to every server since 4.1
MAX_PACKET = 1 << 20
MAX_ROUNDS = 4  # auth switch, then caching_sha2_password's fast-auth answer, then OK/ERR
NATIVE, SHA2 = "mysql_native_password", "caching_sha2_password"
SENDS_PASSWORD = ("mysql_clear_password", "sha256_password")
DENIED = {1045: "access denied (1045)", 1698: "access denied (1698)"}
EXPIRED = 1862  # ER_MUST_CHANGE_PASSWORD_LOGIN: the password was accepted, and has expired


@dataclass(frozen=True)
class Greeting:
    caps: int
    scramble: bytes
    plugin: str


def _read(sock) -> tuple[int, bytes]:
    """One packet: (sequence id, payload)."""
    head = recv_exact(sock, 4)
    size = int.from_bytes(head[:3], "little")
    if size > MAX_PACKET:
        raise ConnectionResetError("not a MySQL answer")
    return head[3], recv_exact(sock, size)


def _write(sock, seq: int, payload: bytes) -> None:
    sock.sendall(len(payload).to_bytes(3, "little") + bytes([seq & 0xFF]) + payload)


def _error(packet: bytes) -> Result:
    code = int.from_bytes(packet[1:3], "little") if len(packet) >= 3 else 0
    if code in DENIED:
        return Result(INVALID, DENIED[code])
    if code == EXPIRED:
        return Result(VERIFIED, "the password was accepted and has expired (1862)")
    return Result(ERROR, f"the server answered error {code}")


def _greeting(payload: bytes) -> Greeting:
    """The server's initial handshake (protocol version 10)."""
    if payload[:1] != b"\x0a" or b"\0" not in payload:
        raise ConnectionResetError("not a MySQL server")
    p = payload.index(b"\0") + 1 + 4  # server version, connection id
    part1, p = payload[p:p + 8], p + 9
    caps = int.from_bytes(payload[p:p + 2], "little") | int.from_bytes(payload[p + 5:p + 7], "little") << 16
    data_len, p = payload[p + 7], p + 18
    if not caps & PROTOCOL_41:
        raise Unverifiable("the server speaks the pre-4.1 protocol")
    part2_len = max(13, data_len - 8) if caps & SECURE_CONNECTION else 0
    part2, p = payload[p:p + part2_len], p + part2_len
    plugin = payload[p:].split(b"\0", 1)[0].decode("ascii", "replace") if caps & PLUGIN_AUTH else NATIVE
    return Greeting(caps, (part1 + part2)[:20], plugin or NATIVE)


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


def auth_data(plugin: str, password: bytes, scramble: bytes, tls: bool) -> bytes:
    """What the client sends for ``plugin``: a scramble, or (over TLS only) the password itself."""
    if not password:
        return b""
    if plugin == NATIVE:  # SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw)))
        stage1 = hashlib.sha1(password).digest()
        return _xor(stage1, hashlib.sha1(scramble + hashlib.sha1(stage1).digest()).digest())
    if plugin == SHA2:  # SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble)
        stage1 = hashlib.sha256(password).digest()
        return _xor(stage1, hashlib.sha256(hashlib.sha256(stage1).digest() + scramble).digest())
    if plugin in SENDS_PASSWORD and tls:
        return password + b"\0"
    if plugin in SENDS_PASSWORD:
        raise Unverifiable(f"the server asks for the password in clear text ({plugin}) without TLS: not sent")
    raise Unverifiable(f"authentication plugin {plugin} is not supported")


def _login(user: str, plugin: str, data: bytes, caps: int) -> bytes:
    """HandshakeResponse41, without a database: authenticating proves the password."""
    head = struct.pack("<IIB23x", caps, MAX_PACKET, CHARSET)
    login = head + user.encode() + b"\0" + bytes([len(data)]) + data
    return login + plugin.encode() + b"\0" if caps & PLUGIN_AUTH else login


def _answer(sock, seq: int, user: str, password: bytes, plugin: str, tls: bool) -> Result:
    for _ in range(MAX_ROUNDS):
        seq, packet = _read(sock)
        kind = packet[:1]
        if kind == b"\x00":
            return Result(VERIFIED, f"authenticated as {user}" + (" (TLS)" if tls else ""))
        if kind == b"\xff":
            return _error(packet)
        if kind == b"\xfe":  # auth switch: the account uses another plugin, with a fresh scramble
            name, _, scramble = packet[1:].partition(b"\0")
            plugin = name.decode("ascii", "replace")
            _write(sock, seq + 1, auth_data(plugin, password, scramble.rstrip(b"\0")[:20], tls))
        elif kind == b"\x01" and plugin == SHA2 and packet[1:2] == b"\x04":  # full authentication
            if not tls:
                raise Unverifiable("the server asks for the password itself (caching_sha2_password full "
                                   "authentication) without TLS: not sent")
            _write(sock, seq + 1, password + b"\0")
        elif not (kind == b"\x01" and plugin == SHA2 and packet[1:2] == b"\x03"):  # \x03: fast auth passed
            return Result(ERROR, "unexpected MySQL answer")
    return Result(ERROR, "the server did not conclude the login")


def _mysql(cred: Credential, ctx: Context) -> Result:
    uri = cred.context_text
    if uri.lower().startswith("mysqlx"):
        raise Unverifiable("the X Protocol (mysqlx://) is not supported")
    host, port, user, password, _ = server(uri, 3306)
    if not user:
        raise Unverifiable("the URI names no user")
    sock = connect(host, port, ctx.timeout)
    try:
        seq, payload = _read(sock)
        if payload[:1] == b"\xff":
            return _error(payload)
        hello = _greeting(payload)
        caps, tls = CLIENT_FLAGS & (hello.caps | ~PLUGIN_AUTH), bool(hello.caps & SSL)
        if tls:
            caps |= SSL
            seq += 1
            _write(sock, seq, struct.pack("<IIB23x", caps, MAX_PACKET, CHARSET))
            tls_ctx = ssl.create_default_context()
            tls_ctx.check_hostname, tls_ctx.verify_mode = False, ssl.CERT_NONE  # ssl-mode=PREFERRED
            sock = tls_ctx.wrap_socket(sock, server_hostname=host)
        plugin = hello.plugin if hello.plugin in (NATIVE, SHA2) else NATIVE
        _write(sock, seq + 1, _login(user, plugin, auth_data(plugin, password.encode(), hello.scramble, tls), caps))
        return _answer(sock, seq + 1, user, password.encode(), plugin, tls)
    finally:
        sock.close()


MYSQL = Verifier(
    name="mysql", provider="mysql", rule_ids=("mysql-uri-password", "mariadb-uri-password"), hosts=(),
    request="connect to the server the URI names (TLS when offered) and log in (mysql_native_password/"
            "caching_sha2_password); no query, no database selected",
    check=_mysql, own_host=True, locate=uri_of, locate_missing=URI_MISSING)
