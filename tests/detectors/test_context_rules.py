"""Context rules in the rule schema: validated, checked against their examples as the right file
kind, never matched by the plain regex pass, and disabled like any other rule."""

from __future__ import annotations

import pytest

from scanner.config import Config
from scanner.engine import Engine
from scanner.errors import LeakstopError
from scanner.models import Chunk
from scanner.rulecheck import check_rules
from scanner.rules import load_rules, parse_rule
from tests.detectors.fixture_eval import CONTEXT_RULES

PW = "Wq4Zr8Lp2Kv9Tx6M"


def test_context_pack_checks_clean():
    rules = load_rules([CONTEXT_RULES])
    assert {r.detector for r in rules} >= {"dockerfile", "envfile", "config", "kubernetes", "terraform", "compose"}
    assert [str(p) for p in check_rules(rules)] == []


def test_unknown_detector_is_rejected():
    raw = {"id": "x-y", "name": "n", "provider": "p", "regex": "(?P<secret>.+)", "keywords": ["k"], "severity": "high",
           "rotation": "r", "examples": ["a"], "negative_examples": ["b"], "detector": "nope"}
    with pytest.raises(LeakstopError, match="unknown detector 'nope'"):
        parse_rule(raw, "t.yaml")


def test_plain_pass_never_reports_context_rules():
    rules = load_rules([CONTEXT_RULES])
    for backend in ("keywords", "hyperscan"):
        try:
            eng = Engine(Config(), rules=rules, backend=backend)
        except (ImportError, LeakstopError):
            continue
        # Same content, a file name no detector claims: nothing.
        assert eng.scan(Chunk(path="notes.txt", data=f"DB_PASSWORD={PW}\nENV API_TOKEN={PW}\n".encode())) == []
        assert len(eng.scan(Chunk(path=".env", data=f"DB_PASSWORD={PW}\n".encode()))) == 1


def test_disabled_context_rule():
    rules = [r for r in load_rules([CONTEXT_RULES]) if r.id != "env-file-credential"]
    eng = Engine(Config(), rules=rules, backend="keywords")
    assert eng.scan(Chunk(path=".env", data=f"DB_PASSWORD={PW}\n".encode())) == []


def test_specific_rule_wins_over_context_rule():
    aws = CONTEXT_RULES.parent / "aws.yaml"
    eng = Engine(Config(), rules=load_rules([aws, CONTEXT_RULES]), backend="keywords")
    findings = eng.scan(Chunk(path=".env", data=b"AWS_ACCESS_KEY=AKIAZ5QW2XHC7RJK3MNB\n"))
    assert [f.rule_id for f in findings] == ["aws-access-key-id"]


def test_findings_name_the_key():
    eng = Engine(Config(), rules=load_rules([CONTEXT_RULES]), backend="keywords")
    (f,) = eng.scan(Chunk(path="Dockerfile", data=f"FROM a\nENV DB_PASSWORD={PW}\n".encode()))
    assert f.key == "DB_PASSWORD" and f.to_dict()["key"] == "DB_PASSWORD" and PW not in str(f.to_dict())
