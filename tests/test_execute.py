"""The executor (scanner.execute) and the source seam (scanner.sources.base): any source's units
run inline or in worker processes with the same findings, in the same order, and one statistics
record; every registered source has the three parts of the protocol."""

from __future__ import annotations

import importlib
import os

import pytest

from scanner import execute as X
from scanner.errors import LeakstopError
from scanner.models import Chunk
from scanner.sources.base import SOURCES, Plain, ScanStats, make_source
from tests.sources.history_helpers import fake_aws_key, small_engine


class Toy(Plain):
    """Units are numbers; a unit's chunk holds a made-up key when the number is a multiple of 7."""

    parallel = True

    def __init__(self, n: int, keys: dict[int, str], serial_cpu=X.SERIAL_CPU_SECONDS, route=False) -> None:
        self.n, self.keys, self.serial_cpu = n, keys, serial_cpu
        self.stats = ScanStats("files")
        if route:
            self.route = lambda unit: unit % 3

    def units(self):
        return iter(range(self.n))

    def load(self, unit):
        self.stats.count("text", 1)
        body = f"k = '{self.keys[unit]}'\n" if unit in self.keys else "x = 1\n"
        # The worker's pid travels in the path: which process scanned which unit.
        yield Chunk(path=f"u{unit}-{os.getpid()}.py", data=body.encode())


def _keys(n: int) -> dict[int, str]:
    return {i: fake_aws_key() for i in range(0, n, 7)}


def _shape(findings):
    return [(f.path.split("-")[0], f.fingerprint) for f in findings]


def test_inline_and_pool_give_the_same_findings_in_units_order():
    engine, keys = small_engine(), _keys(300)
    inline = Toy(300, keys)
    one = X.execute(inline, engine, jobs=1)
    split = Toy(300, keys, serial_cpu=0.0)  # everything after the first unit goes to the workers
    two = X.execute(split, engine, jobs=2)
    planted = len(keys)  # (a failing assert shows counts, never the made-up keys themselves)
    assert _shape(one) == _shape(two) and len(one) == planted
    assert inline.stats.scanned == split.stats.scanned == 300 and split.stats.bytes == 300
    assert {f.path.split("-")[1] for f in two[1:]} - {str(os.getpid())}  # scanned in other processes


def test_a_shared_queues_batches_grow_with_the_run_and_a_routes_keep_their_size():
    from scanner.progress import progress_bar

    bar = progress_bar(None, "", "")
    shared, routed = X.Pool(Toy(1, {}), small_engine(), 2, bar), X.Pool(Toy(1, {}, route=True), small_engine(), 2, bar)
    sizes = []
    for sent in (0, 100, 600, 1000, 100_000):
        shared.dispatched = routed.dispatched = sent
        sizes.append((shared._size(), routed._size()))
    base = shared.batch_size
    assert sizes[0] == sizes[1] == (base, base)  # a small tree: small batches, spread over workers
    assert [a for a, _ in sizes] == sorted(a for a, _ in sizes) and sizes[-1] == (base * X.GROWTH, base)


def test_grown_batches_give_the_same_findings_in_units_order():
    engine, keys = small_engine(), _keys(3000)
    one = X.execute(Toy(3000, keys), engine, jobs=1)
    two = X.execute(Toy(3000, keys, serial_cpu=0.0), engine, jobs=2)
    planted = len(keys)  # (a failing assert shows counts, never the made-up keys themselves)
    assert _shape(one) == _shape(two) and len(one) == planted


def test_a_route_keeps_its_units_on_one_worker():
    keys = {i: fake_aws_key() for i in range(60)}
    found = X.execute(Toy(60, keys, serial_cpu=None, route=True), small_engine(), jobs=3)
    by_route: dict[int, set[str]] = {}
    for f in found:
        unit, pid = f.path.removesuffix(".py").split("-")
        by_route.setdefault(int(unit[1:]) % 3, set()).add(pid)
    assert len(found) == 60 and all(len(pids) == 1 for pids in by_route.values())


def test_a_full_backlog_makes_the_enumeration_wait_and_loses_nothing(monkeypatch):
    monkeypatch.setattr(X, "BACKLOG_UNITS", 40)  # the units outrun the workers at once
    keys = _keys(700)
    found = X.execute(Toy(700, keys, serial_cpu=None, route=True), small_engine(), jobs=2)
    assert len(found) == len(keys)  # (counts, never the made-up keys themselves)


def test_the_backlog_gives_a_queue_its_routes_whole_and_oldest_first():
    backlog = X.Backlog(2)
    for unit in ("a1", "b1", "a2", "c1", "b2", "a3"):  # enumeration order: routes interleaved
        backlog.add(unit[0], unit)
    assert backlog.take(0, 4) == ["a1", "a2", "a3", "b1"]  # a whole, then b in part
    backlog.add("a", "a4")  # a and b are queue 0's now: their later units follow
    backlog.add("d", "d1")
    assert backlog.take(1, 10) == ["c1", "d1"]  # queue 1: nobody's routes, oldest first
    assert not backlog.waiting(1) and backlog.waiting(0)
    assert backlog.take(0, 10) == ["b2", "a4"] and backlog.size == 0


@pytest.mark.parametrize("route", [False, True])
def test_a_worker_that_dies_is_one_line_not_a_hang(route):
    parent = os.getpid()

    class Dying(Toy):
        def load(self, unit):
            if unit == 40 and os.getpid() != parent:
                os._exit(3)  # killed mid-run (out of memory, a signal): no message to the parent
            yield from super().load(unit)

    with pytest.raises(LeakstopError) as info:
        X.execute(Dying(400, {}, serial_cpu=None, route=route), small_engine(), jobs=2)
    assert "died unexpectedly" in info.value.message


def test_a_worker_failure_is_one_line_without_its_message():
    secret = fake_aws_key()

    class Broken(Toy):
        def load(self, unit):
            int(secret)  # a bug whose message quotes scanned text
            yield from ()

    with pytest.raises(LeakstopError) as info:
        X.execute(Broken(10, {}, serial_cpu=None), small_engine(), jobs=2)
    assert "internal error: ValueError at " in info.value.message and secret not in info.value.message


def test_the_engine_is_built_only_when_there_is_something_to_scan():
    built = []

    def build():
        built.append(1)
        return small_engine()

    assert X.execute(Toy(0, {}), X.LazyEngine(build)) == [] and not built
    keys = _keys(8)
    planted = len(keys)
    assert len(X.execute(Toy(8, keys), X.LazyEngine(build))) == planted and built == [1]


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_registered_source_has_the_protocol(name):
    module, attr = SOURCES[name].split(":")
    cls = getattr(importlib.import_module(module), attr)
    for part in ("units", "load", "attribute"):
        assert callable(getattr(cls, part, None)), f"{name} lacks {part}"


def test_sources_are_built_from_the_registry(tmp_path):
    (tmp_path / "a.py").write_text(f"k = '{fake_aws_key()}'\n")
    source = make_source("files", [str(tmp_path)], max_file_size=1 << 20)
    assert len(X.execute(source, small_engine())) == 1
    assert source.stats.as_dict() == {"files_scanned": 1, "bytes_scanned": (tmp_path / "a.py").stat().st_size,
                                      "skipped": {}}


def test_stats_merge_and_report_by_kind():
    a, b = ScanStats("history"), ScanStats("history")
    a.count("text", 10)
    b.count("utf-16-le", 5)
    b.skipped["missing"] += 1
    for i in range(7):
        b.skip_large(f"big{i}")
    a.add(b)
    d = a.as_dict()
    assert (d["blobs_scanned"], d["bytes_scanned"], d["decoded"]) == (2, 15, {"utf-16-le": 1})
    assert d["skipped"] == {"missing": 1, "too large": 7} and a.too_large == [f"big{i}" for i in range(5)]
    assert a.size_notes(1000) == ["7 blob(s) over the 1000 bytes size limit were not scanned (big0, big1, big2, big3, "
                                  "big4, …); raise --max-file-size to include them"]
    r = ScanStats("range")
    r.commits = 3
    assert list(r.as_dict()) == ["files_scanned", "bytes_scanned", "skipped", "commits_scanned"]
