"""The Hyperscan backend and the keyword fallback give the same findings."""

from __future__ import annotations

import json


from scanner.config import Config
from scanner.engine import Engine
from scanner.engine.backends import HyperscanBackend, KeywordBackend
from scanner.models import Chunk
from scanner.rules import load_rules, rule_files
from tests.conftest import IDENTITY, SHARED

RULES = load_rules(rule_files())


def texts():
    for r in RULES:
        yield from r.examples
        yield from r.negative_examples
    cases = SHARED / "corpus" / "cases.jsonl"
    if cases.is_file():
        for line in cases.read_text().splitlines():
            yield json.loads(line)["text"]


def key(findings):
    return sorted((f.rule_id, f.line, f.column, f.fingerprint) for f in findings)


def test_fast_and_fallback_engines_agree():
    fast = Engine(Config(), rules=RULES, backend="hyperscan", identity=IDENTITY)
    slow = Engine(Config(), rules=RULES, backend="keywords", identity=IDENTITY)
    n = 0
    for i, text in enumerate(texts()):
        chunk = Chunk(path=f"case{i}.txt", data=text.encode())
        a, b = key(fast.scan(chunk)), key(slow.scan(chunk))
        assert a == b, f"text #{i}: engines disagree on rules {sorted({x[0] for x in a} ^ {x[0] for x in b})}"
        n += bool(a)
    assert n > 100  # the comparison saw plenty of findings


def test_hyperscan_database_is_cached(tmp_path):
    HyperscanBackend(RULES[:5], tmp_path)
    cached = list(tmp_path.glob("hs-*.db"))
    assert len(cached) == 1
    # A corrupt cache entry is rebuilt, not fatal.
    cached[0].write_bytes(b"garbage")
    HyperscanBackend(RULES[:5], tmp_path)
    assert cached[0].read_bytes() != b"garbage"


def test_keyword_backend_without_hyperscan(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *a, **kw):
        if name == "hyperscan":
            raise ImportError("no hyperscan")
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    e = Engine(Config(), rules=RULES)
    assert e.backend.name == "keywords"


def test_cached_database_is_loaded_not_recompiled(tmp_path, monkeypatch):
    aws = [r for r in RULES if r.id == "aws-access-key-id"]
    HyperscanBackend(aws, tmp_path)

    def no_compile(self, *args):
        raise AssertionError("recompiled despite a cache entry")

    monkeypatch.setattr(HyperscanBackend, "_compile", no_compile)
    b = HyperscanBackend(aws, tmp_path)
    assert list(b.candidates(b"k = AKIAZ5QW2XHC7RJK3MNB")) == [0]


def test_located_rules_report_every_end_and_the_others_one(tmp_path):
    """A located rule's every match end comes back (the engine confirms it only near them); the
    others report once. Which rules are located is part of the cache key: a database cached
    without them would report one end, and the engine would skip windows holding matches."""
    aws = [r for r in RULES if r.id == "aws-access-key-id"]
    data = b"a = AKIAZ5QW2XHC7RJK3MNB\nb = AKIAQ7RJK3MNBZ5QW2XH\n"
    ends = [data.index(b"MNB\n") + 3, len(data) - 1]
    assert [len(e) for e in HyperscanBackend(aws, tmp_path).candidates(data).values()] == [1]
    located = HyperscanBackend(aws, tmp_path, located=[0])
    assert located.located == {0} and located.candidates(data) == {0: ends}
    assert KeywordBackend(aws).located == frozenset()


def test_backends_registry_is_what_the_engine_and_the_cli_read(monkeypatch, run_cli, tmp_path):
    """A backend added to BACKENDS is built by name and offered by --engine; a name that is not
    in the registry is a one-line usage error."""
    from scanner.engine import backends

    class Counting(backends.KeywordBackend):
        name = "counting"
        built = 0

        def __init__(self, rules, cache_dir=None, located=()):
            super().__init__(rules, cache_dir, located)
            Counting.built += 1

    monkeypatch.setitem(backends.BACKENDS, "counting", Counting)
    assert Engine(Config(), rules=RULES, backend="counting", identity=IDENTITY).backend.name == "counting"
    (tmp_path / "a.py").write_text("x = 1\n")
    before = Counting.built
    assert run_cli("scan", str(tmp_path), "--engine", "counting", "-q").code == 0
    assert Counting.built > before
    r = run_cli("scan", str(tmp_path), "--engine", "nosuch")
    assert r.code == 2 and "'nosuch' is not one of auto, hyperscan, keywords, counting" in r.err
