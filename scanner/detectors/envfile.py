"""Env files: ``.env``, ``.env.*``, ``*.env``.

``KEY=value`` and ``export KEY=value``; unquoted values end at an inline `` #`` comment; quoted
values may span lines. In ``.env.example`` / ``.sample`` / ``.template`` (and other template
names) a value is reported only when it looks real.
"""

from __future__ import annotations

import re
from typing import Iterator

from scanner.detectors.names import basename
from scanner.detectors.names import wants_envfile as wants
from scanner.detectors._common import assignment, decode, is_template_name
from scanner.detectors.keys import SPACE
from scanner.detectors.yamlish import _closing_quote

RULE = "env-file-credential"
_LINE = re.compile(r"(?m)^[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*")


def detect(chunk, em) -> Iterator:
    if not wants(chunk.path):
        return
    text = decode(chunk.data)
    strict = is_template_name(basename(chunk.path).lower())
    yield from parse_env(text, em, RULE, strict)


def parse_env(text: str, em, rule_id: str, strict: bool = False) -> Iterator:
    pos = 0
    n = len(text)
    while pos < n:
        m = _LINE.search(text, pos)
        if m is None:
            return
        key = m.group("key")
        vstart = m.end()
        eol = text.find("\n", vstart)
        eol = n if eol < 0 else eol
        pos = eol + 1
        if vstart >= n or text[vstart] in "\r\n":
            continue
        q = text[vstart]
        if q in "\"'":
            close = _closing_quote(text, vstart + 1, q)
            if close < 0:
                continue
            start, end = vstart + 1, close
            nl = text.find("\n", close)
            pos = n if nl < 0 else nl + 1  # a multi-line value: continue after it
        else:
            line = text[vstart:eol].rstrip("\r")
            cut = re.search(r"[ \t]#", line)
            value = (line[: cut.start()] if cut else line).rstrip(SPACE)
            start, end = vstart, vstart + len(value)
        yield from assignment(em, rule_id, text, key, start, end, strict)
