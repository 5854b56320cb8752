"""Content as scannable text: wide encodings decoded, binaries reduced to their printable text,
plain text untouched (scanner.sources.textify), and every source scanning what it returns."""

from __future__ import annotations

import struct

import pytest

from scanner.config import Config
from scanner.engine import Engine
from scanner.models import Chunk
from scanner.sources.textify import BINARY, TEXT, printable, sniff, textify
from tests.fakes import github_token


def fake_token() -> str:
    return github_token()


WIDE = ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(Config())


def test_plain_text_is_returned_as_is():
    data = b"x = 1\n" * 1000
    text, kind = textify(data)
    assert kind == TEXT and text is data


def test_utf8_bom_is_dropped():
    assert textify(b"\xef\xbb\xbfx = 1\n") == (b"x = 1\n", TEXT)


@pytest.mark.parametrize("encoding", WIDE)
@pytest.mark.parametrize("bom", [True, False])
def test_wide_text_is_decoded(encoding, bom):
    body = "# réglages\nname = 'café'\n" * 50
    data = ("\ufeff" if bom else "").encode(encoding) + body.encode(encoding)
    assert textify(data) == (body.encode("utf-8"), encoding)


def test_unmarked_utf16_of_other_scripts_falls_back_to_binary_strings():
    """Mostly non-Latin UTF-16 without a BOM has too few NULs to tell from binary data: its
    ASCII runs (where tokens are) are still found, as UTF-16 strings of a binary."""
    token = fake_token()
    data = ("設定ファイル" * 40 + f"\ntoken={token}\n").encode("utf-16-le")
    text, kind = textify(data)
    assert token.encode() in text


def test_a_stray_nul_in_ascii_text_does_not_make_it_utf16():
    token = fake_token()
    data = b"\0" + f"a = 1\ntoken = {token}\n".encode() * 20
    text, kind = textify(data)
    assert kind == BINARY and len(text) == len(data) and token.encode() in text


@pytest.mark.parametrize("data", [
    struct.pack("<200H", *range(200)),  # little-endian 16-bit integers: a UTF-16 NUL pattern
    struct.pack("<100I", *range(100)),  # 32-bit integers: a UTF-32 NUL pattern
    bytes(range(256)) * 8,
    b"\0" * 4096,
])
def test_structured_binary_is_not_taken_for_wide_text(data):
    assert sniff(data) == BINARY


def test_binary_keeps_printable_text_in_place_and_lines():
    token = fake_token()
    data = b"\x7fELF\x02\x01\x01\0\0\0\nsecond\x00\x03line " + token.encode() + b"\x00\xff\nthird"
    text, kind = textify(data)
    assert kind == BINARY and len(text) == len(data) and text.count(b"\n") == data.count(b"\n")
    assert token.encode() in text and b"\x00" not in text and b"\xff" not in text


def test_binary_utf16le_runs_are_narrowed():
    token = fake_token()
    data = b"MZ\x90\x00\x03\x00\x00\x00" + f"ApiToken={token}".encode("utf-16-le") + b"\x00\x00\x01\x02"
    assert f"ApiToken={token}".encode() in printable(data)


def test_wide_text_cut_mid_file_is_scanned_as_strings():
    token = fake_token()
    data = f"token = {token}\n".encode("utf-16-le") * 3 + b"\x00"  # odd length: not valid UTF-16
    text, kind = textify(data)
    assert kind == BINARY and token.encode() in text


@pytest.mark.parametrize("encoding", WIDE + ["utf-16", "utf-32"])
def test_engine_reports_lines_and_columns_of_the_decoded_text(engine, encoding):
    token = fake_token()
    data = f"# ünïcödé\nx = 1\nTOKEN = '{token}'\n".encode(encoding)
    text, kind = textify(data)
    [f] = engine.scan(Chunk(path="settings.py", data=text, binary=kind == BINARY))
    assert (f.rule_id, f.line, f.column) == ("github-pat-classic", 3, 10)


def test_binary_is_scanned_with_provider_rules_only(engine):
    token = fake_token()
    data = b"\0\1\2" + f'password = "Zq8#kL2m!xW4vB7n"\napi = "{token}"\n'.encode()
    text, kind = textify(data)
    found = engine.scan(Chunk(path="app.bin", data=text, binary=True))
    assert [(f.rule_id, f.line) for f in found] == [("github-pat-classic", 2)]
    # the same text as a text file also gets the generic password rule
    assert len(engine.scan(Chunk(path="app.py", data=data[3:]))) == 2
