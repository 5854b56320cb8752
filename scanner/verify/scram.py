"""The client side of SCRAM (RFC 5802; SHA-256 per RFC 7677), shared by the PostgreSQL and MongoDB
verifiers: the password never crosses the wire, only a proof computed from it and the server's
salt and nonce."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import stringprep
import unicodedata

from scanner.verify.base import Unverifiable

MAX_ITERATIONS = 1_000_000  # servers use 4096-15000; a server asking for more burns our CPU, not theirs


def client_first(user: str = "") -> tuple[str, str]:
    """(client-first-message-bare, our nonce); the GS2 header ``n,,`` goes before the bare message."""
    nonce = base64.b64encode(secrets.token_bytes(18)).decode()
    name = user.replace("=", "=3D").replace(",", "=2C")
    return f"n={name},r={nonce}", nonce


def client_final(password: bytes, first_bare: str, server_first: str, nonce: str,
                 digest: str = "sha256") -> tuple[str, str]:
    """(client-final-message, the server signature a server that knows the password answers)."""
    attrs = dict(a.split("=", 1) for a in server_first.split(",") if "=" in a)
    if not attrs.get("r", "").startswith(nonce) or "s" not in attrs or not attrs.get("i", "").isdigit():
        raise Unverifiable("the server's SCRAM challenge is malformed")
    if int(attrs["i"]) > MAX_ITERATIONS:
        raise Unverifiable(f"the server asks for {attrs['i']} SCRAM iterations")
    salted = hashlib.pbkdf2_hmac(digest, password, base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    final_bare = f"c=biws,r={attrs['r']}"
    auth = f"{first_bare},{server_first},{final_bare}".encode()
    signature = hmac.new(hashlib.new(digest, client_key).digest(), auth, digest).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    server_key = hmac.new(salted, b"Server Key", digest).digest()
    expected = base64.b64encode(hmac.new(server_key, auth, digest).digest()).decode()
    return f"{final_bare},p={base64.b64encode(proof).decode()}", expected


def saslprep(password: str) -> str:
    """RFC 4013 (what SCRAM-SHA-256 servers apply to a stored password): non-ASCII spaces become
    spaces, characters mapped to nothing go, NFKC; a prohibited character cannot be sent."""
    if password.isascii() and password.isprintable():
        return password
    mapped = "".join(" " if stringprep.in_table_c12(c) else c for c in password if not stringprep.in_table_b1(c))
    out = unicodedata.normalize("NFKC", mapped)
    prohibited = (stringprep.in_table_c12, stringprep.in_table_c21_c22, stringprep.in_table_c3, stringprep.in_table_c4,
                  stringprep.in_table_c5, stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8,
                  stringprep.in_table_c9)
    if any(test(c) for c in out for test in prohibited):
        raise Unverifiable("the password holds a character SASLprep prohibits")
    return out
