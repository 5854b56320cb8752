"""Terraform and HCL: ``.tf``, ``.tfvars``, ``.hcl``.

Quoted literals assigned to credential-like attributes (``password``, ``secret_key``,
``access_key``, ...), and the ``default`` of a ``variable "db_password"`` block. Expressions
(``var.x``, ``data.x``, ``"${...}"``, function calls) are references, not findings.
"""

from __future__ import annotations

import bisect
import re
from typing import Iterator

from scanner.detectors.names import basename
from scanner.detectors.names import wants_terraform as wants
from scanner.detectors._common import assignment, decode, is_template_name

RULE = "terraform-credential"
_ATTR = re.compile(r'(?m)^[ \t]*"?(?P<key>[A-Za-z_][\w-]*)"?[ \t]*=[ \t]*"(?P<val>(?:[^"\\\n]|\\.)*)"', re.ASCII)
_VARIABLE = re.compile(r'(?m)^[ \t]*variable[ \t]+"(?P<name>[^"]+)"')
_BLOCK_END = re.compile(r"(?m)^\}")


def detect(chunk, em) -> Iterator:
    if not wants(chunk.path):
        return
    text = decode(chunk.data)
    strict = is_template_name(basename(chunk.path))
    # variable "name" { ... default = "..." } : the default is assigned to the variable's name.
    blocks = _variable_blocks(text)
    for m in _ATTR.finditer(text):
        key = m.group("key")
        if key == "default":
            key = _enclosing(blocks, m.start())
            if not key:
                continue
        s, e = m.span("val")
        yield from assignment(em, RULE, text, key, s, e, strict)


def _variable_blocks(text: str) -> tuple[list[int], list[int], list[str]]:
    """Starts, ends and names of the ``variable`` blocks, in order: a block ends at the first
    ``}`` at the start of a line after it (found in one pass, not one search per variable)."""
    closes = [m.start() for m in _BLOCK_END.finditer(text)]
    starts, ends, names = [], [], []
    for v in _VARIABLE.finditer(text):
        k = bisect.bisect_left(closes, v.end())
        starts.append(v.end())
        ends.append(closes[k] if k < len(closes) else len(text))
        names.append(v.group("name"))
    return starts, ends, names


def _enclosing(blocks: tuple[list[int], list[int], list[str]], pos: int) -> str:
    """The name of the first block holding ``pos``, or "". Ends never decrease as starts grow,
    so the first block ending after ``pos`` is the only candidate."""
    starts, ends, names = blocks
    k = bisect.bisect_right(ends, pos)
    return names[k] if k < len(starts) and starts[k] <= pos else ""
