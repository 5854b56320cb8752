"""The registry is what --verify and --list-endpoints read: every entry must serve real rules and
declare plain host names; production code has no way to point a verifier elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

from scanner.rules import load_rules, rule_files
from scanner.verify.registry import VERIFIERS

HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")
VERIFY = Path(__file__).resolve().parents[2] / "scanner" / "verify"


def test_every_verifier_serves_built_in_rules():
    ids = {r.id for r in load_rules(rule_files())}
    for name, v in VERIFIERS.items():
        assert v.name == name
        missing = set(v.rule_ids + v.companions) - ids
        assert not missing, (name, missing)


def test_a_rule_has_at_most_one_verifier():
    seen: dict[str, str] = {}
    for name, v in VERIFIERS.items():
        for r in v.rule_ids:
            assert r not in seen, (r, seen.get(r), name)
            seen[r] = name


def test_hosts_are_fixed_host_names_and_requests_name_one():
    for name, v in VERIFIERS.items():
        if v.own_host:  # a database URI: the server it names, nothing else
            assert not v.hosts and v.request.startswith("connect to the server the URI names"), name
            continue
        assert v.hosts and all(HOST.fullmatch(h.removeprefix("*.")) for h in v.hosts), name
        assert v.request.split()[0] in ("GET", "POST") and "https://" in v.request, name


def test_only_the_aws_verifier_reads_endpoint_settings():
    """No verifier reads the environment or a setting that could move its endpoint; AWS reads
    boto3's standard variables through its context, and only to allow loopback or listed hosts."""
    for path in VERIFY.rglob("*.py"):
        text = path.read_text()
        assert "getenv" not in text and "os.environ[" not in text and "os.environ.get" not in text, path
        if path.name != "aws.py":
            assert "ctx.environ" not in text, path


def test_docs_table_is_the_registry():
    from scanner.verify.registry import markdown_table

    doc = (Path(__file__).resolve().parents[2] / "docs" / "verification.md").read_text()
    table = doc.split("<!-- verifiers:start -->\n", 1)[1].split("<!-- verifiers:end -->", 1)[0]
    assert table == markdown_table(), "regenerate docs/verification.md's table from markdown_table()"


def test_readme_counts_are_the_registrys():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    m = re.search(r"(\d+) verifiers over (\d+) providers", readme)
    assert m and (int(m.group(1)), int(m.group(2))) == (len(VERIFIERS), len({v.provider for v in VERIFIERS.values()}))
