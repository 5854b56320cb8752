"""Property tests of the incremental history state: whatever ``history.json`` and
``history-blobs.bin`` hold, loading gives the state or None (a full scan), never a traceback."""

from __future__ import annotations

import json
import subprocess

from hypothesis import example, given
from hypothesis import strategies as st

from scanner.sources.history_state import STATE_VERSION, HistoryState
from tests import strategies as S
from tests.test_properties import any_value, mapping_of

KEY = "k" * 64
_finding = mapping_of({
    "rule_id": S.keys, "provider": S.words, "description": S.words, "severity": S.words, "category": S.words,
    "path": S.words, "line": st.one_of(st.integers(), S.words), "column": st.integers(), "end_column": st.integers(),
    "masked": S.words, "fingerprint": S.words, "commit": any_value,
})
_record = mapping_of({
    "finding": _finding, "secret_hash": S.words, "commits": st.one_of(st.integers(), st.floats(), S.words),
    "paths": st.one_of(st.lists(S.words), any_value), "blobs": st.lists(st.sampled_from(["00" * 20, "zz", "abc"])),
    "removed": any_value,
})
states = mapping_of({
    "version": st.just(STATE_VERSION), "key": st.just(KEY), "tips": st.one_of(st.lists(S.words), any_value),
    "findings": st.one_of(st.lists(st.one_of(_record, any_value), max_size=3), any_value),
})


@given(doc=states, blobs=st.binary(max_size=70))
@example(doc={"version": STATE_VERSION, "key": KEY, "findings": [{"finding": {}}]}, blobs=b"")
@example(doc={"version": STATE_VERSION, "key": KEY, "tips": 5}, blobs=b"")
@example(doc={"version": STATE_VERSION, "key": KEY, "findings": [{"finding": {"line": 1}, "secret_hash": "h",
                                                                  "commits": float("inf")}]}, blobs=b"")
def test_history_state_loads_or_asks_for_a_full_scan(tmp_path_factory, doc, blobs):
    git_dir = tmp_path_factory.mktemp("state")
    subprocess.run(["git", "init", "-q", str(git_dir)], check=True)
    state = HistoryState(git_dir / ".git")
    state.dir.mkdir()
    state.json.write_text(json.dumps(doc))
    state.blobs.write_bytes(blobs)
    out = state.load(KEY, str(git_dir))
    assert out is None or (isinstance(out, tuple) and len(out) == 3)
