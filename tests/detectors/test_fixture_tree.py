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
