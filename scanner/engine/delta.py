"""Where a file version differs from another version of the same file, by lines.

A history audit reads every version of every file, but most of a version is the previous one: on
rails, the lines a version does not share with the version of its path scanned just before are
~7 % of its bytes. :func:`compare` finds them cheaply: the common prefix and suffix are compared
with ``memcmp`` (bytes slices), and only the lines in between are compared as sets.

The engine then scans *regions* (the changed lines with some context) and carries over what it
found in the other version everywhere else. That is exact for matches whose outcome depends only
on their own line and its neighbours (every windowed rule: a window is the keyword's line and the
next one; see :mod:`scanner.engine`), which is why a line counts as changed when it is new, when
it borders the changed span, or when it is within ``RADIUS`` lines of either.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import compress, count
from typing import Optional

# Matches on lines within RADIUS lines of a changed line are re-found by scanning; a region adds
# CONTEXT more lines around that so that every such match sees all it depends on.
RADIUS, CONTEXT = 1, 2
# Past this share of the file in regions, scanning it whole is as cheap and simpler.
MAX_SHARE = 0.6
# A middle this short is marked changed as a whole rather than compared line by line.
SMALL_MIDDLE = 4096
_FIRST_STEP, _MAX_STEP = 256, 1 << 16  # bytes compared per step along a common prefix or suffix

Span = tuple[int, int]


@dataclass(frozen=True)
class Changes:
    """How ``new`` differs from ``old``. Offsets are into ``new`` unless named ``old_``.

    ``new[:start] == old[:start]`` and ``new[end:] == old[old_end:]``; the lines in between are
    the middle, compared line by line. ``dirty`` are the spans whose matches must come from a
    scan, ``regions`` the spans to scan for them (``dirty`` widened by CONTEXT lines).
    """

    start: int
    end: int
    old_end: int
    dirty: tuple[Span, ...]
    regions: tuple[Span, ...]

    @property
    def shift(self) -> int:
        """What to add to an offset in ``old``'s common suffix to find it in ``new``."""
        return self.end - self.old_end

    def is_dirty(self, start: int, end: int) -> bool:
        return any(a < end and start < b for a, b in self.dirty)


def common_prefix(a: bytes, b: bytes) -> int:
    """Length of the longest common prefix: slices compared in growing steps (``memcmp``), then
    the differing step halved down to the byte."""
    n = min(len(a), len(b))
    i, step = 0, _FIRST_STEP
    while True:
        j = min(i + step, n)
        if a[i:j] != b[i:j]:
            break
        if j == n:
            return n
        i, step = j, min(step * 2, _MAX_STEP)
    size = j - i  # the first difference is in [i, i + size)
    while size > 1:
        half = size // 2
        if a[i : i + half] == b[i : i + half]:
            i, size = i + half, size - half
        else:
            size = half
    return i


def common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """Length of the longest common suffix that leaves the first ``limit`` bytes of both alone."""
    la, lb = len(a), len(b)
    n = min(la, lb) - limit
    if n <= 0:
        return 0
    i, step = 0, _FIRST_STEP
    while True:
        j = min(i + step, n)
        if a[la - j : la - i] != b[lb - j : lb - i]:
            break
        if j == n:
            return n
        i, step = j, min(step * 2, _MAX_STEP)
    size = j - i  # the last difference is size or fewer bytes before the last i common ones
    while size > 1:
        half = size // 2
        if a[la - i - half : la - i] == b[lb - i - half : lb - i]:
            i, size = i + half, size - half
        else:
            size = half
    return i


def compare(new: bytes, old: bytes) -> Optional[Changes]:
    """The changes from ``old`` to ``new``, or None when scanning ``new`` whole is the better deal."""
    n = len(new)
    pa = common_prefix(new, old)
    if pa == n == len(old):
        return Changes(n, n, n, (), ())
    sl = common_suffix(new, old, pa)
    start = new.rfind(b"\n", 0, pa) + 1
    end = new.find(b"\n", n - sl)
    end = n if end < 0 else end
    old_end = end - (n - len(old))  # prefix + suffix <= len(old), so start <= old_end

    if end - start <= SMALL_MIDDLE:
        dirty = [(start, end)]  # comparing its lines would cost more than scanning them all
    else:
        dirty = _changed_lines(new[start:end], old[start:old_end], start)
    dirty = _widen(new, dirty, RADIUS)
    regions = _widen(new, dirty, CONTEXT)
    if sum(b - a for a, b in regions) > MAX_SHARE * n:
        return None
    # Regions end after their last newline, so that a region is whole lines.
    regions = [(a, b + 1 if b < n else b) for a, b in regions]
    return Changes(start, end, old_end, tuple(dirty), tuple(regions))


def _changed_lines(new: bytes, old: bytes, offset: int) -> list[Span]:
    """Spans (offset by ``offset``) of the lines of ``new`` that ``old`` lacks, plus its first and
    last line, which join unchanged text to changed text (a deletion leaves only those)."""
    lines = new.split(b"\n")
    fresh = set(lines).difference(old.split(b"\n"))
    marked = list(compress(count(), map(fresh.__contains__, lines))) if fresh else []
    last = len(lines) - 1
    marked = [0, *(i for i in marked if 0 < i < last), last] if last else [0]
    spans: list[Span] = []
    pos, idx = offset, 0  # byte offset of line ``idx``
    for i in marked:
        pos += sum(map(len, lines[idx:i])) + (i - idx)
        idx = i
        a, b = pos, pos + len(lines[i])
        if spans and a <= spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


def _widen(data: bytes, spans: list[Span], lines: int) -> list[Span]:
    """Each span (from a line start to a line end) grown by ``lines`` whole lines each way, merged."""
    out: list[Span] = []
    n = len(data)
    for a, b in spans:
        for _ in range(lines):
            if a == 0:
                break
            a = data.rfind(b"\n", 0, a - 1) + 1
        for _ in range(lines):
            if b >= n:
                break
            nxt = data.find(b"\n", b + 1)
            b = n if nxt < 0 else nxt
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return out


def line_span(data: bytes, start: int, end: int) -> Span:
    """The whole lines that ``data[start:end]`` touches (without the final newline)."""
    a = data.rfind(b"\n", 0, start) + 1
    b = data.find(b"\n", max(end - 1, start))
    return a, len(data) if b < 0 else b


def same_neighbours(old: bytes, a: int, b: int, new: bytes, p: int, q: int) -> bool:
    """Are the lines around ``old[a:b]`` and ``new[p:q]`` (whole lines) the same, buffer edges
    included?"""
    return _line_before(old, a) == _line_before(new, p) and _line_after(old, b) == _line_after(new, q)


def _line_before(data: bytes, a: int) -> Optional[bytes]:
    return None if a == 0 else data[data.rfind(b"\n", 0, a - 1) + 1 : a - 1]


def _line_after(data: bytes, b: int) -> Optional[bytes]:
    if b >= len(data):
        return None
    nxt = data.find(b"\n", b + 1)
    return data[b + 1 : len(data) if nxt < 0 else nxt]


def occurrences(data: bytes, text: bytes, start: int, end: int, limit: int) -> Optional[list[int]]:
    """Offsets in ``data[start:end]`` where ``text`` occurs as whole lines; None past ``limit``."""
    out: list[int] = []
    k = len(text)
    p = data.find(text, start, end)
    tries = 0
    while p >= 0:
        tries += 1
        if tries > limit:
            return None
        if (p == start or data[p - 1] == 10) and (p + k == end or data[p + k] == 10):
            out.append(p)
        p = data.find(text, p + 1, end)
    return out
