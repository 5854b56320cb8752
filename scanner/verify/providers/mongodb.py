"""MongoDB URIs: the wire protocol's handshake (``hello``, asking which SCRAM mechanisms the user
has) and a SCRAM conversation (``saslStart``/``saslContinue``), nothing more: no query, no other
command. SCRAM never sends the password, only a proof; the server's answer decides (authenticated
= verified, AuthenticationFailed = invalid). The first host of the URI's seed list is asked (every
member of a replica set or sharded cluster knows the same users); TLS when the URI says
``tls=true``/``ssl=true``. ``mongodb+srv://`` names a DNS SRV record, not a server: finding the
servers would mean asking DNS and contacting the hosts it lists, so those URIs are not checked."""

from __future__ import annotations

import hashlib
import ssl
import struct
from typing import Any
from urllib.parse import parse_qs, unquote

from scanner.verify import scram
from scanner.verify.base import ERROR, INVALID, VERIFIED, Context, Credential, Result, Unverifiable, Verifier
from scanner.verify.context import uri_of
from scanner.verify.providers.databases import URI_MISSING, connect, plain_host, recv_exact

OP_MSG = 2013
MAX_MESSAGE = 1 << 20
AUTH_FAILED = 18  # AuthenticationFailed (also what a missing user gets)
MECHANISMS = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-1": "sha1"}
SRV = "mongodb+srv:// names a DNS SRV record, not a server: not resolved (only a host the URI names is contacted)"


# -- BSON, the little of it the handshake needs ------------------------------------------------------
def bson(doc: dict[str, Any]) -> bytes:
    out = b""
    for key, v in doc.items():
        name = key.encode() + b"\0"
        if isinstance(v, bool):
            out += b"\x08" + name + (b"\x01" if v else b"\x00")
        elif isinstance(v, int):
            out += b"\x10" + name + struct.pack("<i", v)
        elif isinstance(v, str):
            out += b"\x02" + name + struct.pack("<i", len(v.encode()) + 1) + v.encode() + b"\0"
        elif isinstance(v, bytes):
            out += b"\x05" + name + struct.pack("<iB", len(v), 0) + v
        else:
            out += b"\x03" + name + bson(v)
    return struct.pack("<i", len(out) + 5) + out + b"\0"


FIXED = {1: 8, 7: 12, 9: 8, 10: 0, 16: 4, 17: 8, 18: 8, 19: 16, 0x7F: 0, 0xFF: 0}  # sizes of fixed-width types


def unbson(data: bytes) -> dict[str, Any]:
    """A document's fields; strings, numbers, booleans, binaries and nested documents decoded,
    other fixed-width values kept as bytes."""
    (size,) = struct.unpack_from("<i", data)
    if not 5 <= size <= len(data):
        raise ConnectionResetError("not a MongoDB answer")
    doc: dict[str, Any] = {}
    p = 4
    while data[p] != 0:
        kind, end = data[p], data.index(b"\0", p + 1)
        name, p = data[p + 1:end].decode("utf-8", "replace"), end + 1
        if kind in (2, 13, 14):  # string, JavaScript code, symbol
            (n,) = struct.unpack_from("<i", data, p)
            doc[name], p = data[p + 4:p + 3 + n].decode("utf-8", "replace"), p + 4 + n
        elif kind in (3, 4):  # document, array (a document keyed "0", "1", ...)
            (n,) = struct.unpack_from("<i", data, p)
            inner = unbson(data[p:p + n])
            doc[name], p = (inner if kind == 3 else list(inner.values())), p + n
        elif kind == 5:
            (n,) = struct.unpack_from("<i", data, p)
            doc[name], p = data[p + 5:p + 5 + n], p + 5 + n
        elif kind in (8, 16, 18, 1):
            fmt = {8: "<?", 16: "<i", 18: "<q", 1: "<d"}[kind]
            (doc[name],) = struct.unpack_from(fmt, data, p)
            p += struct.calcsize(fmt)
        elif kind in FIXED:
            doc[name], p = data[p:p + FIXED[kind]], p + FIXED[kind]
        else:
            raise ConnectionResetError(f"unexpected BSON type {kind}")
    return doc


# -- the wire protocol ------------------------------------------------------------------------------
def _command(sock, request_id: int, doc: dict[str, Any]) -> dict[str, Any]:
    """Send one OP_MSG command and read its reply's body."""
    body = struct.pack("<IB", 0, 0) + bson(doc)
    sock.sendall(struct.pack("<iiii", 16 + len(body), request_id, 0, OP_MSG) + body)
    length, _, _, opcode = struct.unpack("<iiii", recv_exact(sock, 16))
    if opcode != OP_MSG:
        raise Unverifiable("the server does not speak OP_MSG (MongoDB before 3.6)")
    if not 21 < length <= MAX_MESSAGE:
        raise ConnectionResetError("not a MongoDB answer")
    reply = recv_exact(sock, length - 16)
    if reply[4] != 0:
        raise ConnectionResetError("not a MongoDB answer")
    return unbson(reply[5:])


def _failed(reply: dict[str, Any]) -> Result:
    code = reply.get("code")
    if code == AUTH_FAILED:
        return Result(INVALID, "authentication failed (AuthenticationFailed)")
    return Result(ERROR, f"the server answered {reply.get('codeName') or 'error'} ({code})")


def _seed(uri: str) -> tuple[str, int, str, str, dict[str, str], str]:
    """(host, port, user, password, options, database) of a ``mongodb://`` URI; its first host."""
    rest = uri.split("://", 1)[1]
    netloc, _, path = rest.partition("/")
    path, _, query = path.partition("?")
    if "?" in netloc:
        netloc, _, query = netloc.partition("?")
    userinfo, _, hosts = netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    first = hosts.split(",")[0]
    if first.startswith("["):  # [IPv6]:port
        host, _, port = first[1:].partition("]")
    else:
        host, _, port = first.partition(":")
    port = port.lstrip(":") or "27017"
    if not plain_host(host):
        raise Unverifiable("the URI names no plain host")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise Unverifiable("the URI's port is not a number")
    options = {k.lower(): v[-1] for k, v in parse_qs(query).items()}
    return host, int(port), unquote(user), unquote(password), options, unquote(path)


def _tls(sock, host: str, options: dict[str, str]):
    if options.get("tls", options.get("ssl", "")).lower() != "true":
        return sock, False
    ctx = ssl.create_default_context()
    if "true" in (options.get("tlsinsecure", ""), options.get("tlsallowinvalidcertificates", "")):
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx.wrap_socket(sock, server_hostname=host), True


def _mechanism(sock, source: str, user: str, options: dict[str, str]) -> str:
    named = options.get("authmechanism", "")
    if named and named not in MECHANISMS:
        raise Unverifiable(f"authMechanism {named} is not supported")
    hello = _command(sock, 1, {"hello": 1, "saslSupportedMechs": f"{source}.{user}", "$db": "admin"})
    offered = hello.get("saslSupportedMechs") or ["SCRAM-SHA-256"]  # no such user: the default, refused
    return named or ("SCRAM-SHA-256" if "SCRAM-SHA-256" in offered else "SCRAM-SHA-1")


def _conversation(sock, source: str, user: str, password: str, mechanism: str) -> Result:
    digest = MECHANISMS[mechanism]
    secret = (hashlib.md5(f"{user}:mongo:{password}".encode()).hexdigest() if digest == "sha1"
              else scram.saslprep(password)).encode()
    first_bare, nonce = scram.client_first(user)
    reply = _command(sock, 2, {"saslStart": 1, "mechanism": mechanism, "payload": ("n,," + first_bare).encode(),
                               "autoAuthorize": 1, "options": {"skipEmptyExchange": True}, "$db": source})
    if reply.get("ok") != 1:
        return _failed(reply)
    final, expected = scram.client_final(secret, first_bare, reply["payload"].decode(), nonce, digest)
    reply = _command(sock, 3, {"saslContinue": 1, "conversationId": reply["conversationId"],
                               "payload": final.encode(), "$db": source})
    if reply.get("ok") == 1 and not reply.get("done"):  # a server without skipEmptyExchange: one more, empty
        server_final = reply.get("payload", b"")
        reply = _command(sock, 4, {"saslContinue": 1, "conversationId": reply["conversationId"], "payload": b"",
                                   "$db": source})
        reply.setdefault("payload", server_final)
    if reply.get("ok") != 1:
        return _failed(reply)
    if reply.get("payload", b"") != f"v={expected}".encode():
        return Result(ERROR, "the server accepted the proof but its own SCRAM signature is wrong")
    return Result(VERIFIED, f"authenticated as {user} on {source} ({mechanism})")


def _mongodb(cred: Credential, ctx: Context) -> Result:
    uri = cred.context_text
    if uri.lower().startswith("mongodb+srv://"):
        raise Unverifiable(SRV)
    host, port, user, password, options, database = _seed(uri)
    if not user:
        raise Unverifiable("the URI names no user")
    source = options.get("authsource") or database or "admin"
    sock = connect(host, port, ctx.timeout)
    try:
        sock, tls = _tls(sock, host, options)
        result = _conversation(sock, source, user, password, _mechanism(sock, source, user, options))
        return Result(result.status, result.detail + (" (TLS)" if tls and result.status == VERIFIED else ""))
    finally:
        sock.close()


MONGODB = Verifier(
    name="mongodb", provider="mongodb", rule_ids=("mongodb-uri-password",), hosts=(),
    request="connect to the server the URI names (its first host; TLS when the URI asks), hello, and authenticate "
            "(SCRAM-SHA-256/SCRAM-SHA-1); no query; mongodb+srv:// is not resolved",
    check=_mongodb, own_host=True, locate=uri_of, locate_missing=URI_MISSING)
