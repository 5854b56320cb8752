"""Password files: ``.htpasswd``, ``.htdigest``, ``shadow``, ``gshadow``, BSD ``master.passwd``.

Each line is ``user:hash[:...]``. Hashes with a scheme prefix (``$2y$``, ``$6$``, ``$apr1$``,
``{SHA}``) are found anywhere by the password-hash rules (rules/hashes.yaml); this detector adds
what only the file's name tells apart from other ``a:b`` text: traditional DES crypt (13
characters, ``htpasswd -d`` and old shadow files), htdigest's MD5 of ``user:realm:password``, and
the plain-text passwords ``htpasswd -p`` writes.
"""

from __future__ import annotations

import re
from typing import Iterator

from scanner.detectors._common import decode
from scanner.detectors.keys import is_literal
from scanner.detectors.names import password_file_kind as kind

RULE = "password-file-hash"
# user:field (user names: no blanks or colons); field runs to the next colon or the line's end.
_LINE = re.compile(r"(?m)^(?P<user>[^\s:#][^\s:]{0,63}):(?P<field>[^:\r\n]*)(?P<rest>:[^\r\n]*)?")
_DES = re.compile(r"[./0-9A-Za-z]{13}")
_HTDIGEST = re.compile(r"[^:\r\n]{0,128}:(?P<hash>[0-9a-f]{32})")
# Hashes with a scheme prefix (the hash rules report them) and the markers of a locked or
# password-less account (*, !, !!, x, !*, *LK*, NP).
_PREFIXED = re.compile(r"^!?(?:\$|\{)")
_NO_PASSWORD = re.compile(r"^(?:[*!x]+|\*LK\*.*|NP|!!?\*?)?$")


def detect(chunk, em) -> Iterator:
    k = kind(chunk.path)
    if not k:
        return
    text = decode(chunk.data)
    for m in _LINE.finditer(text):
        if k == "htdigest":
            d = _HTDIGEST.fullmatch(text, m.start("field"), m.end())
            if d:
                yield from _emit(em, text, *d.span("hash"))
            continue
        field = m.group("field")
        s, e = m.span("field")
        if field.startswith("!") and not _PREFIXED.match(field):
            s += len(field) - len(field.lstrip("!"))  # a locked account keeps its hash after "!"
            field = text[s:e]
        if _NO_PASSWORD.match(field) or _PREFIXED.match(field):
            continue
        if _DES.fullmatch(field) or k == "htpasswd" and m.group("rest") is None and is_literal(field):
            yield from _emit(em, text, s, e)


def _emit(em, text: str, start: int, end: int) -> Iterator:
    m = em.match(RULE, text, start, end, None)
    if m:
        yield m
