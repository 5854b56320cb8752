"""Kubernetes ``Secret`` manifests: ``data:`` values are base64-decoded and judged decoded (the
match points at the encoded text, which is what sits in the file); ``stringData:`` as written.

Every key of a Secret holds secret material by intent, so the key need not look like a
credential; only names that are plainly not secrets (username, host, port, ...) are skipped, and
public certificates are not reported.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Iterator

from scanner.detectors._common import URI_RULE, decode
from scanner.detectors.names import wants_kubernetes as wants
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
    entries = parse(text)
    docs = secret_docs(entries)
    for e in entries:
        if not claims(e, docs) or not e.key or e.tag or _skip_key(e.key):
            continue
        if e.path[0] == "stringData":
            spans = uri_passwords(e.value) if not e.block else []
            if spans:
                for s, t in spans:
                    m = em.match(URI_RULE, text, e.start + s, e.start + t, e.key)
                    if m:
                        yield m
            elif _decoded_ok(e.value, e.key):
                m = em.match(STRING_RULE, text, e.start, e.end, e.key)
                if m:
                    yield m
            continue
        raw = re.sub(r"\s+", "", e.value)
        try:
            plain = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            continue
        try:
            decoded = plain.decode("utf-8")
        except UnicodeDecodeError:
            decoded = ""  # binary material (a keystore): secret by intent if long enough
            if len(plain) < 16:
                continue
        if decoded and not _decoded_ok(decoded, e.key):
            continue
        m = em.match(DATA_RULE, text, e.start, e.end, e.key)
        if m:
            yield m
