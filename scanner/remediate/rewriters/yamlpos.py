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


# -- adding to a block-style document -------------------------------------------------------
def _last_scalar(node: yaml.Node) -> yaml.Node:
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return node


def _after(text: str, node: yaml.Node) -> int:
    """The start of the line after a collection's last line (its last scalar's end: a block
    collection's own end mark lies past the comments and blank lines that follow it)."""
    end = _last_scalar(node).end_mark.index
    if end > 0 and text[end - 1] == "\n":
        return end
    nl = text.find("\n", end)
    return len(text) if nl == -1 else nl + 1


def render(value, first: str, rest: str, nl: str) -> str:
    """``value`` as block YAML lines, the first prefixed with ``first``, the others with ``rest``."""
    lines = yaml.safe_dump(value, sort_keys=False, default_flow_style=False, width=1000).splitlines()
    return "".join((first if i == 0 else rest) + line + nl for i, line in enumerate(lines))


def add_under(text: str, root: yaml.Node, keys: list[str], value, nl: str) -> Optional[tuple[int, int, str]]:
    """The edit adding ``value`` at ``keys``: a list's items appended to the block sequence there,
    a dict's entries to the block mapping there, or the missing keys created (with ``value``) at
    the end of the deepest block mapping on the way. None when the way holds a scalar or a flow
    collection (the caller says so)."""
    node, depth = root, 0
    for k in keys:
        child = get(node, k)
        if child is None:
            break
        node, depth = child, depth + 1
    if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) or node.flow_style or not node.value:
        return None
    at = _after(text, node)
    lead = nl if at == len(text) and text and not text.endswith("\n") else ""
    if depth == len(keys) and isinstance(node, yaml.SequenceNode) and isinstance(value, list):
        first = node.value[0]
        prefix = text[text.rfind("\n", 0, first.start_mark.index) + 1 : first.start_mark.index]
        if prefix.strip() != "-":
            return None
        body = "".join(render(v, prefix, " " * len(prefix), nl) for v in value)
        return at, at, lead + body
    if not isinstance(node, yaml.MappingNode):
        return None
    for k in reversed(keys[depth:]):
        value = {k: value}
    if not isinstance(value, dict):
        return None
    indent = " " * node.value[0][0].start_mark.column
    return at, at, lead + render(value, indent, indent, nl)


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def drop_items(text: str, seq: yaml.Node, gone: set[int], key: Optional[yaml.Node] = None) -> Optional[list[tuple[int, int, str]]]:
    """The edits removing items ``gone`` of a block sequence, each from its dash line to the next
    item's; when all go, the whole ``key: [sequence]`` entry (``key``: its key node). None when
    the sequence is not block style, one item per dash line."""
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style:
        return None
    items = seq.value
    if len(gone) == len(items):
        a = _line_start(text, key.start_mark.index) if key is not None else -1
        if key is None or text[a : key.start_mark.index].strip():
            return None
        return [(a, _after(text, seq), "")]
    out = []
    for i in sorted(gone):
        a = _line_start(text, items[i].start_mark.index)
        if text[a : items[i].start_mark.index].strip() != "-":
            return None
        b = _line_start(text, items[i + 1].start_mark.index) if i + 1 < len(items) else _after(text, items[i])
        out.append((a, b, ""))
    return out
