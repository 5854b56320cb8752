"""Small helpers shared by the detector modules: file-name tests and the key/value emitter."""

from __future__ import annotations

import re
from typing import Iterator, Optional

from scanner.detectors.keys import decoded_text, judge, uri_passwords

URI_RULE = "connection-uri-password"
# Example and template files: values there are reported only when they look real.
_TEMPLATE_NAME = re.compile(r"(?i)(^|[._-])(example|examples|sample|samples|template|tmpl|tpl|dist)([._-]|$)")


def is_template_name(name: str) -> bool:
    return bool(_TEMPLATE_NAME.search(name))


def decode(data: bytes) -> str:
    # Latin-1 keeps one character per byte, so string offsets are the engine's byte offsets.
    return data.decode("latin-1")


def assignment(
    em, rule_id: str, text: str, key: Optional[str], start: int, end: int, strict: bool = False,
    uri_key: Optional[str] = None, encoding: Optional[str] = None,
) -> Iterator:
    """Matches for ``key = text[start:end]``: embedded URI/connection-string passwords first (the
    precise span), else the whole value when the key is credential-like and the value a literal.
    ``encoding="base64"``: the value is judged by the text it encodes (nothing when it encodes none)."""
    value = text[start:end]
    if encoding == "base64":
        plain = decoded_text(value)
        if plain is not None and key and judge(plain, key, strict):
            m = em.match(rule_id, text, start, end, key)
            if m:
                yield m
        return
    spans = uri_passwords(value)
    if spans:
        for s, e in spans:
            pw = value[s:e]
            if strict and not _strict_ok(pw, key or ""):
                continue
            m = em.match(URI_RULE, text, start + s, start + e, uri_key or key)
            if m:
                yield m
        return
    if key and judge(value, key, strict):
        m = em.match(rule_id, text, start, end, key)
        if m:
            yield m


def _strict_ok(value: str, key: str) -> bool:
    from scanner.detectors.keys import looks_generated

    return looks_generated(value)
