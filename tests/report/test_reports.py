"""Reporters: golden files for each format, SARIF validated against the official 2.1.0 schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.config import Config
from scanner.engine import Engine
from scanner.models import Chunk
from scanner.report import ReportContext, render
from scanner.rules import load_rules, rule_files
from tests.conftest import IDENTITY, SHARED

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"
RULES = [r for r in load_rules(rule_files()) if r.provider == "aws" or r.id == "generic-password-quoted"]

# One finding at each confidence: a provider token (high), a random password (medium), a fixture
# password in a test (low; reports show every finding they are given).
SAMPLE = {
    "app/settings.py": "DEBUG = True\nAWS_KEY = 'AKIAZ5QW2XHC7RJK3MNB'\n",
    "deploy/prod env.sh": "export AWS_ACCESS_KEY_ID=ASIAY7Q3WVHN4K2PDLTE\n",
    "app/db.py": "password = 'Rk8qLm2Zx9pWv4Ty'\n",
    "tests/test_db.py": "password = 'supersecret1'\n",
}
VALUES = ("Z5QW2XHC7RJK3MNB", "Y7Q3WVHN4K2PDLTE", "Rk8qLm2Zx9pWv4Ty", "supersecret1")


def findings():
    engine = Engine(Config(), rules=RULES, backend="keywords", identity=IDENTITY)
    out = []
    for path, text in SAMPLE.items():
        out.extend(engine.scan(Chunk(path=path, data=text.encode())))
    return out


def ctx():
    return ReportContext(command="scan", rules=RULES, stats={"files_scanned": 2},
                         identity={"source": IDENTITY.source, "key_id": IDENTITY.key_id})


def validate_sarif(doc: dict) -> None:
    if not SCHEMA.is_file():
        pytest.skip(f"{SCHEMA} is absent (../shared is not beside the project)")
    import jsonschema

    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))


@pytest.mark.parametrize("fmt, name", [("json", "scan.json"), ("jsonl", "scan.jsonl"), ("sarif", "scan.sarif"), ("text", "scan.txt")])
def test_golden(fmt, name, request):
    got = render(fmt, findings(), ctx())
    golden = GOLDEN / name
    if request.config.getoption("--update-golden", default=False):
        golden.write_text(got)
    assert got == golden.read_text(), f"{name} differs from the golden file (pytest --update-golden to refresh)"
    assert not any(v in got for v in VALUES)


def test_golden_findings_cover_every_confidence():
    assert sorted(f.confidence for f in findings()) == ["high", "high", "low", "medium"]


@pytest.mark.parametrize("fmt", ["json", "jsonl", "sarif", "text", "github", "html"])
def test_every_format_carries_the_confidence(fmt):
    got = render(fmt, findings(), ctx())
    for level in ("high", "medium", "low"):
        assert level in got, (fmt, level)
    if fmt in ("json", "sarif"):
        assert "confidence_signals" in got and "token_format" in got


def test_sarif_is_schema_valid():
    doc = json.loads(render("sarif", findings(), ctx()))
    validate_sarif(doc)
    res = doc["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in res] == [
        "app/settings.py", "deploy/prod%20env.sh", "app/db.py", "tests/test_db.py"]
    assert [(r["properties"]["confidence"], r["rank"]) for r in res] == [
        ("high", 90.0), ("high", 90.0), ("medium", 60.0), ("low", 20.0)]


def test_empty_sarif_is_schema_valid():
    validate_sarif(json.loads(render("sarif", [], ctx())))


def test_text_report_escapes_control_characters_in_paths():
    engine = Engine(Config(), rules=RULES, backend="keywords", identity=IDENTITY)
    fs = engine.scan(Chunk(path="odd\nname.py", data=b"k = 'AKIAZ5QW2XHC7RJK3MNB'\n"))
    out = render("text", fs, ctx())
    assert out.count("\n") == 1 and out.startswith("odd\\nname.py:1:6:")
