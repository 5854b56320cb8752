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
RULES = [r for r in load_rules(rule_files()) if r.provider == "aws"]

SAMPLE = {
    "app/settings.py": "DEBUG = True\nAWS_KEY = 'AKIAZ5QW2XHC7RJK3MNB'\n",
    "deploy/prod env.sh": "export AWS_ACCESS_KEY_ID=ASIAY7Q3WVHN4K2PDLTE\n",
}


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
    assert "Z5QW2XHC7RJK3MNB" not in got and "Y7Q3WVHN4K2PDLTE" not in got


def test_sarif_is_schema_valid():
    doc = json.loads(render("sarif", findings(), ctx()))
    validate_sarif(doc)
    res = doc["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in res] == [
        "app/settings.py", "deploy/prod%20env.sh"]


def test_empty_sarif_is_schema_valid():
    validate_sarif(json.loads(render("sarif", [], ctx())))


def test_text_report_escapes_control_characters_in_paths():
    engine = Engine(Config(), rules=RULES, backend="keywords", identity=IDENTITY)
    fs = engine.scan(Chunk(path="odd\nname.py", data=b"k = 'AKIAZ5QW2XHC7RJK3MNB'\n"))
    out = render("text", fs, ctx())
    assert out.count("\n") == 1 and out.startswith("odd\\nname.py:1:6:")
