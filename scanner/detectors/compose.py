"""Compose files: ``services.*.environment`` (a map or a ``KEY=value`` list) and
``services.*.build.args``; other values go through the generic config judgement."""

from __future__ import annotations

from typing import Iterator

from scanner.detectors.names import basename
from scanner.detectors.names import wants_compose as wants
from scanner.detectors._common import assignment, decode, is_template_name
from scanner.detectors.keys import SPACE
from scanner.detectors.yamlish import Entry, parse

RULE = "compose-environment-credential"


def claims(e: Entry) -> bool:
    """Entries this detector judges (the config detector leaves them alone)."""
    p = e.path
    return len(p) >= 3 and p[0] == "services" and (p[2:] == ("environment",) or p[2:] == ("build", "args"))


def detect(chunk, em) -> Iterator:
    if not wants(chunk.path):
        return
    text = decode(chunk.data)
    strict = is_template_name(basename(chunk.path))
    for e in parse(text):
        if not claims(e) or e.tag or e.block:
            continue
        if e.key:
            yield from assignment(em, RULE, text, e.key, e.start, e.end, strict)
        elif "=" in e.value:
            k, _, _ = e.value.partition("=")
            s = e.start + len(k) + 1
            yield from assignment(em, RULE, text, k.strip(SPACE), s, e.end, strict)
