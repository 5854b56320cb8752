#!/usr/bin/env python3
"""In-process recall / false-positive rate on ../shared/corpus, per provider (a rule author's loop).

    python bench/corpus_eval.py [--provider NAME ...] [--show-misses] [--show-fps] [--min-confidence LEVEL]

The authoritative number comes from the CLI + the corpus's own score.py (tests/test_corpus.py);
this is the fast loop for writing rules. Values are masked in everything it prints.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.config import Config  # noqa: E402
from scanner.engine import Engine  # noqa: E402
from scanner.engine.confidence import LEVELS, judge  # noqa: E402
from scanner.models import Chunk  # noqa: E402

CASES = ROOT.parent / "shared" / "corpus" / "cases.jsonl"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=Path, default=CASES)
    ap.add_argument("--provider", action="append")
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--show-fps", action="store_true")
    ap.add_argument("--min-confidence", choices=LEVELS, default="medium",
                    help="count findings at this confidence or above, as the CLI reports them (default medium)")
    args = ap.parse_args()
    engine = Engine(Config())
    stats: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in args.cases.read_text().splitlines():
        c = json.loads(line)
        if args.provider and c["provider"] not in args.provider:
            continue
        ext = c.get("ext_hint") or ".txt"
        findings, _ = judge(engine.scan(Chunk(path=f"case/{c['id']}{ext}", data=c["text"].encode())), args.min_confidence)
        real = "synthetic" if c.get("synthetic") else "realistic"
        s = stats[c["provider"]]
        if c["label"] == "secret":
            s[f"{real}_secrets"] += 1
            if findings:
                s[f"{real}_found"] += 1
            elif args.show_misses:
                below = [f"{f.rule_id}:{f.confidence}" for f in judge(engine.scan(Chunk(path=f"case/{c['id']}{ext}", data=c["text"].encode())), "low")[0]]
                print(f"MISS {c['provider']:<18} {c['id']} {real} {below} {c['text'][:70]!r}")
        else:
            s["negatives"] += 1
            if findings:
                s["fps"] += 1
                if args.show_fps:
                    print(f"FP   {c['provider']:<18} {c['id']} {[(f.rule_id, f.masked) for f in findings]} {c['text'][:70]!r}")
    tot = collections.Counter()
    rows = []
    for prov, s in sorted(stats.items()):
        tot.update(s)
        n = s["realistic_secrets"]
        rows.append((s["realistic_found"] / n if n else 1.0, prov, s))
    for rec, prov, s in sorted(rows)[:40]:
        print(f"{prov:<20} recall {rec:6.1%} ({s['realistic_found']}/{s['realistic_secrets']})  fp {s['fps']}/{s['negatives']}")
    n = tot["realistic_secrets"]
    print(f"TOTAL realistic recall {tot['realistic_found'] / max(n, 1):.2%} ({tot['realistic_found']}/{n}); "
          f"synthetic {tot['synthetic_found']}/{tot['synthetic_secrets']}; "
          f"FP rate {tot['fps'] / max(tot['negatives'], 1):.2%} ({tot['fps']}/{tot['negatives']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
