"""Config files: YAML, JSON, INI / ``.cfg`` / ``.conf``, TOML, ``.properties``, XML, and the
dotfiles that hold registry credentials (``.npmrc``, ``.pypirc``, ``.netrc``, ``.pgpass``).

Credential-like keys with literal values, and passwords embedded in connection URIs or
connection strings under any key. ``name``/``value`` pairs (Kubernetes ``env``, ECS task
definitions, CloudFormation) are judged as ``name = value``. Parsing is line-based and tolerant:
a malformed file never stops a scan.
"""

from __future__ import annotations

import re
from typing import Iterator

from scanner.detectors import compose, kubernetes
from scanner.detectors.names import basename
from scanner.detectors.names import config_kind as kind
from scanner.detectors._common import assignment, decode, is_template_name
from scanner.detectors.keys import SPACE
from scanner.detectors.yamlish import parse

RULE = "config-credential"
NETRC_RULE = "netrc-password"
PGPASS_RULE = "pgpass-password"
# Cheap prefilter: a file without any of these cannot produce a finding here (a .pgpass line
# names no field: it is read whatever it holds).
_VOCAB = re.compile(rb"(?i)pass|pwd|secret|token|key|auth|cred|://|;\s*password")
# netrc's "password X" token (and fetchmail's password/passwd/pass), the value bare or quoted.
_NETRC_PASSWORD = re.compile(
    r"""(?<![\w-])(?:password|passwd|pass)[ \t\r\n]+(?:"(?P<dq>(?:[^"\\\n]|\\.)*)"|'(?P<sq>[^'\n]*)'|(?P<bare>[^\s"']\S*))""",
    re.ASCII,
)
# .pgpass: hostname:port:database:username:password, ":" and "\\" escaped with a backslash.
_PGPASS = re.compile(r"(?m)^(?![ \t]*#)(?:(?:[^:\\\n\r]|\\.)*:){4}(?P<pw>(?:[^\\\n\r]|\\.)+)", re.ASCII)
_BASE64_ATTR = re.compile(r"""\bencoding\s*=\s*["']base64["']""", re.I | re.ASCII)


def detect(chunk, em) -> Iterator:
    k = kind(chunk.path)
    if not k or k != "pgpass" and not _VOCAB.search(chunk.data):
        return
    text = decode(chunk.data)
    strict = is_template_name(basename(chunk.path))
    if k == "yaml":
        yield from _yaml(chunk, text, em, strict)
    elif k == "json":
        claimed = set()
        if kubernetes.wants(chunk.path, chunk.data):  # the Kubernetes detector judges those
            claimed = {(start, end) for _, _, start, end in kubernetes.json_values(text)}
        yield from _json(text, em, strict, claimed)
    elif k == "xml":
        yield from _xml(text, em, strict)
    elif k == "netrc":
        for m in _NETRC_PASSWORD.finditer(text):
            group = "dq" if m.group("dq") is not None else "sq" if m.group("sq") is not None else "bare"
            yield from assignment(em, NETRC_RULE, text, "password", *m.span(group), strict)
    elif k == "pgpass":
        for m in _PGPASS.finditer(text):
            value = m.group("pw").rstrip(SPACE)
            yield from assignment(em, PGPASS_RULE, text, "password", m.start("pw"), m.start("pw") + len(value), strict)
    else:
        yield from _ini(text, em, strict)


def _yaml(chunk, text: str, em, strict: bool) -> Iterator:
    entries = parse(text)
    docs = kubernetes.secret_docs(entries) if kubernetes.wants(chunk.path, chunk.data) else set()
    is_compose = compose.wants(chunk.path)
    names: dict = {}
    for e in entries:
        if e.item and e.key.lower() in ("name", "key", "parameterkey", "variable") and e.value:
            names.setdefault(e.item, e.value)
    for e in entries:
        if (docs and kubernetes.claims(e, docs)) or (is_compose and compose.claims(e)):
            continue
        if e.block or (e.tag and e.tag not in ("!!str", "!str")):
            continue
        if any(p.lower().startswith(("encrypted", "sops")) for p in e.path):
            continue  # SealedSecret / SOPS ciphertext
        key = e.key
        if key.lower() in ("value", "parametervalue", "defaultvalue") and e.item in names:
            key = names[e.item]
        if not key:
            # A "KEY=value" list item (e.g. a container's env list).
            if "=" not in e.value:
                yield from assignment(em, RULE, text, None, e.start, e.end, strict)
                continue
            k, _, _ = e.value.partition("=")
            if not re.fullmatch(r"[A-Za-z_][\w.-]*", k.strip(SPACE), re.ASCII):
                continue
            yield from assignment(em, RULE, text, k.strip(SPACE), e.start + len(k) + 1, e.end, strict)
            continue
        yield from assignment(em, RULE, text, key, e.start, e.end, strict)


_JSON_PAIR = re.compile(r'"(?P<key>(?:[^"\\\n]|\\.){1,200})"\s*:\s*"(?P<val>(?:[^"\\\n]|\\.)*)"', re.ASCII)


def _json(text: str, em, strict: bool, claimed: set[tuple[int, int]]) -> Iterator:
    last_name = None  # (value, end offset) of the latest "name"/"key" string in the object
    for m in _JSON_PAIR.finditer(text):
        key = m.group("key")
        s, e = m.span("val")
        if (s, e) in claimed:
            continue
        low = key.lower()
        if low in ("name", "key", "parameterkey"):
            last_name = (m.group("val"), e)
            continue
        if low in ("value", "parametervalue") and last_name and "}" not in text[last_name[1] : m.start()]:
            key = last_name[0]
        yield from assignment(em, RULE, text, key, s, e, strict)


_INI = re.compile(
    r"(?m)^[ \t]*(?P<key>(?://[^\s=]*:)?[A-Za-z_$][\w.\-$\[\]]*(?:[ \t]+[A-Za-z_][\w.\-]*)?)[ \t]*"
    r"(?P<sep>=|:(?=[ \t])|[ \t])[ \t]*(?P<val>[^\n]*)",
    re.ASCII,
)


def _ini(text: str, em, strict: bool) -> Iterator:
    for m in _INI.finditer(text):
        key = m.group("key").strip(SPACE)
        if m.group("sep") in " \t" and " " in key:
            continue
        if key.startswith("//"):
            key = key.rsplit(":", 1)[-1]  # //registry.npmjs.org/:_authToken
        raw = m.group("val").rstrip("\r")
        s = m.start("val")
        if raw and raw[0] in "\"'":
            close = raw.find(raw[0], 1)
            if close < 0:
                continue
            start, end = s + 1, s + close
        else:
            cut = re.search(r"[ \t][#;]", raw)
            value = (raw[: cut.start()] if cut else raw).rstrip(SPACE)
            if value.endswith(";") and not value.endswith("\\;"):
                value = value[:-1].rstrip(SPACE)  # nginx-style "directive value;"
            start, end = s, s + len(value)
        yield from assignment(em, RULE, text, key, start, end, strict)


# An element with a one-line text value; its attributes are looked at apart (one pass over the
# text: a pattern that searched the attributes for key="..." lazily scanned the rest of the tag
# again for every such attribute, the square of the tag's length).
_XML_ELEMENT = re.compile(r"<(?P<tag>[A-Za-z_][\w:.-]*)(?P<attrs>\s[^<>]*)?>(?P<val>[^<>\n]{1,500})</(?P=tag)\s*>", re.ASCII)
_XML_KV = re.compile(
    r"""\b(?:key|name)\s*=\s*"(?P<key>[^"]+)"\s+value\s*=\s*"(?P<val>[^"]*)\"""", re.I | re.ASCII
)
_XML_NAME_ATTR = re.compile(r"""\b(?:key|name)\s*=\s*"(?P<key>[^"]+)\"""", re.ASCII)
# An attribute starts where a name does (a search from inside a long name would scan the rest of
# it again from every character).
_XML_ATTR = re.compile(r"""(?<![\w:.-])[\d:.-]*(?P<key>[A-Za-z_][\w:.-]*)\s*=\s*"(?P<val>[^"<>]*)\"""", re.ASCII)


def _xml(text: str, em, strict: bool) -> Iterator:
    seen: set[int] = set()
    for m in _XML_KV.finditer(text):
        seen.add(m.start("val"))
        yield from assignment(em, RULE, text, m.group("key").split(":")[-1], *m.span("val"), strict)
    for m in _XML_ELEMENT.finditer(text):
        s, e = m.span("val")
        if s in seen:
            continue
        seen.add(s)
        attrs = m.group("attrs") or ""
        named = _XML_NAME_ATTR.search(attrs)
        key = named.group("key") if named else m.group("tag")
        # FileZilla's sitemanager.xml / recentservers.xml: <Pass encoding="base64">: the password
        # it encodes is judged (a weak one counts, a placeholder does not); the encoded span is reported.
        encoding = "base64" if _BASE64_ATTR.search(attrs) else None
        yield from assignment(em, RULE, text, key.split(":")[-1], s, e, strict, encoding=encoding)
    for m in _XML_ATTR.finditer(text):
        s, e = m.span("val")
        key = m.group("key")
        if s in seen or key.lower() in ("value", "key", "name"):
            continue
        if key.lower() == "connectionstring":
            nm = re.search(r'\bname\s*=\s*"([^"]+)"[^<>]*$', text[max(0, s - 400) : s], re.ASCII)
            key = nm.group(1) if nm else key
        yield from assignment(em, RULE, text, key, s, e, strict, uri_key=key)
