"""Encoded values: base64, base64url, hex and percent-encoded tokens are decoded (to depth 2) and
found, each finding on the encoded run and saying how it was decoded."""

from __future__ import annotations

import base64
import secrets
from urllib.parse import quote

import pytest

from scanner.config import Config
from scanner.engine import Engine, encoded
from scanner.models import Chunk
from tests.conftest import IDENTITY
from tests.fakes import aws_key_id


def fake_aws_key() -> str:
    return aws_key_id()


@pytest.fixture(scope="module")
def engine():
    return Engine(Config(), identity=IDENTITY)


def scan(engine, text: str, **kw):
    return engine.scan(Chunk(path="app.py", data=text.encode(), **kw))


def only_decoded(found):
    return [f for f in found if "decoded" in f.extra]


@pytest.mark.parametrize("encode, how", [
    (lambda v: base64.b64encode(v.encode()).decode(), "base64"),
    (lambda v: base64.urlsafe_b64encode(("id=" + v + "?>").encode()).decode().rstrip("="), "base64"),
    (lambda v: v.encode().hex(), "hex"),
    (lambda v: quote(v, safe=""), "percent"),
])
def test_each_encoding_is_found_on_the_encoded_run(engine, encode, how):
    key = fake_aws_key()
    blob = encode(f"creds {key} here" if how != "percent" else key)
    if how == "percent":
        blob = "".join(f"%{b:02X}" for b in key.encode())
    text = f"import codecs\nDATA = \"{blob}\"\n"
    found = only_decoded(scan(engine, text))
    assert [(f.rule_id, f.line, f.column, f.end_column, f.extra["decoded"]) for f in found] == [
        ("aws-access-key-id", 2, 9, 9 + len(blob), how)]
    assert found[0].fingerprint == scan(engine, f"k = '{key}'\n")[0].fingerprint  # the decoded value's identity
    assert found[0].masked == "AKIA…"


def test_two_levels_are_decoded_and_not_three(engine):
    key = fake_aws_key()
    twice = base64.b64encode(base64.b64encode(f"key {key} !".encode())).decode()
    assert [f.extra["decoded"] for f in only_decoded(scan(engine, f'x = "{twice}"\n'))] == ["base64+base64"]
    thrice = base64.b64encode(twice.encode()).decode()
    assert only_decoded(scan(engine, f'x = "{thrice}"\n')) == []


def test_binary_decodings_and_code_words_are_not_decoded():
    lock = '"integrity": "sha512-' + base64.b64encode(secrets.token_bytes(64)).decode() + '"'
    words = "ActiveRecord/ConnectionAdapters/AbstractAdapter/DatabaseStatements test_should_return_the_value_when_set"
    hexdigest = secrets.token_hex(32)
    assert list(encoded.runs(f"{lock}\n{words}\n{hexdigest}\n".encode())) == []


def test_only_added_lines_count_in_a_diff(engine):
    blob = base64.b64encode(f"creds {fake_aws_key()} here".encode()).decode()
    text = f"a = 1\nDATA = \"{blob}\"\n"
    assert only_decoded(scan(engine, text, lines=frozenset({1}))) == []
    assert len(only_decoded(scan(engine, text, lines=frozenset({2})))) == 1


def test_run_finding_is_linear_in_the_input():
    """The percent pass must not rescan: a file full of % format strings costs one pass (a
    regex over every position took seconds here)."""
    from tests.conftest import cpu_deadline

    text = ("printf('%s %d %5.2f', a, b, c);\n" * 20000).encode()
    with cpu_deadline(2.0):
        assert list(encoded.runs(text)) == []


def test_scan_reports_the_decoding(run_cli, tmp_path):
    key = fake_aws_key()
    (tmp_path / "k8s.yaml").write_text(f"data:\n  blob: {base64.b64encode(f'aws {key} x'.encode()).decode()}\n")
    r = run_cli("scan", "-f", "json", str(tmp_path))
    import json

    found = [f for f in json.loads(r.out)["findings"] if f.get("decoded")]
    assert found and found[0]["decoded"] == "base64" and key not in r.out + r.err


def test_base64_without_a_digit_is_decoded(run_cli, tmp_path):
    """Base64 of upper-case text often has no digit: a run of letters that spells no words is
    decoded too (it was skipped as an identifier, and the key in it missed, in 1 run of 8)."""
    key = fake_aws_key()
    while any(c.isdigit() for c in base64.b64encode(f"aws {key} x".encode()).decode()):
        key = fake_aws_key()
    (tmp_path / "k8s.yaml").write_text(f"data:\n  blob: {base64.b64encode(f'aws {key} x'.encode()).decode()}\n")
    r = run_cli("scan", "-f", "json", str(tmp_path))
    import json

    found = [f for f in json.loads(r.out)["findings"] if f.get("decoded")]
    assert [f["rule_id"] for f in found] == ["aws-access-key-id"] and key not in r.out + r.err
