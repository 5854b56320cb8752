"""YAML (and JSON, which PyYAML reads as YAML) with positions: the platform rewriters find the
node holding a value, check that the node's source text is its value, and edit that span only, so
the rest of the file keeps its bytes. Node marks count characters, like the plan's columns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Union

import yaml

from scanner.remediate.records import Manual
from scanner.remediate.rewriters.base import line_starts, text_or_manual

_SEP = re.compile(r"^(?:---|\.\.\.)[ \t\r]*(?:#[^\n]*)?$", re.M)


@dataclass
class Doc:
    a: int  # character span of the document's content in the file
    b: int
    node: Optional[yaml.Node]


def documents(text: str) -> list[Doc]:
    """The file's YAML documents with their spans (raises yaml.YAMLError)."""
    spans, start = [], 0
    for m in _SEP.finditer(text):
        spans.append((start, m.start()))
        start = min(m.end() + 1, len(text))
    spans.append((start, len(text)))
    return [Doc(a, b, yaml.compose(text[a:b], Loader=yaml.SafeLoader)) for a, b in spans]


def get(node: Optional[yaml.Node], key: str) -> Optional[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def text_of(node: Optional[yaml.Node], *path: str) -> Optional[str]:
    for key in path:
        node = get(node, key)
    return node.value if isinstance(node, yaml.ScalarNode) else None


def path_to(node: yaml.Node, a: int, b: int) -> list[tuple[yaml.Node, Union[str, int], yaml.Node]]:
    """(parent, key or index, child) steps from ``node`` down to the scalar spanning [a, b)."""
    out = []
    while not isinstance(node, yaml.ScalarNode):
        kids = [(k.value, v) for k, v in node.value] if isinstance(node, yaml.MappingNode) else list(enumerate(node.value))
        hit = next(((k, v) for k, v in kids if v.start_mark.index <= a and b <= v.end_mark.index), None)
        if hit is None:
            return []
        out.append((node, hit[0], hit[1]))
        node = hit[1]
    return out


def in_scalar(text: str, node: yaml.ScalarNode, off: int, a: int, b: int) -> Optional[tuple[int, int]]:
    """Offsets of [a, b) within the scalar's value, when the scalar's source text is its value
    (plain or quoted on one line, nothing escaped)."""
    src = text[off + node.start_mark.index : off + node.end_mark.index]
    if node.style in ("|", ">") or "\n" in src:
        return None
    body_at = 1 if node.style in ("'", '"') else 0
    if src[body_at : len(src) - body_at] != node.value:
        return None
    start = a - off - node.start_mark.index - body_at
    return start, start + (b - a)


def parsed_or_manual(ws, path: str, pairs: list, ctx, what: str) -> Optional[tuple[str, str, list[int], yaml.Node]]:
    """A one-document YAML/JSON file's text, newline, line starts and root node; or None after
    listing its sites as manual steps (not text, or it does not parse)."""
    dec = text_or_manual(ws, path, pairs, ctx)
    if dec is None:
        return None
    try:
        root = yaml.compose(dec[0], Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        root = None
    if root is None:
        ctx.manual += [Manual(s, f"the {what} does not parse: replace by hand") for s, _ in pairs]
        return None
    return dec[0], dec[1], line_starts(dec[0]), root
