"""Validate rules against their own examples (``leakstop rules check``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import re

from scanner.config import Config
from scanner.engine.backends import to_hyperscan
from scanner.models import Chunk, mask
from scanner.rules import Rule


@dataclass(frozen=True)
class Problem:
    rule_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.message}"


def example_hits(rule: Rule, text: str) -> bool:
    """Does the full pipeline (keyword prefilter, regex, entropy, filters) report ``rule`` here?"""
    from scanner.engine import Engine

    from scanner.engine.confidence import judge

    engine = Engine(Config(), rules=[rule], backend="keywords")
    # Context rules are checked as e.g. a Dockerfile; others in a plain file whose name is not
    # one of the example/test names the confidence signals read as fixtures.
    path = rule.example_path or "snippet.txt"
    # At the default --min-confidence: an example is what a user would be shown.
    reported, _ = judge(engine.scan(Chunk(path=path, data=text.encode())))
    return any(f.rule_id == rule.id for f in reported)


# One slow pattern makes every cold start (and every rule-set change) slow for every user.
MAX_COMPILE_SECONDS = 2.0  # generous: a loaded 2-core CI machine must not flake; runaway patterns take minutes


def hyperscan_problem(rule: Rule) -> str | None:
    """Does the rule's multi-pattern expression compile in Hyperscan, quickly?"""
    try:
        import hyperscan as hs
    except ImportError:
        return None
    import time

    from scanner.engine.backends import _compile_db, to_hyperscan

    base = hs.HS_FLAG_SINGLEMATCH | hs.HS_FLAG_ALLOWEMPTY
    for extra in (0, hs.HS_FLAG_PREFILTER):
        start = time.perf_counter()
        try:
            _compile_db(hs, [to_hyperscan(rule)], [base | extra])
        except hs.error as exc:
            err = str(exc)
            continue
        took = time.perf_counter() - start
        if took > MAX_COMPILE_SECONDS:
            return f"Hyperscan needs {took:.1f} s to compile the regex: add a simpler 'prefilter:' pattern"
        return None
    return f"Hyperscan cannot compile the regex ({err}): add a simpler 'prefilter:' pattern"


def _inside_every_match(rule: Rule, multi_pattern: "re.Pattern[bytes]", data: bytes) -> bool:
    """Does the multi-pattern expression match ``data``, and inside each of the regex's matches?"""
    if not multi_pattern.search(data):
        return False
    return all(multi_pattern.search(data, m.start(), m.end()) for m in rule.pattern.finditer(data))


def check_rules(rules: Sequence[Rule]) -> list[Problem]:
    problems: list[Problem] = []
    for rule in rules:
        hp = hyperscan_problem(rule)
        if hp:
            problems.append(Problem(rule.id, hp))
        multi_pattern = re.compile(to_hyperscan(rule))
        for i, ex in enumerate(rule.examples, 1):
            if not example_hits(rule, ex):
                problems.append(Problem(rule.id, f"example {i} ({mask(ex)}) is not detected"))
            elif not rule.detector and not _inside_every_match(rule, multi_pattern, ex.encode()):
                # The fast engine would never confirm this rule here: its prefilter is too narrow.
                # Inside each match, not only somewhere: where the engine is told where the
                # prefilter matched, it confirms the rule only around there (engine._windows).
                problems.append(Problem(rule.id, f"example {i} ({mask(ex)}) is not matched by the prefilter"))
        for i, ex in enumerate(rule.negative_examples, 1):
            if example_hits(rule, ex):
                problems.append(Problem(rule.id, f"negative example {i} ({mask(ex)}) is detected"))
    return problems
