"""``--format github``: workflow-command syntax, escaping, masking."""

from __future__ import annotations

from scanner.models import CommitInfo, Finding, mask
from scanner.report import ReportContext, render
from scanner.report.github import escape_data, escape_property
from tests.conftest import IDENTITY

VALUE = b"AKIAZ5QW2XHC7RJK3MNB"


def finding(**kw) -> Finding:
    base = dict(
        rule_id="aws-access-key-id", provider="aws", description="AWS access key", severity="critical",
        category="cloud", path="src/app.py", line=3, column=7, end_column=27, masked=mask(VALUE.decode()),
        fingerprint=IDENTITY.fingerprint("aws-access-key-id", VALUE), secret_hash=IDENTITY.value_hash(VALUE), secret=VALUE,
    )
    base.update(kw)
    return Finding(**base)


def test_escaping_rules():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    # Data keeps ':' and ',' as they are: only properties use them as delimiters.
    assert escape_data("a:b,c") == "a:b,c"


def test_one_command_per_finding_masked():
    out = render("github", [finding(confidence="high"), finding(severity="medium", line=9)], ReportContext(command="diff"))
    leaked = VALUE.decode() in out
    assert not leaked, "the raw value leaked into the report"
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        "::error file=src/app.py,line=3,endLine=3,col=7,endColumn=27,title=leakstop%3A aws-access-key-id::"
    )
    assert lines[0].endswith(
        "AWS access key: AKIA…. Confidence: high. Rotate this credential: removing the line does not revoke it.")
    assert lines[1].startswith("::warning file=src/app.py,line=9,")


def test_odd_paths_and_commit_are_escaped():
    f = finding(path="dir,with:odd\nname%.py", key="db,pass",
                commit=CommitInfo("a" * 40, "Ann, the 100% dev", "ann@example.com", "2024-01-02T03:04:05+00:00"))
    line = render("github", [f], ReportContext(command="diff"))
    assert line.count("\n") == 1  # a newline in a path must not split the command
    assert "file=dir%2Cwith%3Aodd%0Aname%25.py," in line
    msg = line.split("::", 2)[2]
    assert msg == ("AWS access key: AKIA… assigned to db,pass (added in commit aaaaaaaaaaaa by Ann, the 100%25 dev "
                   "on 2024-01-02T03:04:05+00:00). Confidence: medium. Rotate this credential: removing the line does not "
                   "revoke it.\n")


def test_low_confidence_is_a_notice_whatever_the_severity():
    # Shown only with --min-confidence low: it must not look like a blocking error on the diff.
    line = render("github", [finding(confidence="low")], ReportContext(command="diff"))
    assert line.startswith("::notice file=src/app.py,") and "Confidence: low." in line


def test_no_findings_no_output():
    assert render("github", [], ReportContext(command="diff")) == ""
