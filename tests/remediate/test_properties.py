"""Property tests of what remediation reads back: a leakstop JSON report (``--from-report``) and
the apply journal. Any document gives findings / a journal or a one-line LeakstopError; a report
leakstop wrote yields the findings it was written from; a saved journal loads back the same."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from scanner.errors import LeakstopError
from scanner.models import Chunk
from scanner.remediate.journal import Journal
from scanner.remediate.plan import findings_from_report
from scanner.report import ReportContext, render
from tests import strategies as S
from tests.conftest import IDENTITY
from tests.detectors.fixture_eval import context_engine
from tests.test_properties import any_value, mapping_of, outcome

_ENGINE: dict = {}
# The remediation tests' autouse AWS fixture is per test, not per example: nothing here uses it.
_ok_fixtures = settings(suppress_health_check=list(HealthCheck))

numbers = st.one_of(st.integers(-3, 5), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["2", "x", None]))
report_findings = mapping_of({
    "rule_id": st.sampled_from(["generic-password", "github-pat", "x"]),
    "path": st.sampled_from(["app.env", "missing.py", "/etc/hostname", "a\0b", "", ".", "../app.env"]),
    "line": numbers, "column": numbers, "end_column": numbers, "fingerprint": S.words,
    "commit": st.one_of(st.none(), any_value), "key": any_value, "provider": any_value, "category": any_value,
})
reports = st.one_of(
    mapping_of({"findings": st.lists(st.one_of(report_findings, any_value), max_size=3)}), any_value,
)


@_ok_fixtures
@given(doc=reports)
@example(doc={"findings": [{"rule_id": "x", "path": "app.env", "line": float("inf"), "column": 1, "end_column": 2,
                            "fingerprint": "f"}]})
@example(doc={"findings": [{"rule_id": "x", "path": "a\0b", "line": 1, "column": 1, "end_column": 2, "fingerprint": "f"}]})
@example(doc={"findings": [{"rule_id": "x", "path": 7, "line": 1, "column": 1, "end_column": 2, "fingerprint": "f"}]})
def test_report_reading_answers_any_document(tmp_path_factory, doc):
    base = tmp_path_factory.mktemp("rep")
    (base / "app.env").write_text("DB_PASSWORD=Zq7xLw2pQ9\n")
    report = base / "report.json"
    report.write_text(json.dumps(doc))
    out = outcome(findings_from_report, report, base, [], IDENTITY)
    assert isinstance(out, (tuple, LeakstopError))


@_ok_fixtures
@given(seed=S.seeds, before=st.lists(S.words.filter(lambda w: "\r" not in w), max_size=5), tail=S.words)
def test_report_written_by_leakstop_reads_back_its_findings(tmp_path_factory, seed, before, tail):
    """scan -> JSON report -> --from-report: the same findings, values re-read from the file."""
    base = tmp_path_factory.mktemp("rt")
    engine = _ENGINE.setdefault("engine", context_engine())
    value = S.fake_secret(seed, 20)
    lines = [f"# {w}" for w in before] + [f"DB_PASSWORD={value} # {tail}".replace("\n", " ")]
    (base / ".env").write_bytes("\n".join(lines).encode())
    found = engine.scan(Chunk(path=".env", data=(base / ".env").read_bytes()))
    (base / "r.json").write_text(render("json", found, ReportContext(command="scan")))
    back, skipped = findings_from_report(base / "r.json", base, engine.rules, engine.identity)
    assert skipped == []
    key = lambda f: (f.rule_id, f.path, f.line, f.column, f.end_column, f.fingerprint, f.secret)  # noqa: E731
    assert [key(f) for f in back] == [key(f) for f in found]


# -- the journal ----------------------------------------------------------------------------------
journals = st.one_of(
    mapping_of({"version": st.sampled_from([1, 2]), "key_id": st.sampled_from([IDENTITY.key_id, "0" * 16]),
                "items": st.dictionaries(S.words, any_value, max_size=2),
                "ecs": st.lists(any_value, max_size=2), "run": mapping_of({"status": st.sampled_from(["running", "complete"]),
                "steps_done": st.lists(S.words), "secrets": st.lists(S.words), "side_files": any_value, "files": any_value})}),
    any_value,
)


@_ok_fixtures
@given(doc=journals)
@example(doc={"version": 1})
@example(doc={"version": 2, "key_id": IDENTITY.key_id, "items": [], "run": []})
@example(doc={"version": 2, "key_id": IDENTITY.key_id, "items": {"a": 1}, "run": {"status": "running", "secrets": 3}})
def test_journal_loading_answers_any_document(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("j") / "journal.json"
    path.write_text(json.dumps(doc))

    def use(path: Path):
        j = Journal(path, IDENTITY.key_id)
        j.known_names("secretsmanager")
        j.start("plan")
        return j

    assert isinstance(outcome(use, path), (Journal, LeakstopError))


@_ok_fixtures
@given(items=st.lists(st.tuples(S.words, st.one_of(st.none(), S.words), S.words), max_size=4, unique_by=lambda t: t[2]),
       steps=st.lists(S.words, max_size=4), ecs=st.lists(st.tuples(S.words, S.words), max_size=3))
def test_journal_saves_and_loads_the_same(tmp_path_factory, items, steps, ecs):
    path = tmp_path_factory.mktemp("j") / "journal.json"
    j = Journal(path, IDENTITY.key_id)
    j.start("plan-1")
    for name, key, h in items:
        j.merge_item({"secret_name": name, "json_key": key, "value_hash": h, "sites": [name], "rule_ids": ["r"]})
    j.add_ecs([{"dockerfile": d, "name": n} for d, n in ecs])
    for s in steps:
        j.mark(s, file=s)
    j.save()
    back = Journal(path, IDENTITY.key_id)
    assert back.data == j.data
    assert back.known_names("secretsmanager") == j.known_names("secretsmanager")
