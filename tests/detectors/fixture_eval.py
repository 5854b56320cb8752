"""Score the context detectors on the fixture tree tests/fixtures/context (golden expected.json).

Used by test_fixture_tree.py; also runnable: ``python -m tests.detectors.fixture_eval [-v]``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "context"
CONTEXT_RULES = ROOT / "rules" / "context.yaml"


def digest(value: str) -> str:
    """Stand-in for a value in test comparisons: failing asserts print this, never the value."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


@dataclass
class Score:
    expected: set = field(default_factory=set)
    found: set = field(default_factory=set)

    @property
    def true_positives(self) -> set:
        return self.expected & self.found

    @property
    def precision(self) -> float:
        return len(self.true_positives) / len(self.found) if self.found else 1.0

    @property
    def recall(self) -> float:
        return len(self.true_positives) / len(self.expected) if self.expected else 1.0


def context_engine():
    from scanner.config import Config
    from scanner.engine import Engine
    from scanner.rules import load_rules

    return Engine(Config(), rules=load_rules([CONTEXT_RULES]), backend="keywords")


def score(engine=None) -> Score:
    from scanner.models import Chunk

    engine = engine or context_engine()
    golden = json.loads((FIXTURES / "expected.json").read_text())
    s = Score()
    for rel, expected in sorted(golden.items()):
        for e in expected:
            s.expected.add((rel, e["line"], e["rule_id"], e["key"]))
        data = (FIXTURES / rel).read_bytes()
        for f in engine.scan(Chunk(path=rel, data=data)):
            s.found.add((rel, f.line, f.rule_id, f.key or ""))
    return s


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    s = score()
    if "-v" in sys.argv:
        for x in sorted(s.expected - s.found):
            print("MISSED", *x)
        for x in sorted(s.found - s.expected):
            print("EXTRA ", *x)
    print(f"precision {s.precision:.1%} recall {s.recall:.1%} "
          f"({len(s.true_positives)} of {len(s.expected)} expected, {len(s.found)} reported)")
