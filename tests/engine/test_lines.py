"""The forward-only line cursor gives what searching from each offset gives."""

from __future__ import annotations

import random

import pytest

from scanner.engine.lines import Lines

ALPHABET = [b"a", b"Z", b"0", b" ", b"\n", b"\r", "é".encode(), "€".encode(), "😀".encode(), b"\xc3", b"\x82", b"\xff", b"\xe2\x82"]


@pytest.mark.parametrize("seed", range(40))
def test_line_bounds_numbers_and_columns_match_a_search_from_each_offset(seed):
    rng = random.Random(seed)
    data = b"".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 300)))
    offsets = sorted(rng.sample(range(len(data) + 1), min(len(data) + 1, rng.randint(1, 40))))
    lines = Lines(data)
    for off in offsets:
        lines.seek(off)
        start = data.rfind(b"\n", 0, off) + 1
        end = data.find(b"\n", off)
        assert (lines.start, lines.end) == (start, len(data) if end < 0 else end)
        assert lines.number == data.count(b"\n", 0, off) + 1
        assert lines.column(off) == len(data[start:off].decode("utf-8", "replace")) + 1


def test_each_byte_is_looked_at_a_bounded_number_of_times():
    data = b"x = 1 " * 20_000 + b"\n" + b"y\n" * 1000
    lines = Lines(data)
    for off in range(0, len(data), 3):
        lines.seek(off)
        if off < 120_000:
            lines.column(off)
    assert lines.examined <= 3 * len(data)
