"""The labelled shared corpus, scanned through the real CLI and scored by the corpus's own scorer."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import SHARED

CORPUS = SHARED / "corpus"
MIN_RECALL, MAX_FP_RATE = 0.95, 0.03


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    if not (CORPUS / "cases.jsonl").is_file():
        pytest.skip(f"{CORPUS} is absent (../shared is not beside the project)")
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run([sys.executable, str(CORPUS / "materialize.py"), "--out", str(out / "m")], check=True, capture_output=True)
    report = out / "report.sarif"
    proc = subprocess.run([sys.executable, "-m", "scanner", "scan", str(out / "m" / "tree"), "--format", "sarif",
                           "--output", str(report), "-q"], capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    scores = out / "scores.json"
    proc = subprocess.run([sys.executable, str(CORPUS / "score.py"), "--manifest", str(out / "m" / "manifest.json"),
                           "--findings", str(report), "--by", "provider", "--json-out", str(scores)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    print(proc.stdout)
    return json.loads(scores.read_text())


def test_realistic_recall(scored):
    o = scored["overall"]
    assert o["realistic_recall"] >= MIN_RECALL, f"realistic recall {o['realistic_recall']:.3f} ({o['realistic_detected']}/{o['realistic_secrets']})"


def test_false_positive_rate(scored):
    o = scored["overall"]
    assert o["fp_rate"] <= MAX_FP_RATE, f"FP rate {o['fp_rate']:.3f} ({o['flagged']}/{o['negatives']})"
