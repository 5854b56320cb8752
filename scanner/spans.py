"""Which of a fixed set of spans overlaps a given one, in O(log n) per question (asking each of
them in turn costs the square of their number when a file holds thousands)."""

from __future__ import annotations

import bisect
from typing import Iterable, Optional


class Spans:
    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        spans = list(spans)
        order = sorted(range(len(spans)), key=lambda i: spans[i][0])
        self._starts = [spans[i][0] for i in order]
        self._reach: list[tuple[int, int]] = []  # (end, index) reaching furthest among the first j
        best = (-1, -1)
        for i in order:
            if spans[i][1] > best[0]:
                best = (spans[i][1], i)
            self._reach.append(best)

    def overlapping(self, start: int, end: int) -> Optional[int]:
        """Index (in the order given) of the span starting before ``end`` that reaches furthest,
        if it overlaps [start, end); None when no span does."""
        j = bisect.bisect_left(self._starts, end) - 1
        return self._reach[j][1] if j >= 0 and self._reach[j][0] > start else None
