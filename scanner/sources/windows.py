"""Content too large to hold in memory, scanned as overlapping windows.

A window holds WINDOW bytes of text; the next one starts OVERLAP bytes or more before its end, at
a line start when one is near. A window reports only the matches that start before the next one
does (``Chunk.own_end``): a value that crosses the edge is whole in the window where it starts,
and none is reported twice. Line and column numbers carry on from window to window
(``Chunk.first_line``/``first_column``), so findings read as in a whole-file scan. Memory stays
at about one window whatever the size of the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Optional

from scanner.models import Chunk
from scanner.sources.textify import BINARY, TEXT, printable, text_reader

WINDOW = 8 << 20  # bytes of text per window
OVERLAP = 64 << 10  # longer than any value a rule matches (key blocks are a few KB)
@dataclass(frozen=True)
class Window:
    data: bytes
    first_line: int  # line number of data[0]
    first_column: int  # column (characters) of data[0] on its line
    own_end: Optional[int]  # matches starting here or later belong to the next window


def windows(read: Callable[[int], bytes], size: int = WINDOW, overlap: int = OVERLAP) -> Iterator[Window]:
    """Split what ``read(n)`` returns (``b""`` at the end) into overlapping windows."""
    buf, line, column = b"", 1, 1
    while True:
        parts, have, eof = [buf], len(buf), False
        while have < size:
            got = read(size - have)
            if not got:
                eof = True
                break
            parts.append(got)
            have += len(got)
        joined = b"".join(parts)
        buf, extra = joined[:size], joined[size:]  # a read may return more than asked
        if eof:
            yield Window(buf, line, column, None)
            return
        cut = _cut(buf, size - overlap, overlap)
        yield Window(buf, line, column, cut)
        head = buf[:cut]
        nl = head.rfind(b"\n")
        line += head.count(b"\n")
        column = (1 if nl >= 0 else column) + len(head[nl + 1 :].decode("utf-8", "replace"))
        buf = buf[cut:] + extra


def _cut(buf: bytes, limit: int, overlap: int) -> int:
    """Where the next window starts: after the last newline in ``buf[limit - overlap:limit]``,
    else at ``limit`` moved back to the start of a UTF-8 character."""
    nl = buf.rfind(b"\n", max(limit - overlap, 1), limit)
    if nl >= 0:
        return nl + 1
    cut = limit
    while cut > limit - 3 and buf[cut] & 0xC0 == 0x80:
        cut -= 1
    return cut


def stream_chunks(read: Callable[[int], bytes], path: str, lines: Optional[frozenset[int]] = None,
                  **where) -> tuple[str, Iterator[Chunk]]:
    """The kind of the content ``read(n)`` returns (see :func:`scanner.sources.textify.sniff`)
    and its chunks, window by window, converted as :func:`scanner.sources.textify.textify` would;
    ``lines`` (a diff's added lines, numbered in the whole file) are given to each window in its
    own numbering; they are git's numbers of the raw text, so decoded or binary content is
    reported whole. ``where``: commit, blob."""
    kind, text = text_reader(read)
    return kind, _chunks(kind, text, path, lines, where)


def _chunks(kind: str, text: Callable[[int], bytes], path: str, lines: Optional[frozenset[int]],
            where: dict) -> Iterator[Chunk]:
    for w in windows(text, WINDOW, OVERLAP):
        data = printable(w.data) if kind == BINARY else w.data
        mine = None
        if lines is not None and kind == TEXT:
            last = w.first_line + data.count(b"\n")
            mine = frozenset(n - w.first_line + 1 for n in lines if w.first_line <= n <= last)
        yield Chunk(path=path, data=data, lines=mine, binary=kind == BINARY, first_line=w.first_line,
                    first_column=w.first_column, own_end=w.own_end, **where)
