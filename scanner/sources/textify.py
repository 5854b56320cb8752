"""Bytes as scannable text: the one place every source (files, diffs, history) turns content into
what the engine reads.

- Plain text (no NUL byte in the first 8 KB, git's own test) is returned unchanged: the common
  case costs one ``in`` over 8 KB, as before.
- UTF-16 and UTF-32 text, marked by a byte order mark or recognised by where its NUL bytes fall,
  is decoded and re-encoded as UTF-8, so findings have lines and columns of the decoded text.
  A UTF-8 byte order mark is dropped (it is not a column).
- Anything else with a NUL byte is binary: its printable ASCII is kept in place and every other
  byte becomes a space, except newlines, so a finding's line is the binary's own line
  (``grep -an``); UTF-16LE runs (8+ characters, as ``strings -el`` finds them: .NET string
  literals, Windows resources) are narrowed to ASCII where they start. The engine scans such text
  with provider-specific rules only (:attr:`scanner.models.Chunk.binary`): generic and entropy
  rules would only find noise in compiled code. (Keeping only runs of 8+ printable characters, as
  ``strings`` does, cost 4x the time and changed no finding on 75 MB of real binaries.)
"""

from __future__ import annotations

import codecs
from typing import Callable, Optional

from scanner.lazyregex import lazy

SNIFF = 8192  # bytes looked at to tell text from binary, as git does
TEXT, BINARY = "text", "binary"
_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Text may hold tabs, newlines, form feeds and an escape; other C0 controls (and NUL) are rare in
# any real document and common in binary data decoded by mistake.
_CONTROL = lazy("[\x00-\x08\x0e-\x1a\x1c-\x1f]")
MAX_CONTROL = 0.01  # share of such characters a decoded text may have
# Unmarked UTF-16 must have a zero high byte in at least half its units (Latin script, markup,
# code: nearly all); other scripts' text is found by its BOM, and tokens in it (ASCII) by the
# binary path's UTF-16 runs.
MIN_WIDE_SHARE = 0.5
MIN_RUN = 8  # characters in a UTF-16LE run kept from a binary
# Printable ASCII (and tabs, newlines) kept, every other byte a space: one C pass. Short runs
# are kept too: provider rules need a token's whole shape, which junk between runs breaks.
_KEEP = bytes(b if 0x20 <= b <= 0x7E or b in (9, 10) else 0x20 for b in range(256))
# Byte classes to find UTF-16LE runs with bytes.find: "a" printable, "0" NUL, "-" anything else.
_CLASS = bytes(0x61 if 0x20 <= b <= 0x7E or b == 9 else 0x30 if b == 0 else 0x2D for b in range(256))
_WIDE = b"a0" * MIN_RUN
_WIDE_TAIL = lazy(rb"(?:a0)*")


def sniff(data: bytes) -> str:
    """``text``, ``binary`` or the name of the wide encoding (``utf-16-le``…) ``data`` is in,
    judged from its first 8 KB (a wide encoding is confirmed by decoding that much)."""
    head = data[:SNIFF]
    if b"\0" not in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return TEXT
    for bom, name in _BOMS:
        if head.startswith(bom) and _reads_as_text(head[len(bom) :], name):
            return name
    for name in _unmarked_candidates(head):
        if _reads_as_text(head, name):
            return name
    return BINARY if b"\0" in head else TEXT


def textify(data: bytes, kind: Optional[str] = None) -> tuple[bytes, str]:
    """``data`` as text to scan and its kind (see :func:`sniff`; pass it if already known)."""
    kind = kind or sniff(data)
    if kind == TEXT:
        return (data[3:] if data.startswith(codecs.BOM_UTF8) else data), TEXT
    if kind == BINARY:
        return printable(data), BINARY
    body = data[len(_bom_of(data, kind)) :]
    try:
        return body.decode(kind).encode("utf-8"), kind
    except UnicodeDecodeError:  # valid at the start only: what is readable is its strings
        return printable(data), BINARY


def printable(data: bytes) -> bytes:
    """The printable characters of ``data`` in place (same length, same newlines), spaces
    elsewhere; a UTF-16LE run (8+ characters) is narrowed to ASCII at its start."""
    out = bytearray(data.translate(_KEEP))
    if b"\0" not in data:
        return bytes(out)
    classes = data.translate(_CLASS)
    pos = classes.find(_WIDE)
    while pos >= 0:
        tail = _WIDE_TAIL.match(classes, pos)
        assert tail is not None  # it matches where _WIDE was found
        end = tail.end()
        half = (end - pos) // 2
        out[pos : pos + half] = data[pos:end:2]
        out[pos + half : end] = b" " * (end - pos - half)
        pos = classes.find(_WIDE, end)
    return bytes(out)


def _bom_of(data: bytes, kind: str) -> bytes:
    return next((bom for bom, name in _BOMS if name == kind and data.startswith(bom)), b"")


def _unmarked_candidates(head: bytes) -> list[str]:
    """Wide encodings whose NUL pattern ``head`` has: UTF-32 text has a zero high byte in every
    unit; UTF-16 text of mostly Latin script a zero high byte in most units and few zero low bytes."""
    out = []
    units = len(head) // 4
    if units and head[3::4].count(0) == units and head[2::4].count(0) >= units // 2:
        out.append("utf-32-le")
    if units and head[0::4].count(0) == units and head[1::4].count(0) >= units // 2:
        out.append("utf-32-be")
    even, odd = head[0::2].count(0), head[1::2].count(0)
    enough = len(head) // 2 * MIN_WIDE_SHARE  # ASCII text with a stray NUL is not UTF-16
    if odd >= enough and odd > 4 * even:
        out.append("utf-16-le")
    elif even >= enough and even > 4 * odd:
        out.append("utf-16-be")
    return out


def _reads_as_text(head: bytes, encoding: str) -> bool:
    """Does ``head`` decode as ``encoding`` into something that looks like text? A cut at the end
    of the 8 KB (half a character) is allowed."""
    width = 4 if "32" in encoding else 2
    head = head[: len(head) - len(head) % width]
    try:
        text = head.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a surrogate pair cut at the end of the sniffed bytes
            return False
        text = head[: exc.start].decode(encoding)
    return bool(text) and len(_CONTROL.findall(text)) <= MAX_CONTROL * len(text)


def text_reader(read: Callable[[int], bytes]) -> tuple[str, Callable[[int], bytes]]:
    """For content too large to hold at once: its kind (from its first 8 KB) and a ``read(n)``
    giving it as text to scan, as :func:`textify` would (wide text decoded incrementally; binary
    content is returned raw, for :func:`printable` per window, which keeps offsets)."""
    head = read(SNIFF)
    kind = sniff(head)
    if kind in (TEXT, BINARY):
        pending = [head[3:] if kind == TEXT and head.startswith(codecs.BOM_UTF8) else head]
        return kind, lambda n: pending.pop() if pending else read(n)
    decoder = codecs.getincrementaldecoder(kind)("replace")
    pending = [head[len(_bom_of(head, kind)) :]]

    def decoded(n: int) -> bytes:
        while True:
            raw = pending.pop() if pending else read(n)
            text = decoder.decode(raw, final=not raw)
            if text or not raw:
                return text.encode("utf-8")

    return kind, decoded
