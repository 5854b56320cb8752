"""The static backtracking check: what it rejects, and that every rule and every regex the
scanner runs on scanned text passes it."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import scanner
from scanner.errors import LeakstopError
from scanner.lazyregex import LazyPattern
from scanner.redos import exponential_hazard, hazard, polynomial_hazard
from scanner.rules import parse_rule

EXPONENTIAL = [r"(?P<secret>(a+)+$)", r"(\w+\s?)*x", r"(a*)*b", r"(?:\d+\.?)+$", r"(?:\w|\d\d)+x", r"((?:a|b)+c?)+d"]
QUADRATIC = [r"\w+\s*\w+x", r"-\w*b\w*\s", r"[ \t]*:?[ \t]*x", r".*(?P<secret>\w+)!"]
SAFE = [r"ghp_[A-Za-z0-9]{36}", r"(?:[a-z0-9]+-)*[a-z0-9]+", r"(?:abc|abd)+", r"(?:[^-\"']|-[^-\"']){12,}?END",
        r"(?:[A-Za-z0-9+/]{4}){3,}", r"(a|a)*", r"(?i)(?:key|KEY)+", r"[\w.-]{0,40}(?:password)\s*[:=]\s*(?P<secret>\S+)",
        r"[ \t]*(?::[ \t]*string[ \t]*|string[ \t]*)?=", r"\s*(?:[\"']\s*)?(?P<secret>x)"]


@pytest.mark.parametrize("regex", EXPONENTIAL)
def test_exponential_shapes_are_found(regex):
    assert exponential_hazard(regex)


@pytest.mark.parametrize("regex", QUADRATIC)
def test_quadratic_shapes_are_found(regex):
    assert polynomial_hazard(regex) and not exponential_hazard(regex)


@pytest.mark.parametrize("regex", SAFE)
def test_unambiguous_repeats_pass(regex):
    assert hazard(regex) is None


def _raw(regex: str) -> dict:
    return {"id": "slow-rule", "name": "n", "provider": "p", "regex": regex, "keywords": ["a"], "severity": "low",
            "rotation": "r", "examples": ["a"], "negative_examples": ["b"]}


def test_a_rule_that_backtracks_exponentially_is_rejected_when_loaded():
    # It used to pass `rules check` and then take forever on "aaaa…!" in the confirm step.
    with pytest.raises(LeakstopError, match=r"rule 'slow-rule': 'regex' can backtrack catastrophically: nested repeats"):
        parse_rule(_raw(r"(?P<secret>(a+)+$)"), "config.yaml")


def test_an_inline_rule_that_backtracks_is_a_one_line_error(run_cli, tmp_path):
    (tmp_path / ".leakstop.yaml").write_text(
        "rules:\n  - id: slow-rule\n    name: n\n    provider: p\n    regex: '(?P<secret>(a+)+$)'\n    keywords: [a]\n"
        "    severity: low\n    rotation: r\n    examples: [a]\n    negative_examples: [b]\n")
    (tmp_path / "f.txt").write_text("a" * 40 + "!\n")
    r = run_cli("scan", "f.txt", cwd=tmp_path)
    assert r.code == 2 and "can backtrack catastrophically" in r.err and len(r.err.strip().splitlines()) == 1


def test_every_built_in_rule_is_safe():
    from scanner.config import Config
    from scanner.engine import load_ruleset

    assert not [(r.id, hazard(r.regex)) for r in load_ruleset(Config()) if hazard(r.regex)]


# Regexes that look quadratic to the check but cannot fail after the repeats it names.
EXEMPT = {
    # anchored at the line start; the value group [^\n]* after the blanks always matches
    "scanner.detectors.config._INI",
    # anchored at both ends and run on one URI password (no blanks, no newline): each .* reaches the end
    "scanner.detectors.keys._PLACEHOLDER_PASSWORDS",
    # remediation, on one line of a file it rewrites; anchored, and the last group reaches the end
    "scanner.remediate.rewriters._DOCKER_INSTR",
    "scanner.remediate.rewriters._ENV_LINE",
}


def _module_regexes():
    for info in pkgutil.walk_packages(scanner.__path__, "scanner."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            items = value if isinstance(value, (list, tuple)) else [value]
            for i, item in enumerate(items):
                for rx in item if isinstance(item, tuple) else (item,):
                    if isinstance(rx, (re.Pattern, LazyPattern)):
                        yield f"{info.name}.{name}", rx


def test_the_scanners_own_regexes_are_safe():
    found = list(_module_regexes())
    assert len(found) > 50
    bad = sorted({name for name, rx in found if name not in EXEMPT and hazard(rx.pattern)})
    assert not bad


@pytest.mark.parametrize("regex", [r"[ \t]*=x", r"(?:[\"']?[ \t]*(?::[ \t]*s)?(?:[:?]{0,3}=>?|:)[ \t]*|>\s*|'\s*,)(?P<secret>[ab]{3})",
                                   r"\s+x", r"(?i)(?:a*|b)c", r"(?:\w+|-)y"])
def test_search_probe_finds_a_match_exactly_when_the_regex_does(regex):
    import random

    from scanner.redos import search_probe

    probe = search_probe(regex.encode())
    if probe is None:
        assert regex == r"(?i)(?:a*|b)c"  # an alternative that may match nothing: left as it is
        return
    rng = random.Random(regex)
    for _ in range(3000):
        text = "".join(rng.choice(" \t=x:>'\",abcyA-sz\n") for _ in range(rng.randint(0, 12))).encode()
        assert bool(probe.search(text)) == bool(re.search(regex.encode(), text)), text
