"""Where a file version differs from another version of the same file, by lines.

A history audit reads every version of every file, but most of a version is the previous one: on
rails, the changed lines of a version (with the context scanned around them) are ~4 % of its
bytes. :func:`compare` finds them cheaply: the common prefix and suffix are compared with
``memcmp`` (bytes slices), and a long part in between is aligned on unique lines (see
:func:`_changed`), with sets of lines as the fallback.

The engine then scans *regions* (the changed lines with some context) and carries over what it
found in the other version everywhere else. That is exact for matches whose outcome depends only
on their own line and its neighbours (every windowed rule: a window is the keyword's line and the
next one; see :mod:`scanner.engine`), which is why the lines within ``RADIUS`` of a changed
line (one that is new, or that borders deleted lines) are rescanned too.
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
# A changed part this short is marked changed as a whole rather than aligned line by line.
SMALL_MIDDLE = 4096
# Aligning a long changed part: at most this many anchor lines per file (then sets of lines), each
# at least MIN_ANCHOR bytes long, looked for among ANCHOR_TRIES lines from the part's middle.
ANCHORS, MIN_ANCHOR, ANCHOR_TRIES = 64, 8, 16
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


def _prefix(x: bytes, i: int, y: bytes, j: int, n: int) -> int:
    """Common prefix of ``x[i:i+n]`` and ``y[j:j+n]``: slices compared in growing steps
    (``memcmp``), then the differing step halved down to the byte. (Plain comparisons instead of
    min(): a history compares ~300k version pairs, each in a dozen steps.)"""
    k, step = 0, _FIRST_STEP
    while k < n:
        e = k + step
        if e > n:
            e = n
        if x[i + k : i + e] != y[j + k : j + e]:
            lo, hi = k, e  # the first difference is in [lo, hi)
            while hi - lo > 1:
                mid = (lo + hi) >> 1
                if x[i + lo : i + mid] == y[j + lo : j + mid]:
                    lo = mid
                else:
                    hi = mid
            return lo
        k = e
        if step < _MAX_STEP:
            step <<= 1
    return n


def _suffix(x: bytes, xe: int, y: bytes, ye: int, n: int) -> int:
    """Common suffix of ``x[:xe]`` and ``y[:ye]``, at most ``n`` bytes long."""
    k, step = 0, _FIRST_STEP
    while k < n:
        e = k + step
        if e > n:
            e = n
        if x[xe - e : xe - k] != y[ye - e : ye - k]:
            lo, hi = k, e  # the suffix is at least lo and less than hi bytes long
            while hi - lo > 1:
                mid = (lo + hi) >> 1
                if x[xe - mid : xe - lo] == y[ye - mid : ye - lo]:
                    lo = mid
                else:
                    hi = mid
            return lo
        k = e
        if step < _MAX_STEP:
            step <<= 1
    return max(n, 0)


def compare(new: bytes, old: bytes) -> Optional[Changes]:
    """The changes from ``old`` to ``new``, or None when scanning ``new`` whole is the better deal."""
    n = len(new)
    if new == old:
        return Changes(n, n, n, (), ())
    start, end, old_start, old_end = _trim(new, 0, n, old, 0, len(old))
    changed = _changed(new, start, end, old, old_start, old_end, MAX_SHARE * n)
    if changed is None:
        return None
    dirty = _widen(new, changed, RADIUS)
    regions = _widen(new, dirty, CONTEXT)
    if sum(b - a for a, b in regions) > MAX_SHARE * n:
        return None
    # Regions end after their last newline, so that a region is whole lines.
    regions = [(a, b + 1 if b < n else b) for a, b in regions]
    return Changes(start, end, old_end, tuple(dirty), tuple(regions))


def _trim(new: bytes, a: int, b: int, old: bytes, c: int, d: int) -> tuple[int, int, int, int]:
    """``new[a:b]`` and ``old[c:d]`` (whole lines) less their common leading and trailing bytes,
    widened back to whole lines: from the start of the line holding the first difference to the
    end of the line holding the first common trailing byte (so both joins stay inside)."""
    n = min(b - a, d - c)
    p = _prefix(new, a, old, c, n)
    s = _suffix(new, b, old, d, n - p)
    k = new.rfind(b"\n", a, a + p)
    a2 = a if k < 0 else k + 1
    k = new.find(b"\n", b - s, b)
    b2 = b if k < 0 else k
    return a2, b2, c + (a2 - a), d - (b - b2)


def _changed(new: bytes, a: int, b: int, old: bytes, c: int, d: int, limit: float) -> Optional[list[Span]]:
    """The spans of ``new[a:b]`` not aligned with ``old[c:d]`` (both whole lines, already trimmed),
    or None as soon as they hold more than ``limit`` bytes (the regions scanned around them would
    too: the file is scanned whole, so aligning the rest is wasted).

    Aligning is patience-like: a line near the middle of the new text that occurs exactly once in
    the old text anchors both; each side is trimmed of its common lines and split again. A few
    hunks cost a few ``memcmp`` and ``find`` passes; past ANCHORS splits (many scattered edits),
    the remaining text is compared as sets of lines. A part whose new side is empty but whose old
    side is not (deleted lines) is an empty span: the join itself changed."""
    out: list[Span] = []
    todo = [(a, b, c, d)]
    splits = 0
    while todo:
        a, b, c, d = todo.pop()
        if a >= b or c >= d:
            if a < b or c < d:
                out.append((a, b))
                limit -= b - a
        elif b - a <= SMALL_MIDDLE:
            out.append((a, b))  # comparing its lines would cost more than scanning them all
            limit -= b - a
        elif (anchor := _anchor(new, a, b, old, c, d) if splits < ANCHORS else None) is None:
            spans = _changed_lines(new[a:b], old[c:d], a)
            out.extend(spans)
            limit -= sum(e - s for s, e in spans)
        else:
            splits += 1
            todo.extend(_split(new, a, b, old, c, d, anchor))
        if limit < 0:
            return None
    out.sort()
    return out


def _split(new: bytes, a: int, b: int, old: bytes, c: int, d: int, anchor: tuple[int, int, int, int]
           ) -> list[tuple[int, int, int, int]]:
    """The parts of ``new[a:b]`` and ``old[c:d]`` before and after the anchor line, each less its
    common leading and trailing lines; parts that are equal are dropped."""
    out = []
    la, lb, oa, ob = anchor
    for pa, pb, pc, pd in ((a, max(la - 1, a), c, max(oa - 1, c)), (min(lb + 1, b), b, min(ob + 1, d), d)):
        part: Optional[tuple[int, int, int, int]] = (pa, pb, pc, pd)
        if pa < pb and pc < pd:
            part = _trim(new, pa, pb, old, pc, pd) if new[pa:pb] != old[pc:pd] else None
        if part is not None:
            out.append(part)
    return out


def _anchor(new: bytes, a: int, b: int, old: bytes, c: int, d: int) -> Optional[tuple[int, int, int, int]]:
    """A line of ``new[a:b]`` near its middle that occurs exactly once in ``old[c:d]`` (as a whole
    line, and long enough to mean something): (its start, end, start in old, end in old)."""
    k = new.rfind(b"\n", a, (a + b) // 2)
    ls = a if k < 0 else k + 1
    for _ in range(ANCHOR_TRIES):
        le = new.find(b"\n", ls, b)
        le = b if le < 0 else le
        if le - ls >= MIN_ANCHOR:
            line = new[ls:le]
            hits = occurrences(old, line, c, d, 2)
            if hits is not None and len(hits) == 1:
                return ls, le, hits[0], hits[0] + len(line)
        if le >= b:
            return None
        ls = le + 1
    return None


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
        if a == b and a < n:  # a join where lines were deleted: from the line after it
            b = data.find(b"\n", a)
            b = n if b < 0 else b
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
