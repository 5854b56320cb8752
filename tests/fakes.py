"""Fake secrets made at run time (random each run), so no live-looking key sits in the sources."""

from __future__ import annotations

import secrets
import string

_ALNUM = string.ascii_letters + string.digits
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _tok(prefix: str, alphabet: str, n: int) -> str:
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


def github_token() -> str:
    return _tok("ghp_", _ALNUM, 36)


def aws_key_id() -> str:
    return _tok("AKIA", _B32, 16)
