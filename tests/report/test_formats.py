"""The CI formats users' platforms read natively: GitLab secret detection, JUnit XML, CSV; and the
text report's terminal form (grouped, coloured)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest

from scanner.models import CommitInfo
from scanner.report import REPORTERS, ReportContext, formats_for, render
from tests.conftest import GITLAB_SCHEMA
from tests.report.test_reports import RULES, VALUES, findings

SECRETS = VALUES  # the sample values' hidden parts


def aws_findings():
    """The two AWS key ids of the sample (the others are passwords at medium and low confidence)."""
    return [f for f in findings() if f.rule_id == "aws-access-key-id"]


def ctx(command: str = "scan", color: bool = False) -> ReportContext:
    t = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    return ReportContext(command=command, rules=RULES, stats={"files_scanned": 2}, color=color, started=t, finished=t)


def no_value(text: str) -> None:
    assert not any(s in text for s in SECRETS)


def test_gitlab_report_is_valid_against_gitlabs_schema_and_stable():
    if not GITLAB_SCHEMA.is_file():
        pytest.skip(f"{GITLAB_SCHEMA} is absent (../shared is not beside the project)")
    import jsonschema

    text = render("gitlab", aws_findings(), ctx())
    doc = json.loads(text)
    jsonschema.Draft7Validator(json.loads(GITLAB_SCHEMA.read_text())).validate(doc)
    assert doc["scan"]["type"] == "secret_detection" and doc["scan"]["start_time"] == "2026-01-02T03:04:05"
    vulns = doc["vulnerabilities"]
    assert [v["location"]["file"] for v in vulns] == ["app/settings.py", "deploy/prod env.sh"]
    assert all(v["severity"] == "Critical" and v["solution"].startswith("Rotate") for v in vulns)
    assert vulns[0]["location"]["commit"]["sha"] == "0000000"  # no commit: GitLab's documented stand-in
    # Ids are derived, not random: the same finding keeps its id in the next pipeline.
    assert [v["id"] for v in vulns] == [v["id"] for v in json.loads(render("gitlab", aws_findings(), ctx()))["vulnerabilities"]]
    assert len({v["id"] for v in vulns}) == 2
    no_value(text)


def test_gitlab_report_names_the_commit_of_history_findings():
    from dataclasses import replace

    f = replace(aws_findings()[0], commit=CommitInfo("a" * 40, "Dev", "dev@example.com", "2026-01-01T00:00:00+00:00"))
    v = json.loads(render("gitlab", [f], ctx("history")))["vulnerabilities"][0]
    assert v["location"]["commit"] == {"sha": "a" * 40, "author": "Dev", "date": "2026-01-01T00:00:00+00:00"}


def test_junit_has_one_failing_case_per_finding_and_parses():
    text = render("junit", aws_findings(), ctx())
    root = ET.fromstring(text)
    suite = root.find("testsuite")
    assert suite.get("failures") == "2" and len(suite.findall("testcase/failure")) == 2
    assert suite.findall("testcase")[1].get("classname") == "deploy/prod env.sh"
    no_value(text)


def test_junit_clean_run_is_one_passing_case():
    suite = ET.fromstring(render("junit", [], ctx())).find("testsuite")
    assert suite.get("failures") == "0" and suite.findall("testcase/failure") == [] and len(suite) == 1


def test_junit_survives_control_characters_in_names():
    from dataclasses import replace

    f = replace(aws_findings()[0], path="odd\x01name\x1b.py")
    root = ET.fromstring(render("junit", [f], ctx()))  # XML 1.0 cannot hold \x01 even escaped
    assert root.find("testsuite/testcase").get("classname") == "odd\\x01name\\x1b.py"


def test_csv_has_a_header_and_a_row_per_finding():
    text = render("csv", aws_findings(), ctx())
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["rule_id", "provider", "severity", "confidence", "path"] and len(rows) == 3
    assert rows[2][4] == "deploy/prod env.sh" and rows[1][7] == "AKIA…"
    no_value(text)


def test_csv_cells_never_start_a_formula():
    from dataclasses import replace

    f = replace(aws_findings()[0], path="=HYPERLINK(\"http://x\")", key="+cmd")
    row = list(csv.reader(io.StringIO(render("csv", [f], ctx()))))[1]
    assert row[4].startswith("'=") and row[8] == "'+cmd"


def test_text_is_one_line_per_finding_in_a_pipe_and_grouped_in_colour_on_a_terminal():
    plain = render("text", aws_findings(), ctx())
    assert "\x1b[" not in plain and plain.splitlines()[0].startswith("app/settings.py:2:12: aws-access-key-id")
    coloured = render("text", aws_findings(), ctx(color=True))
    lines = coloured.splitlines()
    assert "\x1b[" in coloured and lines[0] == "\x1b[1mapp/settings.py\x1b[0m" and lines[1].startswith("  \x1b[2m2:12")
    no_value(coloured)


def test_text_escapes_terminal_controls_from_scanned_names():
    from dataclasses import replace

    f = replace(aws_findings()[0], key="k\x1b]0;pwned\x07")
    for color in (False, True):
        assert "\x1b]0" not in render("text", [f], ctx(color=color))


def test_every_command_offers_what_the_registry_lists():
    assert set(formats_for("scan")) == set(REPORTERS) - {"html"}
    assert "html" in formats_for("history") and "gitlab" in formats_for("diff")


@pytest.mark.parametrize("fmt", ["gitlab", "junit", "csv"])
def test_every_format_states_each_findings_confidence(fmt):
    found = findings()
    assert sorted(f.confidence for f in found) == ["high", "high", "low", "medium"]
    text = render(fmt, found, ctx())
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["confidence"] for r in rows] == [f.confidence for f in found]
    elif fmt == "junit":
        bodies = [c.text for c in ET.fromstring(text).iter("failure")]
        assert [b.splitlines()[-1] for b in bodies] == [f"confidence: {f.confidence}" for f in found]
    else:
        descriptions = [v["description"] for v in json.loads(text)["vulnerabilities"]]
        assert [d.endswith(f"(confidence: {f.confidence})") for d, f in zip(descriptions, found)] == [True] * 4
    no_value(text)
