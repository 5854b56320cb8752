"""Terraform and HCL: ``.tf``, ``.tfvars``, ``.hcl``.

Quoted literals assigned to credential-like attributes (``password``, ``secret_key``,
``access_key``, ...), and the ``default`` of a ``variable "db_password"`` block. Expressions
(``var.x``, ``data.x``, ``"${...}"``, function calls) are references, not findings.
"""

from __future__ import annotations

import re
from typing import Iterator

from scanner.detectors.names import basename
from scanner.detectors.names import wants_terraform as wants
from scanner.detectors._common import assignment, decode, is_template_name

RULE = "terraform-credential"
_ATTR = re.compile(r'(?m)^[ \t]*"?(?P<key>[A-Za-z_][\w-]*)"?[ \t]*=[ \t]*"(?P<val>(?:[^"\\\n]|\\.)*)"')
_VARIABLE = re.compile(r'(?m)^[ \t]*variable[ \t]+"(?P<name>[^"]+)"')
_BLOCK_END = re.compile(r"(?m)^\}")


def detect(chunk, em) -> Iterator:
    if not wants(chunk.path):
        return
    text = decode(chunk.data)
    strict = is_template_name(basename(chunk.path))
    # variable "name" { ... default = "..." } : the default is assigned to the variable's name.
    blocks = []
    for v in _VARIABLE.finditer(text):
        end = _BLOCK_END.search(text, v.end())
        blocks.append((v.end(), end.start() if end else len(text), v.group("name")))
    for m in _ATTR.finditer(text):
        key = m.group("key")
        if key == "default":
            key = next((name for s, e, name in blocks if s <= m.start() < e), "")
            if not key:
                continue
        s, e = m.span("val")
        yield from assignment(em, RULE, text, key, s, e, strict)
