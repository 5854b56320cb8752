"""Fake secrets made at run time (random each run), so no live-looking key sits in the sources."""

from __future__ import annotations

import secrets
import string
import zlib
from typing import Callable, Optional

_ALNUM = string.ascii_letters + string.digits
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _tok(prefix: str, alphabet: str, n: int) -> str:
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def with_crc32(prefix: str, body: str) -> str:
    """``prefix`` + ``body`` (30 characters) + their CRC32 in 6 base62 digits: the format of
    GitHub's ghp_/gho_/ghu_/ghs_/ghr_ and npm's npm_ tokens, whose checksum a token made up of
    random characters fails (and leakstop then reports it at low confidence only)."""
    n, digits = zlib.crc32(body.encode()), ""
    while n:
        n, r = divmod(n, 62)
        digits = _BASE62[r] + digits
    return prefix + body + digits.rjust(6, "0")


def checksummed(prefix: str = "ghp_", choice: Optional[Callable[[str], str]] = None) -> str:
    """A random token of a checksummed format, its checksum valid (``choice``: a seeded
    ``random.Random().choice`` for reproducible values)."""
    pick = choice or secrets.choice
    return with_crc32(prefix, "".join(pick(_ALNUM) for _ in range(30)))


def github_token() -> str:
    return checksummed("ghp_")


def aws_key_id() -> str:
    """A new-generation access key id: it encodes a random 12-digit account as AWS's ids do, so
    its structure verifies and it is reported at high confidence in every run; never, by chance,
    a run of one character or a placeholder word that a filter would drop (as 1 in 2,000 random
    ids, and a random id's confidence, were: flaky tests; "TODO" or "DUMMY" spelled by chance
    dropped 1 id in ~25,000 more, a test of 429 ids failing about once in 60 runs)."""
    import base64
    import re

    while True:
        account = 10**11 + secrets.randbelow(9 * 10**11)
        bits = (1 << 47) | (account << 7) | secrets.randbelow(128)
        key = "AKIA" + base64.b32encode(bits.to_bytes(6, "big") + secrets.token_bytes(4)).decode()
        if not re.search(r"(.)\1\1|XXX|EXAMPLE|TEST|FAKE|TODO|DUMMY|FIXME|SAMPLE|NOTREAL|REDACTED|CHANGEME|REPLACEME", key):
            return key


def pypi_token(location: str = "pypi.org") -> str:
    """A PyPI API token: ``pypi-`` + base64url of a v2 macaroon (version byte 2; a header section
    with location and identifier; one caveat section; an empty section; a 32-byte signature),
    written from the libmacaroons format description, independently of the code under test."""
    import base64
    import json

    def field(kind: int, data: bytes) -> bytes:
        return bytes([kind, len(data)]) + data  # each under 128 bytes: one-byte varints

    caveat = json.dumps({"version": 1, "permissions": "user"}).encode()
    raw = (b"\x02" + field(1, location.encode()) + field(2, secrets.token_hex(16).encode()) + b"\x00"
           + field(2, caveat) + b"\x00" + b"\x00" + field(6, secrets.token_bytes(32)))
    return "pypi-" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
