"""Files too large to hold in memory: scanned in overlapping windows, every value found once, at
the line and column a whole-file scan gives."""

from __future__ import annotations

import io
import random
import pytest

import scanner.sources.windows as W
from scanner.config import Config
from scanner.engine import Engine
from scanner.models import Chunk
from scanner.sources.files import FileSource
from scanner.sources.textify import textify
from tests.fakes import checksummed


def fake_token() -> str:
    return checksummed("ghp_")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(Config())


@pytest.fixture
def small_windows(monkeypatch):
    """Windows of 4 KB overlapping by 512 bytes: many edges in a small file."""
    monkeypatch.setattr(W, "WINDOW", 4096)
    monkeypatch.setattr(W, "OVERLAP", 512)


def located(findings) -> list[tuple]:
    return sorted((f.rule_id, f.line, f.column, f.end_column, f.secret_hash) for f in findings)


def streamed(engine, data: bytes, path: str = "big.txt") -> list:
    kind, chunks = W.stream_chunks(io.BytesIO(data).read, path)
    out = []
    for chunk in chunks:
        assert len(chunk.data) <= W.WINDOW
        out.extend(engine.scan(chunk))
    return out


def whole(engine, data: bytes, path: str = "big.txt") -> list:
    text, kind = textify(data)
    return engine.scan(Chunk(path=path, data=text, binary=kind == "binary"))


def _text_with_tokens(rng: random.Random, lines: int, long_lines: bool = False) -> tuple[bytes, int]:
    out, planted = [], 0
    for i in range(lines):
        if rng.random() < 0.08:
            out.append(f"t{i} = '{fake_token()}'  # é")
            planted += 1
        else:
            width = rng.randrange(600, 3000) if long_lines and rng.random() < 0.2 else rng.randrange(0, 90)
            out.append("".join(rng.choice("abcdefgh é,.;") for _ in range(width)))
    return ("\n".join(out) + "\n").encode(), planted


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("long_lines", [False, True])
def test_windows_find_what_a_whole_scan_finds(engine, small_windows, seed, long_lines):
    data, planted = _text_with_tokens(random.Random(seed), 400, long_lines)
    expected = located(whole(engine, data))
    assert len(expected) == planted
    assert located(streamed(engine, data)) == expected


def test_a_token_across_every_possible_edge(engine, small_windows):
    """A value cut by a window's edge is found whole, once, wherever the edge falls in it."""
    for shift in range(0, 60, 7):
        token = fake_token()
        data = ("x" * (W.WINDOW - W.OVERLAP - 20 + shift) + f" {token} " + "y" * 5000).encode()  # one long line
        found = streamed(engine, data)
        assert located(found) == located(whole(engine, data)) and len(found) == 1


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32-be"])
def test_wide_text_is_decoded_across_windows(engine, small_windows, encoding):
    data, planted = _text_with_tokens(random.Random(7), 300)
    wide = data.decode().encode(encoding)
    assert located(streamed(engine, wide)) == located(whole(engine, data)) and planted


def test_binary_is_scanned_window_by_window(engine, small_windows):
    rng = random.Random(3)
    blob = bytearray(rng.randbytes(20000))
    tokens = [fake_token() for _ in range(4)]
    for i, t in enumerate(tokens):
        at = 3000 + i * 4100
        blob[at : at + 42] = f" {t} ".encode()
    blob[:1] = b"\0"
    found = streamed(engine, bytes(blob), "lib.so")
    assert len(found) == 4 and located(found) == located(whole(engine, bytes(blob), "lib.so"))


def test_diff_lines_are_renumbered_per_window(engine, small_windows):
    data, _ = _text_with_tokens(random.Random(11), 400)
    all_found = whole(engine, data)
    added = frozenset(f.line for f in all_found[::2])
    _, chunks = W.stream_chunks(io.BytesIO(data).read, "big.txt", lines=added)
    got = [f for c in chunks for f in engine.scan(c)]
    assert located(got) == located(all_found[::2])


def test_named_file_over_the_limit_is_streamed_walked_one_is_skipped(tmp_path, small_windows):
    token = fake_token()
    big = tmp_path / "dump.sql"
    big.write_text("-- data\n" * 3000 + f"INSERT INTO keys VALUES ('{token}');\n" + "-- more\n" * 3000)
    named = FileSource([str(big)], max_file_size=1000)
    chunks = list(named)
    assert len(chunks) > 2 and max(len(c.data) for c in chunks) <= W.WINDOW
    assert named.stats.streamed == 1 and named.stats.scanned == 1 and named.stats.bytes == big.stat().st_size
    walked = FileSource([str(tmp_path)], max_file_size=1000)
    assert list(walked) == [] and walked.stats.skipped == {"too large": 1}
    assert walked.stats.too_large == [str(big)]
    [note] = walked.stats.size_notes(1000)
    assert "1 file(s) over the 1000 bytes size limit were not scanned" in note and str(big) in note


def test_stdin_over_the_limit_is_streamed(monkeypatch, small_windows, engine):
    token = fake_token()
    data = ("x = 1\n" * 2000 + f"t = '{token}'\n").encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    src = FileSource(["-"], max_file_size=100)
    found = [f for c in src for f in engine.scan(c)]
    assert [(f.path, f.line) for f in found] == [("<stdin>", 2001)] and src.stats.streamed == 1
