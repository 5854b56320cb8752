"""A tolerant, line-based YAML reader that keeps byte offsets.

PyYAML drops positions and refuses whole files for one tab or one bad indent; secrets live in
exactly such hand-edited files. This reader understands what the detectors need -- nested keys,
list items, quoted and block scalars, documents, tags -- and never raises: a line it cannot read
is skipped. Flow collections (``{a: b}``, ``[a, b]``) are not descended into.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Optional

from scanner.detectors.keys import SPACE  # ASCII whitespace: the text is Latin-1-decoded bytes

# Quoted keys and "-dash" keys; plain keys are found by _key (a pattern for them, a lazy scan
# followed by \s*, re-read a run of spaces from every position in it: quadratic).
_QUOTED_KEY = re.compile(r"""(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|-[^\s#]+?)\s*:(?=\s|$)""", re.ASCII)
_KEY_END = re.compile(r":(?=[ \t\r\n\x0b\x0c]|$)")
_NOT_PLAIN_START = frozenset(SPACE + "#'\"{}[],&*!|>%@`-")
_BLOCK = re.compile(r"^[|>][+-]?\d?[+-]?\s*(#.*)?$", re.ASCII)
_TAG = re.compile(r"^(![^\s]*)\s*", re.ASCII)
_ANCHOR = re.compile(r"^&[^\s]+\s*", re.ASCII)


@dataclass(frozen=True)
class Entry:
    doc: int  # index of the YAML document (``---`` separated)
    path: tuple[str, ...]  # keys of the enclosing mappings, outermost first
    key: str  # this entry's key; "" for a scalar list item
    value: str  # the scalar as written, quotes removed (block scalars keep their lines)
    start: int  # offsets of the value in the text (inside the quotes)
    end: int
    item: int  # id of the innermost enclosing list item (0: none)
    tag: str = ""  # e.g. "!Ref", "!vault"
    quoted: bool = False
    block: bool = False


def _lines(text: str) -> list[tuple[int, str]]:
    out = []
    pos = 0
    for raw in text.split("\n"):
        out.append((pos, raw[:-1] if raw.endswith("\r") else raw))
        pos += len(raw) + 1
    return out


def _closing_quote(text: str, start: int, quote: str) -> int:
    """Index of the quote closing the scalar opened at ``start - 1``, or -1."""
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if quote == '"' and c == "\\":
            i += 2
            continue
        if c == quote:
            if quote == "'" and i + 1 < n and text[i + 1] == "'":
                i += 2
                continue
            return i
        i += 1
    return -1


def _key(content: str) -> Optional[tuple[str, int]]:
    """A mapping key at the start of ``content``: (the key as written, offset after its colon).
    A plain key runs to the first ":" followed by a space or the line's end, without a "#"."""
    m = _QUOTED_KEY.match(content)
    if m:
        return m.group("key"), m.end()
    if not content or content[0] in _NOT_PLAIN_START:
        return None
    c = _KEY_END.search(content, 1)  # the first character is part of the key
    if c is None or "#" in content[: c.start()]:
        return None
    return content[: c.start()], c.end()


def _strip_key(k: str) -> str:
    k = k.strip(SPACE)
    if len(k) >= 2 and k[0] == k[-1] and k[0] in "\"'":
        return k[1:-1]
    return k


def parse(text: str) -> list[Entry]:
    """Every scalar entry of every document, in order."""
    return list(_parse(text))


def _parse(text: str) -> Iterator[Entry]:
    lines = _lines(text)
    stack: list[tuple[int, str, int]] = []  # (indent, key or "", item id)
    doc = 0
    items = 0
    i = 0
    n = len(lines)
    while i < n:
        off, line = lines[i]
        i += 1
        stripped = line.lstrip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if indent == 0 and (stripped.startswith("---") or stripped.rstrip(SPACE) == "..."):
            doc += 1
            stack = []
            continue
        col = indent
        content = stripped
        # List items, possibly nested on one line ("- - a").
        while content.startswith("- ") or content.startswith("-\t") or content.rstrip(SPACE) == "-":
            while stack and (stack[-1][0] > col or (stack[-1][0] == col and not stack[-1][1])):
                stack.pop()
            items += 1
            stack.append((col, "", items))
            rest = content[1:]
            skip = len(rest) - len(rest.lstrip(" \t"))
            col += 1 + skip
            content = rest.lstrip(" \t")
            if not content:
                break
        if not content or content.startswith("#"):
            continue
        item_id = next((fr[2] for fr in reversed(stack) if fr[2]), 0)
        m = _key(content)
        if m is None:
            if stack and stack[-1][1] == "" and stack[-1][0] < col:
                # A scalar list item ("- KEY=value").
                start = off + col
                value, vstart, vend, quoted, i = _scalar(text, lines, i, start, content, col)
                if value is not None:
                    path = tuple(fr[1] for fr in stack if fr[1])
                    yield Entry(doc, path, "", value, vstart, vend, item_id, "", quoted)
            continue
        if not (stack and stack[-1][0] < col and stack[-1][1] == ""):
            while stack and stack[-1][0] >= col:
                stack.pop()
        key = _strip_key(m[0])
        path = tuple(fr[1] for fr in stack if fr[1])
        rest = content[m[1] :]
        lead = len(rest) - len(rest.lstrip(" \t"))
        rest_col = col + m[1] + lead
        rest = rest.lstrip(" \t")
        tag = ""
        am = _ANCHOR.match(rest)
        if am:
            rest_col += am.end()
            rest = rest[am.end() :]
        tm = _TAG.match(rest)
        if tm:
            tag = tm.group(1)
            rest_col += tm.end()
            rest = rest[tm.end() :]
        if not rest or rest.startswith("#"):
            if tag:  # "key: !vault |" handled below; a bare tag means an empty value
                pass
            stack.append((col, key, 0))
            continue
        if _BLOCK.match(rest):
            # Block scalar: the following lines indented deeper than the key.
            first = last = None
            parts = []
            while i < n:
                boff, bline = lines[i]
                bstripped = bline.lstrip(" \t")
                bindent = len(bline) - len(bstripped)
                if bstripped and bindent <= col:
                    break
                if bstripped:
                    body = bstripped.rstrip(SPACE)
                    if body:  # a line of blanks and a stray carriage return holds no value
                        if first is None:
                            first = boff + bindent
                        last = boff + len(bline.rstrip(SPACE))
                    parts.append(body)
                i += 1
            if first is not None and last is not None:  # (set together)
                sep = "\n" if rest.startswith("|") else " "
                yield Entry(doc, path, key, sep.join(parts), first, last, item_id, tag, False, True)
            continue
        if rest[0] in "{[":
            continue
        value, vstart, vend, quoted, i = _scalar(text, lines, i, off + rest_col, rest, rest_col)
        if value is not None:
            yield Entry(doc, path, key, value, vstart, vend, item_id, tag, quoted)


def _scalar(text: str, lines, i: int, start: int, rest: str, col: int):
    """Read a scalar starting at absolute offset ``start``; returns value, span, quoted, next line."""
    if rest[0] in "\"'":
        close = _closing_quote(text, start + 1, rest[0])
        if close < 0:
            return None, 0, 0, True, i
        # Skip the lines a multi-line quoted scalar spans.
        while i < len(lines) and lines[i][0] <= close:
            i += 1
        return text[start + 1 : close], start + 1, close, True, i
    if rest[0] == "*":  # an alias: a reference to another node
        return None, 0, 0, False, i
    cut = len(rest)
    h = rest.find(" #")
    if h >= 0:
        cut = h
    h = rest.find("\t#")
    if 0 <= h < cut:
        cut = h
    value = rest[:cut].rstrip(SPACE)
    return value, start, start + len(value), False, i
