"""Offline checks of token formats that carry a checksum or a decodable structure.

A provider that puts a checksum in its tokens (GitHub, npm, Grafana, age) lets a scanner tell a
token the provider issued from a look-alike typed into a test or a README: a token whose checksum
does not verify was never issued. Other formats are structures with a fixed meaning (a JWT's
header is JSON naming its algorithm; a PEM key body is DER; a new-generation AWS access key id
holds its account number): a value that decodes that way is more likely real, one that claims
the structure (``eyJ`` = ``{"``) and does not decode is not what it looks like.

``CHECKS`` maps a rule id to its check; each check is a pure function of the value returning
``True`` (verifies), ``False`` (the format's checksum or structure is broken) or ``None`` (the
check has nothing to say about this value). :mod:`scanner.engine.confidence` turns verdicts into
confidence signals. Facts used, by format:

- GitHub ``ghp_``/``gho_``/``ghu_``/``ghs_``/``ghr_`` and npm ``npm_``: 4-character prefix, 30
  random base62 characters, then the CRC32 of those 30 characters in 6 base62 digits (alphabet
  ``0-9A-Za-z``, zero-padded) (GitHub blog, "Behind GitHub's new authentication token formats",
  2021; npm blog, "npm's new access token format", 2021). Fine-grained ``github_pat_`` tokens
  have no published checksum and are not checked.
- Grafana service account tokens ``glsa_<32>_<8 hex>``: the hex is the CRC32 (IEEE) of
  ``glsa_<32>``, its four bytes little-endian.
- age identities ``AGE-SECRET-KEY-1…``: Bech32 (BIP 173) with the human-readable part
  ``age-secret-key-``.
- JWT: the header and payload are base64url JSON objects; the header names its ``alg`` (RFC 7519,
  RFC 7515).
- AWS access key ids (``AKIA``/``ASIA``…): the 16 characters after the prefix are base32; in new
  generation ids (first bit set) the next 40 bits are the account number (at most 12 digits).
- PEM private keys: the base64 body is DER, which starts with a SEQUENCE (0x30); OpenSSH keys
  start with ``openssh-key-v1``.
- PyPI API tokens ``pypi-…``: base64url of a macaroon in the v2 binary format (version byte 2,
  sections of type-length-value fields ending in a zero byte, a 32-byte signature field last), as
  PyPI documents its tokens to be macaroons and libmacaroons specifies the v2 format.
- Sentry org tokens ``sntrys_<base64 JSON>_<secret>``, 1Password service account tokens
  ``ops_<base64 JSON>`` and Grafana Cloud tokens ``glc_<base64 JSON>``: the payload is JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from dataclasses import dataclass
from typing import Callable, Optional

from scanner.lazyregex import lazy

CHECKSUM, STRUCTURE = "checksum", "structure"

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Check:
    kind: str  # CHECKSUM (a provider's own check digits) or STRUCTURE (the value decodes)
    verify: Callable[[bytes], Optional[bool]]


def base62(n: int, width: int) -> str:
    """``n`` in base62 (``0-9A-Za-z``), left-padded with ``0`` to ``width`` digits."""
    digits = ""
    while n:
        n, r = divmod(n, 62)
        digits = BASE62[r] + digits
    return digits.rjust(width, "0")


def crc32_base62(value: bytes) -> Optional[bool]:
    """GitHub classic and npm tokens: ``pre_`` + 30 random + 6 base62 digits of their CRC32."""
    if len(value) != 40 or value[3:4] != b"_":
        return None
    body, digits = value[4:34], value[34:]
    return base62(zlib.crc32(body), 6).encode() == digits


def crc32_hex_le(value: bytes) -> Optional[bool]:
    """Grafana service account tokens: ``glsa_<32>_`` + CRC32 of ``glsa_<32>``, little-endian hex."""
    body, sep, digits = value.rpartition(b"_")
    if not sep or len(digits) != 8:
        return None
    return zlib.crc32(body).to_bytes(4, "little").hex().encode() == digits.lower()


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def bech32_polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i, g in enumerate(_BECH32_GEN):
            if (top >> i) & 1:
                chk ^= g
    return chk


def hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32(value: bytes) -> Optional[bool]:
    """A Bech32 string (BIP 173), in one case: its 6-character checksum verifies."""
    text = value.decode("ascii", "replace")
    if text.lower() != text and text.upper() != text:
        return None
    text = text.lower()
    hrp, sep, data = text.rpartition("1")
    if not sep or not hrp or len(data) < 6 or any(c not in _BECH32 for c in data):
        return None
    return bech32_polymod(hrp_expand(hrp) + [_BECH32.index(c) for c in data]) == 1


def b64decode(text: bytes) -> Optional[bytes]:
    """Standard or URL-safe base64, padding optional; None when it is not base64."""
    text = text.strip().rstrip(b"=").replace(b"-", b"+").replace(b"_", b"/")
    if len(text) % 4 == 1:
        return None
    try:
        return base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def json_object(raw: Optional[bytes]) -> Optional[dict]:
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def jwt_claims(value: bytes) -> Optional[tuple[dict, dict]]:
    """A compact JWT's header and payload, when both decode to JSON objects."""
    parts = value.split(b".")
    if len(parts) < 2:
        return None
    header, payload = json_object(b64decode(parts[0])), json_object(b64decode(parts[1]))
    if header is None or payload is None:
        return None
    return header, payload


def jwt(value: bytes) -> Optional[bool]:
    claims = jwt_claims(value)
    return claims is not None and isinstance(claims[0].get("alg"), str)


_ACCOUNT_MASK, MAX_ACCOUNT = 0x7FFFFFFFFF80, 999_999_999_999


def aws_account(value: bytes) -> Optional[int]:
    """The account number a new-generation AWS access key id encodes, else None."""
    if len(value) != 20:
        return None
    try:
        raw = base64.b32decode(value[4:])
    except (binascii.Error, ValueError):
        return None
    bits = int.from_bytes(raw[:6], "big")
    if not bits >> 47:  # old generation: the account is not in the id
        return None
    return (bits & _ACCOUNT_MASK) >> 7


def aws_key_id(value: bytes) -> Optional[bool]:
    """Positive evidence only: an old-generation id says nothing, and the alphabet is the rule's."""
    account = aws_account(value)
    return True if account is not None and account <= MAX_ACCOUNT else None


_PEM_BODY = lazy(rb"-----BEGIN[^-]*-----(.*?)(?:-----END|$)", re.S)
_PEM_HEADER = lazy(rb"^[A-Za-z-]+:.*$", re.M)  # Proc-Type:, DEK-Info: in encrypted PKCS#1


def pem_der(value: bytes) -> Optional[bool]:
    """A PEM private key whose body decodes to DER (or an OpenSSH key blob): positive evidence
    only (docs elide bodies, and a fixture key in a test decodes like a real one)."""
    m = _PEM_BODY.search(value)
    if m is None:
        return None
    body = b"".join(_PEM_HEADER.sub(b"", m.group(1)).split())
    raw = b64decode(body) if body else None
    if raw is None:
        return None
    return True if raw[:1] == b"\x30" or raw.startswith(b"openssh-key-v1\0") else None


def json_payload(prefix: bytes, strict: bool) -> Callable[[bytes], Optional[bool]]:
    """Tokens ``prefix`` + base64(JSON) (+ ``_secret``): the payload decodes to a JSON object.
    ``strict``: a payload that starts like JSON (``eyJ``) and does not decode is broken."""

    def verify(value: bytes) -> Optional[bool]:
        if not value.startswith(prefix):
            return None
        payload = value[len(prefix) :]
        if b"_" in payload:
            payload = payload.rsplit(b"_", 1)[0]
        if json_object(b64decode(payload)) is not None:
            return True
        return False if strict and payload.startswith(b"eyJ") else None

    return verify


def varint(raw: bytes, pos: int) -> tuple[int, int]:
    """An unsigned LEB128 integer at ``pos``: (value, position after it); ValueError past the end."""
    n = shift = 0
    while True:
        if pos >= len(raw) or shift > 28:
            raise ValueError("truncated varint")
        byte = raw[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return n, pos


MACAROON_EOS, MACAROON_IDENTIFIER, MACAROON_SIGNATURE = 0, 2, 6


def macaroon_section(raw: bytes, pos: int) -> tuple[set[int], int]:
    """The field types of one macaroon v2 section (fields up to its end-of-section byte), and the
    position after it."""
    types: set[int] = set()
    while True:
        kind, pos = varint(raw, pos)
        if kind == MACAROON_EOS:
            return types, pos
        size, pos = varint(raw, pos)
        if pos + size > len(raw):
            raise ValueError("field past the end")
        types.add(kind)
        pos += size


def macaroon_v2(raw: bytes) -> bool:
    """A macaroon in the v2 binary format (libmacaroons): version byte 2; a header section with an
    identifier; caveat sections; an empty section; then a 32-byte signature ending the data."""
    if raw[:1] != b"\x02":
        return False
    try:
        header, pos = macaroon_section(raw, 1)
        if MACAROON_IDENTIFIER not in header:
            return False
        while raw[pos : pos + 1] != b"\x00":  # caveats, until the empty section
            _, pos = macaroon_section(raw, pos)
        kind, pos = varint(raw, pos + 1)
        size, pos = varint(raw, pos)
    except ValueError:
        return False
    return kind == MACAROON_SIGNATURE and size == 32 and pos + size == len(raw)


def pypi_macaroon(value: bytes) -> Optional[bool]:
    """PyPI API tokens: ``pypi-`` + base64url of a v2 macaroon (the rule's prefix is its first
    bytes: version 2 and the location ``pypi.org`` or ``test.pypi.org``)."""
    if not value.startswith(b"pypi-"):
        return None
    raw = b64decode(value[5:])
    return raw is not None and macaroon_v2(raw)


GITHUB_CRC = Check(CHECKSUM, crc32_base62)

CHECKS: dict[str, Check] = {
    "github-pat-classic": GITHUB_CRC,
    "github-oauth-token": GITHUB_CRC,
    "github-app-user-token": GITHUB_CRC,
    "github-app-installation-token": GITHUB_CRC,
    "github-refresh-token": GITHUB_CRC,
    "npm-access-token": GITHUB_CRC,
    "grafana-service-account-token": Check(CHECKSUM, crc32_hex_le),
    "age-secret-key": Check(CHECKSUM, bech32),
    "jwt": Check(STRUCTURE, jwt),
    "aws-access-key-id": Check(STRUCTURE, aws_key_id),
    "private-key-rsa": Check(STRUCTURE, pem_der),
    "private-key-dsa": Check(STRUCTURE, pem_der),
    "private-key-ec": Check(STRUCTURE, pem_der),
    "private-key-openssh": Check(STRUCTURE, pem_der),
    "private-key-pkcs8": Check(STRUCTURE, pem_der),
    "private-key-pkcs8-encrypted": Check(STRUCTURE, pem_der),
    "sentry-org-token": Check(STRUCTURE, json_payload(b"sntrys_", strict=True)),
    "1password-service-account-token": Check(STRUCTURE, json_payload(b"ops_", strict=True)),
    "grafana-cloud-api-token": Check(STRUCTURE, json_payload(b"glc_", strict=True)),
    "pypi-upload-token": Check(STRUCTURE, pypi_macaroon),
}


def userinfo_password(value: bytes) -> Optional[bytes]:
    """``user:password`` (URL userinfo): the password."""
    user, sep, password = value.partition(b":")
    return password if sep and password else None


def basic_password(value: bytes) -> Optional[bytes]:
    """HTTP Basic credentials, base64 of ``user:password``: the password."""
    raw = b64decode(value)
    if raw is None or not raw.isascii() or not raw.decode("ascii").isprintable():
        return None
    return userinfo_password(raw)


# Rules whose value holds, or encodes, the part a person chose (a password beside a user name).
DECODERS: dict[str, Callable[[bytes], Optional[bytes]]] = {
    "url-credentials": userinfo_password,
    "http-auth-basic": basic_password,
}


def decoded(rule_id: str, value: bytes) -> Optional[bytes]:
    decoder = DECODERS.get(rule_id)
    return decoder(value) if decoder else None


def jwt_io_sample(value: bytes) -> bool:
    """jwt.io's default token: its claims (``sub`` 1234567890, ``name`` John Doe) under any
    signature, pasted into countless tests and docs."""
    claims = jwt_claims(value)
    return claims is not None and claims[1].get("sub") == "1234567890" and claims[1].get("name") == "John Doe"


# Vendors' documented example values, recognised by structure rather than listed verbatim
# (the exact ones are dropped earlier by the known_example filter).
DOCUMENTED_EXAMPLES: dict[str, Callable[[bytes], bool]] = {
    "jwt": jwt_io_sample,
}


def documented_example(rule_id: str, value: bytes, generic: bool = False) -> bool:
    check = DOCUMENTED_EXAMPLES.get(rule_id)
    if check is None and check_for(rule_id, value, generic) is JWT_CHECK:
        check = jwt_io_sample
    return bool(check and check(value))


# A compact JWT: header and payload both start as base64 of '{"'. Provider rules whose tokens are
# JWTs (keyword rules for Supabase-, Argo CD-, Turso-style tokens) get the JWT check by this shape.
_JWT_SHAPE = lazy(rb"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\Z")
JWT_CHECK = Check(STRUCTURE, jwt)


def check_for(rule_id: str, value: bytes, generic: bool = False) -> Optional[Check]:
    """The rule's registered check; else, for a provider rule whose value is a JWT, the JWT check
    (a generic rule's value only looks like one by chance)."""
    check = CHECKS.get(rule_id)
    if check is None and not generic and _JWT_SHAPE.match(value):
        return JWT_CHECK
    return check


def verdict(rule_id: str, value: bytes, generic: bool = False) -> Optional[tuple[str, bool]]:
    """(kind, verifies) for a value of a rule with a check (see :func:`check_for`), else None."""
    check = check_for(rule_id, value, generic)
    if check is None:
        return None
    ok = check.verify(value)
    return None if ok is None else (check.kind, ok)
