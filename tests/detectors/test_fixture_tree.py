"""The fixture tree: realistic files with golden expected findings; precision and recall >= 95%."""

from __future__ import annotations

import json

from tests.detectors.fixture_eval import FIXTURES, score


def test_tree_has_enough_files():
    golden = json.loads((FIXTURES / "expected.json").read_text())
    positive = [p for p in golden if p.startswith("positive/")]
    negative = [p for p in golden if p.startswith("negative/")]
    assert len(positive) >= 40 and len(negative) >= 40
    assert all(golden[p] for p in positive) and not any(golden[p] for p in negative)
    for p in golden:
        assert (FIXTURES / p).is_file(), p


def test_precision_and_recall(ctx_engine, capsys):
    s = score(ctx_engine)
    with capsys.disabled():
        print(f"\ncontext fixtures: precision {s.precision:.1%}, recall {s.recall:.1%} "
              f"({len(s.true_positives)}/{len(s.expected)} expected, {len(s.found)} reported)")
    missed = sorted((p, line, rule) for p, line, rule, _ in s.expected - s.found)
    extra = sorted((p, line, rule) for p, line, rule, _ in s.found - s.expected)
    assert s.recall >= 0.95, f"missed: {missed}"
    assert s.precision >= 0.95, f"unexpected: {extra}"


def test_precision_and_recall_with_every_rule(capsys):
    """What a user gets: all packs together. A provider rule may win a value over the context rule
    (so rule ids can differ), but every expected line is reported, with its key, and little else."""
    from scanner.config import Config
    from scanner.engine import Engine

    s = score(Engine(Config()))
    expected = {(p, line, key) for p, line, _, key in s.expected}
    found = {(p, line, key) for p, line, _, key in s.found}
    precision = len(expected & found) / len(found)
    recall = len(expected & found) / len(expected)
    with capsys.disabled():
        print(f"\ncontext fixtures, all rules: precision {precision:.1%}, recall {recall:.1%}")
    assert recall >= 0.95, f"missed: {sorted(expected - found)}"
    assert precision >= 0.95, f"unexpected: {sorted(found - expected)}"
