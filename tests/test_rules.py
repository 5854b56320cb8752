"""Every rule in rules/ is validated against its own examples, and the rule schema rejects bad data."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.errors import LeakstopError
from scanner.rulecheck import example_hits, hyperscan_problem
from scanner.rules import load_rules, parse_rule, rule_files

ALL_RULES = load_rules(rule_files())
MIN_RULES, MIN_PROVIDERS = 700, 450  # issue 10's floor; main has more


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_rule_examples(rule):
    assert rule.examples and rule.negative_examples, "every rule ships examples and negative examples"
    for i, ex in enumerate(rule.examples, 1):
        assert example_hits(rule, ex), f"{rule.id}: example {i} not detected"
    for i, ex in enumerate(rule.negative_examples, 1):
        assert not example_hits(rule, ex), f"{rule.id}: negative example {i} detected"
    assert hyperscan_problem(rule) is None


def test_rule_pack_size():
    providers = {r.provider for r in ALL_RULES}
    assert len(ALL_RULES) >= MIN_RULES, f"{len(ALL_RULES)} rules"
    assert len(providers) >= MIN_PROVIDERS, f"{len(providers)} providers"


def test_every_rule_has_rotation_guidance():
    assert all(len(r.rotation) > 20 for r in ALL_RULES)


GOOD = {
    "id": "demo-token",
    "name": "Demo token",
    "provider": "demo",
    "regex": r"\b(?P<secret>dmo_[a-z0-9]{20})\b",
    "keywords": ["dmo_"],
    "severity": "high",
    "rotation": "Revoke it in the demo console.",
    "examples": ["t = dmo_k3j4h5g6f7d8s9a0q1w2"],
    "negative_examples": ["t = dmo_short"],
}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"regex": r"(?P<secret>a(b"}, "does not compile"),
        ({"regex": r"dmo_[a-z]+"}, "named group"),
        ({"regex": r"(?<=x)(?P<secret>dmo_[a-z]+)"}, "look-arounds"),
        # \b after a class holding - / + / =: a value ending in one of them would be missed
        ({"regex": r"\b(?P<secret>dmo_[a-z0-9_-]{20})\b"}, "a value ending in - is missed"),
        ({"regex": r"key=(?P<secret>[A-Za-z0-9+/=]{40})\b"}, "a value ending in + / = is missed"),
        ({"severity": "urgent"}, "'severity' must be one of"),
        ({"id": "Demo Token"}, "kebab-case"),
        ({"examples": []}, "missing required key 'examples'"),
        ({"min_entropy": 12}, "min_entropy"),
        ({"category": "misc"}, "'category' must be one of"),
    ],
)
def test_schema_errors(change, message):
    with pytest.raises(LeakstopError) as exc:
        parse_rule({**GOOD, **change}, "pack.yaml")
    assert message in str(exc.value)
    assert str(exc.value).startswith("pack.yaml: rule '")


def test_duplicate_ids_rejected(tmp_path: Path):
    import yaml

    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(yaml.safe_dump({"rules": [GOOD]}))
    with pytest.raises(LeakstopError, match="already defined"):
        load_rules([tmp_path / "a.yaml", tmp_path / "b.yaml"])


def test_rules_check_cli(run_cli, tmp_path: Path):
    import yaml

    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"rules": [GOOD]}))
    r = run_cli("rules", "check", str(good))
    assert r.code == 0, r.err
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"rules": [{**GOOD, "negative_examples": ["t = dmo_k3j4h5g6f7d8s9a0q1w9"]}]}))
    r = run_cli("rules", "check", str(bad))
    assert r.code == 1
    assert "negative example 1" in r.out and "dmo_k3j4" not in r.out  # masked
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [\n")
    r = run_cli("rules", "check", str(broken))
    assert r.code == 2 and "invalid YAML" in r.err and "Traceback" not in r.err


def test_a_prefilter_must_match_inside_each_match_not_only_somewhere():
    """The engine confirms a located rule only near where its prefilter matched: an example
    whose prefilter match lies outside the rule's match is a problem (``demo`` before the value
    satisfies a search of the whole example, not one of the match)."""
    from scanner.rulecheck import check_rules
    from scanner.rules import parse_rule

    def problems(prefilter: str) -> list[str]:
        rule = parse_rule({**GOOD, "examples": ["demo: t = dmo_k3j4h5g6f7d8s9a0q1w2"], "prefilter": prefilter}, "t.yaml")
        return [p.message for p in check_rules([rule])]

    assert problems(r"dmo_[a-z0-9]{4}") == []
    assert problems(r"demo") == ["example 1 (demo…) is not matched by the prefilter"]


def test_rules_list_cli(run_cli):
    r = run_cli("rules", "list")
    assert r.code == 0
    assert "aws-access-key-id\taws\t" in r.out
    assert len(r.out.splitlines()) == len(ALL_RULES)


@pytest.mark.parametrize("regex, tail", [
    (r"(?i)(?P<key>pass\w*)\s*=\s*(?P<secret>\w{8,})", r"\s*=\s*(?P<secret>\w{8,})"),
    (r"(?P<key>a(?:b|c))(?:=|:)(?P<secret>[x(]+)\b", r"(?:=|:)(?P<secret>[x(]+)"),
    (r"(?P<key>k)=(?P<secret>v+)|other", None),  # top-level alternative: not in every match
    (r"(?:(?P<key>k)=)?(?P<secret>v+)", None),  # key nested in an optional group
    (r"(?P<key>['\"])=(?P<secret>v+)\1", None),  # back-reference
    (r"(?P<secret>v+)=(?P<key>k)", None),  # key after the value
])
def test_tail_text(regex, tail):
    from scanner.rules import tail_text

    assert tail_text(regex) == tail


def test_value_probe_prefers_the_assignment_over_the_bare_value_shape():
    rule = next(r for r in load_rules(rule_files()) if r.id == "ibm-cloud-iam-api-key")
    long_name = b"x" * 44  # the value's shape alone, with no assignment before it
    assert rule.value_probe.search(long_name) is None
    assert rule.value_probe.search(b"ibm_api_key = '" + b"A1b2" * 11 + b"'") is not None


GLUED = [r for r in ALL_RULES if r.regex.startswith(("(?:\\b|_)", "(?i)(?:\\b|_)"))]


@pytest.mark.parametrize("regex, expected", [
    (r"\b(?P<secret>ghp_[A-Za-z0-9]{36})\b", r"(?:\b|_)(?P<secret>ghp_[A-Za-z0-9]{36})\b"),
    (r"(?i)\b(?P<secret>(?:AKIA|A3T[A-Z0-9])[A-Z2-7]{16})\b", r"(?i)(?:\b|_)(?P<secret>(?:AKIA|A3T[A-Z0-9])[A-Z2-7]{16})\b"),
    (r"\b(?P<secret>amzn\.mws\.[0-9a-f]{8})", r"(?:\b|_)(?P<secret>amzn\.mws\.[0-9a-f]{8})"),
    (r"\b(?P<secret>[A-Za-z0-9]{76}AZDO)\b", None),  # no literal prefix to anchor on
    (r"\b(?P<secret>A{20,24}[a-z]{30})", None),  # the leading character repeats
    (r"\b(?P<secret>(?:a|bc)_[a-z]{30})", None),  # one alternative's prefix is one character
    (r"(?P<key>token)=\b(?P<secret>ghp_[a-z]{36})", None),  # not at the start
])
def test_glue_tolerant(regex, expected):
    from scanner.rules import glue_tolerant

    assert glue_tolerant(regex) == (expected or regex)


def test_most_provider_token_rules_are_glue_tolerant():
    assert len(GLUED) >= 150


@pytest.mark.parametrize("rule", GLUED, ids=lambda r: r.id)
def test_token_glued_to_an_identifier_is_found(rule):
    """Every prefix-anchored token rule finds its examples' tokens glued after an identifier's
    "_" (TOKEN_ghp_…=abc), not after a letter (xghp_…, another word)."""
    for ex in rule.examples:
        m = rule.pattern.search(ex.encode())
        start = m.start("secret")
        glued = ex[:start] + "MY_TOKEN_" + ex[start:]
        assert example_hits(rule, glued), f"{rule.id}: glued example not detected"
        if not ex[:start].endswith("_"):  # the example itself may already be glued
            letter = (ex[:start] + "MYTOKENx" + ex[start:]).encode()
            starts = {m.start("secret") for m in rule.pattern.finditer(letter)}
            assert start + len("MYTOKENx") not in starts, f"{rule.id}: letter-glued detected"


def test_glue_tolerant_rules_compile_exactly_in_hyperscan():
    """The widened boundary costs no exactness: every such rule compiles without prefilter mode."""
    hs = pytest.importorskip("hyperscan")
    from scanner.engine.backends import _compile_db, to_hyperscan

    flags = hs.HS_FLAG_SINGLEMATCH | hs.HS_FLAG_ALLOWEMPTY
    _compile_db(hs, [to_hyperscan(r) for r in GLUED], [flags] * len(GLUED))
