"""Kubernetes ``Secret`` manifests, YAML or JSON (``kubectl get secret -o json``, a ``List`` of
items): ``data`` values are base64-decoded and judged decoded (the match points at the encoded
text, which is what sits in the file); ``stringData`` as written.

Every key of a Secret holds secret material by intent, so the key need not look like a
credential; only names that are plainly not secrets (username, host, port, ...) are skipped, and
public certificates are not reported.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Iterator

from scanner.detectors._common import URI_RULE, decode
from scanner.detectors.names import JSON_EXT, wants_kubernetes as wants
from scanner.detectors.keys import is_literal, is_reference, tokens, uri_passwords
from scanner.detectors.yamlish import Entry, parse

DATA_RULE = "kubernetes-secret-data"
STRING_RULE = "kubernetes-secret-stringdata"
_NOT_SECRET = frozenset(
    {"username", "user", "host", "hostname", "port", "database", "db", "dbname", "namespace", "email", "region",
     "name", "url", "endpoint", "server", "address", "addr", "bucket", "login", "schema", "ca", "crt", "cert"}
)


def secret_docs(entries: list[Entry]) -> set[int]:
    return {e.doc for e in entries if e.path == () and e.key == "kind" and e.value.strip("\"' ").lower() == "secret"}


def claims(e: Entry, docs: set[int]) -> bool:
    return e.doc in docs and len(e.path) == 1 and e.path[0] in ("data", "stringData")


def _skip_key(key: str) -> bool:
    toks = tokens(key)
    return bool(toks) and (toks[-1] in _NOT_SECRET or "".join(toks) in _NOT_SECRET)


def _decoded_ok(value: str, key: str) -> bool:
    v = value.strip()
    if not v or "-----BEGIN CERTIFICATE-----" in v or "-----BEGIN PUBLIC KEY-----" in v:
        return False
    if v.startswith("-----BEGIN") or v.startswith("{"):
        return True  # private keys, docker config JSON
    return is_literal(v) and not is_reference(v)


def detect(chunk, em) -> Iterator:
    if not wants(chunk.path, chunk.data):
        return
    text = decode(chunk.data)
    if chunk.path.lower().endswith(JSON_EXT):
        yield from _json(text, em)
        return
    entries = parse(text)
    docs = secret_docs(entries)
    for e in entries:
        if not claims(e, docs) or not e.key or e.tag or _skip_key(e.key):
            continue
        yield from _judge(em, text, e.path[0], e.key, e.value, e.start, e.end, e.block)


def _judge(em, text: str, section: str, key: str, value: str, start: int, end: int, block: bool = False) -> Iterator:
    """One ``data``/``stringData`` value (``value`` as written, at ``text[start:end]``)."""
    if section == "stringData":
        spans = uri_passwords(value) if not block else []
        if spans:
            for s, t in spans:
                m = em.match(URI_RULE, text, start + s, start + t, key)
                if m:
                    yield m
        elif _decoded_ok(value, key):
            m = em.match(STRING_RULE, text, start, end, key)
            if m:
                yield m
        return
    raw = re.sub(r"\s+", "", value, flags=re.ASCII)
    try:
        plain = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return
    try:
        decoded = plain.decode("utf-8")
    except UnicodeDecodeError:
        decoded = ""  # binary material (a keystore): secret by intent if long enough
        if len(plain) < 16:
            return
    if decoded and not _decoded_ok(decoded, key):
        return
    m = em.match(DATA_RULE, text, start, end, key)
    if m:
        yield m


def _json(text: str, em) -> Iterator:
    for section, key, start, end in json_values(text):
        yield from _judge(em, text, section, key, text[start:end], start, end)


def json_values(text: str) -> list[tuple[str, str, int, int]]:
    """(section, key, start, end) of every string in the ``data``/``stringData`` maps of the
    Secrets in a JSON document (a Secret, a ``List``, anything nesting them), as written."""
    try:
        doc, end = _node(text, 0)
    except (ValueError, IndexError, RecursionError):
        return []
    if text[end:].strip(" \t\n\r"):
        return []
    out = []
    for obj in _objects(doc):
        kind = obj.get("kind")
        if not kind or kind[0] != "Secret":
            continue
        for section in ("data", "stringData"):
            values = obj.get(section, (None,))[0]
            if not isinstance(values, dict):
                continue
            for key, (value, (start, stop)) in values.items():
                if isinstance(value, str) and not _skip_key(key):
                    out.append((section, key, start + 1, stop - 1))  # inside the quotes
    return sorted(out, key=lambda v: v[2])


_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip_blanks(text: str, i: int) -> int:
    m = _WS.match(text, i)  # (it matches the empty string: there is always a match)
    return m.end() if m else i


def _node(text: str, i: int):
    """A JSON value at ``text[i:]`` -> (value, end). Objects become ``{key: (value, (start, end))}``
    and arrays lists of the same pairs, so that every value keeps where it was written."""
    i = _skip_blanks(text, i)
    c = text[i]
    if c not in "{[":
        return _DECODER.raw_decode(text, i)
    close = "}" if c == "{" else "]"
    items: list = []
    i = _skip_blanks(text, i + 1)
    if text[i] == close:
        return ({} if c == "{" else []), i + 1
    while True:
        key = None
        if c == "{":
            if text[i] != '"':
                raise ValueError("object key expected")
            key, i = _DECODER.raw_decode(text, i)
            i = _skip_blanks(text, i)
            if text[i] != ":":
                raise ValueError("':' expected")
            i += 1
        start = _skip_blanks(text, i)
        value, i = _node(text, start)
        items.append((key, (value, (start, i))))
        i = _skip_blanks(text, i)
        if text[i] == ",":
            i = _skip_blanks(text, i + 1)
            continue
        if text[i] != close:
            raise ValueError(f"'{close}' expected")
        return (dict(items) if c == "{" else [v for _, v in items]), i + 1


def _objects(node) -> Iterator[dict]:
    """Every object of a document parsed by :func:`_node`, outermost first."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(value for value, _ in reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(value for value, _ in reversed(node))
