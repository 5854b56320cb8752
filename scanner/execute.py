"""The one executor: runs any source's units (:mod:`scanner.sources.base`) through the engine,
in this process or in local worker processes, and whole tasks (a repository's audit) in a local
pool or on a Dask cluster.

Units of a source that may be split (``parallel``) are scanned here until they have cost
``serial_cpu`` seconds of CPU (None: straight to the workers), and the rest goes to one worker
process per job, forked with a copy of the engine and the source. Units travel in batches (those
of a shared queue grow as the run goes: :meth:`Pool._size`); a
source with a ``route(unit)`` sends the units of one route (history: a run of one path's
versions) to the same worker, back to back: its units wait in a :class:`Backlog` by route until
a worker has fewer than ROUTED_BATCHES batches outstanding; others feed one shared queue. A
worker scans its batches with the source's ``scan_batches`` when it has one (history: a pipelined reader and delta scanning), else by
loading and scanning each unit. The units are enumerated while the workers scan, through bounded
queues (a routed source's backlog holds at most BACKLOG_UNITS). Results come back with their
batch's number and are put in that order: units' order for a shared queue, so a split run reports
what an unsplit one does; for a routed source, each route's units in their order (history's
attribution does not depend on the order across routes). A worker's share of the statistics is
added to the source's one :class:`ScanStats`.
"""

from __future__ import annotations

import itertools
import queue
import time
from typing import Any, Callable, Hashable, Iterable, Iterator, Optional, Sequence, TypeVar

from scanner.errors import LeakstopError, describe_bug
from scanner.models import Finding
from scanner.sources.base import Result, ScanStats, Source

# CPU seconds a splittable source scans in this process before the rest of its units go to
# worker processes. Forking the workers costs a few milliseconds and each file about a tenth more
# CPU (the units and the findings cross processes, and each worker compiles the rules' regexes
# it meets for itself); a run done within this never pays it (the pre-commit case, a handful of
# files), and a tree past it has both cores busy early. On two cores, medians of 9-11 runs: the
# rails tree (39 MB) took 1.06 s with a 0.5 s budget, 0.73 s with 0.1 s and 0.71 s with 0.04 s
# (2% more CPU); the requests tree 0.261 s with 0.1 s and 0.250 s with 0.04 s; twelve named
# files (94 KB) finish within it either way.
SERIAL_CPU_SECONDS = 0.04
QUEUE_BATCHES = 8  # batches waiting on the shared queue, per worker
# A routed source's worker has at most this many batches given and not yet reported scanned: the
# rest waits in the Backlog, where it is grouped by route and can still go to either worker.
# Rails' history (interleaved A/B, 3 rounds): 4 and 8 gave 12.4 s; requests' 0.79 s with 4,
# 0.82 s with 2, 0.81 s with 8.
ROUTED_BATCHES = 4
BATCH = 32  # units per batch, unless the source says (``batch``)
GROWTH = 4  # a shared queue's batches grow to this many times the source's batch size (Pool._size)
# A routed source's units held ahead of the workers at most (Backlog): all of rails' history
# (194k blobs) fits; a larger history's enumeration waits for the workers past it.
BACKLOG_UNITS = 400_000


def can_fork() -> bool:
    import multiprocessing  # here: the pre-commit hook never splits, nor pays for the import

    return "fork" in multiprocessing.get_all_start_methods()


def scan_unit(source: Source, engine: Any, unit: Any) -> list[Finding]:
    found: list[Finding] = []
    for chunk in source.load(unit):
        found.extend(engine.scan(chunk))
    return found


class LazyEngine:
    """An engine built when the first chunk is scanned (the pre-commit hook loads no rules for a
    commit that adds no text)."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self.built: Any = None

    def scan(self, chunk: Any) -> list[Finding]:
        if self.built is None:
            self.built = self._build()
        return self.built.scan(chunk)


def execute(source: Source, engine: Any, jobs: int = 1, bar: Any = None) -> list[Finding]:
    """Every unit of ``source`` scanned, then attributed by it; counts in ``source.stats``."""
    return source.attribute(run_units(source, engine, jobs, bar))


def run_units(source: Source, engine: Any, jobs: int = 1, bar: Any = None) -> list[Result]:
    """(unit, findings) of every unit with findings or that could not be read (findings None)."""
    from scanner.progress import progress_bar

    bar = progress_bar(None, "", "") if bar is None else bar  # (a tqdm bar has no truth value)
    units = iter(source.units())
    results: list[Result] = []
    keep = getattr(source, "origin", None)  # what of a unit its result keeps (default: the unit)
    budget: Optional[float] = getattr(source, "serial_cpu", SERIAL_CPU_SECONDS)
    # Whether this system can fork is asked when the pool is wanted: the question imports
    # multiprocessing, which a run done within its budget (a handful of files) never needs.
    pool = source.parallel and (budget is not None or can_fork())
    if not pool and hasattr(source, "scan_batches"):
        return _scan_batches_here(source, engine, units, bar)
    if not pool or budget is not None:
        began, budget = time.process_time(), budget or 0.0
        for unit in units:
            found = scan_unit(source, engine, unit)
            if found:
                results.append((keep(unit) if keep else unit, found))
            bar.update(1)
            if pool and jobs > 1 and time.process_time() - began > budget:
                pool = can_fork()
                if pool:
                    break  # the rest of the units feed the workers while they scan
        else:
            return results
    return results + Pool(source, engine, jobs, bar).run(units)


def _scan_batches_here(source: Source, engine: Any, units: Iterator[Any], bar: Any) -> list[Result]:
    """A source that scans its own batches (history: pipelined reads, each version as a delta of
    the one before), run in this process where there is no fork: the same scan as in a worker."""
    size = getattr(source, "batch", BATCH)
    batches = ((seq, batch) for seq, batch in enumerate(iter(lambda: list(itertools.islice(units, size)), [])))
    results: list[Result] = []
    for _, done, found, stats in source.scan_batches(engine, batches):  # type: ignore[attr-defined]
        results.extend(found)
        source.stats.add(stats)
        bar.update(done)
    return results


# -- the local pool -------------------------------------------------------------------------------

def _worker(source: Source, engine: Any, inq: Any, outq: Any, index: int) -> None:
    try:
        batches = iter(inq.get, None)
        scan = getattr(source, "scan_batches", None)
        for report in (scan(engine, batches) if scan else scan_batches(source, engine, batches)):
            outq.put(("report", index, *report))
        outq.put(("done",))
    except BaseException as exc:  # reported by the parent as one line, not a child traceback
        msg = exc.message if isinstance(exc, LeakstopError) else f"internal error: {describe_bug(exc)} (please report it)"
        outq.put(("error", msg))


def scan_batches(source: Source, engine: Any, batches: Iterable[tuple[int, list]]
                 ) -> Iterator[tuple[int, int, list[Result], ScanStats]]:
    """A worker's default: load and scan each unit; per batch (its number, its size, its
    results, its share of the statistics)."""
    total = source.stats
    keep = getattr(source, "origin", None)
    for seq, batch in batches:
        source.stats = total.fresh()
        results: list[Result] = []
        for unit in batch:
            found = scan_unit(source, engine, unit)
            if found:
                results.append((keep(unit) if keep else unit, found))
        yield seq, len(batch), results, source.stats


class Backlog:
    """Units of a routed source enumerated ahead of the workers, held by route until a worker
    queue has room. A route belongs to the queue that first takes it (later units of it follow
    to that queue); a queue is given its own routes' units first, oldest route first,
    then the oldest routes nobody has taken, whole routes at a time.

    So a path's versions reach a worker back to back rather than in log order among every other
    path's: its cat-file resolves each delta from the version it has just read (git packs a file's
    versions as a chain of deltas), and each version is scanned against the one before. On rails'
    history (194k blobs) cat-file alone took 2.9 s in log order and 1.9 s grouped by path. Taking
    routes when a queue has room balances the workers by what they have scanned (routing by a
    hash of the route left one of two workers scanning a quarter of requests' history alone)."""

    def __init__(self, queues: int) -> None:
        self.free: dict[Hashable, list] = {}  # routes no queue has taken, oldest first
        self.taken: list[dict[Hashable, list]] = [{} for _ in range(queues)]
        self.owner: dict[Hashable, int] = {}
        self.size = 0

    def add(self, route: Hashable, unit: Any) -> None:
        k = self.owner.get(route)
        held = self.free if k is None else self.taken[k]
        units = held.get(route)
        if units is None:
            held[route] = [unit]
        else:
            units.append(unit)
        self.size += 1

    def take(self, k: int, n: int) -> list:
        """Up to ``n`` units for queue ``k``: its own routes' first, then routes nobody has taken
        (now ``k``'s); routes whole, the last one in part."""
        out: list = []
        mine = self.taken[k]
        for held in (mine, self.free):
            while held and len(out) < n:
                route = next(iter(held))
                units, room = held[route], n - len(out)
                if len(units) <= room:
                    del held[route]
                    out.extend(units)
                else:
                    out.extend(units[:room])
                    del units[:room]
                    if held is not mine:
                        del held[route]
                        mine[route] = units
                self.owner[route] = k
        self.size -= len(out)
        return out

    def waiting(self, k: int) -> bool:
        """Whether queue ``k`` could be given units."""
        return bool(self.taken[k] or self.free)


class Pool:
    """Worker processes fed batches of units (see the module's docstring)."""

    def __init__(self, source: Source, engine: Any, jobs: int, bar: Any) -> None:
        self.source, self.jobs, self.bar = source, max(jobs, 1), bar
        self.batch_size: int = getattr(source, "batch", BATCH)
        import multiprocessing

        self.route: Optional[Callable[[Any], Hashable]] = getattr(source, "route", None)
        self.counted: bool = getattr(source, "bar_total", False)  # the bar's total grows as units are sent
        ctx = multiprocessing.get_context("fork")
        queues = self.jobs if self.route is not None else 1
        self.backlog = Backlog(queues) if self.route is not None else None
        self.outstanding = [0] * queues  # units given to each queue, not yet reported scanned
        self.most = ROUTED_BATCHES * self.batch_size
        depth = QUEUE_BATCHES * self.jobs if queues == 1 else ROUTED_BATCHES
        self.inqs = [ctx.Queue(maxsize=depth) for _ in range(queues)]
        self.outq = ctx.Queue()
        self.workers = [ctx.Process(target=_worker, args=(source, engine, self.inqs[i % queues], self.outq, i % queues), daemon=True)
                        for i in range(self.jobs)]
        self.pending: list = []  # the shared queue's next batch
        self.seq = itertools.count()
        self.dispatched = 0
        self.finished = 0
        self.reports: list[tuple[int, list[Result]]] = []

    def run(self, units: Iterator[Any]) -> list[Result]:
        for w in self.workers:
            w.start()
        try:
            if self.backlog is not None:
                self._run_routed(units)
            else:
                for unit in units:
                    self.pending.append(unit)
                    if len(self.pending) >= self._size():
                        self._flush()
                self._flush()
            for i in range(self.jobs):
                self._send(self.inqs[i % len(self.inqs)], None)
            self._drain(block=True)
        finally:
            self._stop()
        self.reports.sort(key=lambda r: r[0])  # stable: a route's reports keep their order
        return [r for _, results in self.reports for r in results]

    def _run_routed(self, units: Iterator[Any]) -> None:
        """Units into the backlog as fast as the source gives them (up to BACKLOG_UNITS held),
        batches out of it as the queues have room."""
        assert self.backlog is not None and self.route is not None
        backlog, route, size = self.backlog, self.route, self._size()
        for n, unit in enumerate(units, 1):
            backlog.add(route(unit), unit)
            if n % size == 0:
                self._give(wait=backlog.size >= BACKLOG_UNITS)
        while backlog.size:
            self._give(wait=True)

    def _give(self, wait: bool) -> None:
        """Batches from the backlog to the queues with room, one at a time to the queue with the
        fewest units outstanding (given, not yet reported scanned); with ``wait``, until at least
        one batch was given."""
        assert self.backlog is not None
        backlog, outstanding = self.backlog, self.outstanding
        while True:
            given = False
            while True:
                # (the only producer: a queue that is not full takes a batch without blocking)
                ready = [k for k, inq in enumerate(self.inqs)
                         if backlog.waiting(k) and outstanding[k] < self.most and not inq.full()]
                if not ready:
                    break
                k = min(ready, key=outstanding.__getitem__)
                batch = backlog.take(k, self._size())
                self.inqs[k].put((next(self.seq), batch))
                outstanding[k] += len(batch)
                self.dispatched += len(batch)
                given = True
            self._drain(block=False)
            if given or not wait:
                return
            try:  # every queue with units for it is full: a worker reports when it has taken a batch
                self._handle(self.outq.get(timeout=0.05))
            except queue.Empty:
                if not all(w.is_alive() for w in self.workers):  # none exits before its last batch
                    raise LeakstopError(f"{self._name()}a scanning worker died unexpectedly") from None

    def _size(self) -> int:
        """The next batch's size. Workers that pull from one shared queue balance themselves, so
        its batches grow with the run, up to GROWTH times the source's size: handing a batch from
        process to process costs about 0.3 ms of CPU in all, while a small tree still spreads
        over the workers in small batches. On the rails tree: 156 batches became 55, and the scan
        took 18 ms less (medians of 11). A routed source's batches keep their size: a route's
        units go to one worker, whose share a bigger batch would only make lumpier."""
        if self.route is not None:
            return self.batch_size
        return min(self.batch_size * GROWTH, max(self.batch_size, self.dispatched // (4 * self.jobs)))

    def _flush(self) -> None:
        if self.pending:
            self._send(self.inqs[0], (next(self.seq), self.pending))
            self.outstanding[0] += len(self.pending)
            self.dispatched += len(self.pending)
            self.pending = []
        self._drain(block=False)  # keep the bar moving, and the results queue short

    def _send(self, inq: Any, item: Any) -> None:
        while True:
            try:
                inq.put(item, timeout=0.2)
                return
            except queue.Full:
                self._drain(block=False)  # workers never wait on us
                if not any(w.is_alive() for w in self.workers):
                    raise LeakstopError(f"{self._name()}the scanning workers died unexpectedly") from None

    def _drain(self, block: bool) -> None:
        while self.finished < self.jobs:
            try:
                msg = self.outq.get(timeout=0.5) if block else self.outq.get_nowait()
            except queue.Empty:
                if not block:
                    return
                if not any(w.is_alive() for w in self.workers) and self.outq.empty():
                    raise LeakstopError(f"{self._name()}a scanning worker died unexpectedly") from None
                continue
            self._handle(msg)

    def _handle(self, msg: tuple) -> None:
        if msg[0] == "done":
            self.finished += 1
        elif msg[0] == "error":
            raise LeakstopError(f"{self._name()}a scanning worker failed: {msg[1]}" if self._name() else msg[1])
        else:
            _, who, seq, done, results, stats = msg
            self.outstanding[who] -= done
            self.source.stats.add(stats)
            if results:
                self.reports.append((seq, results))
            if self.counted and hasattr(self.bar, "set_postfix_str"):  # a tqdm bar, not a silent one
                held = len(self.pending) + (self.backlog.size if self.backlog is not None else 0)
                self.bar.total = max(self.dispatched + held, self.bar.n + done)
                if self.source.stats.commits:
                    self.bar.set_postfix_str(f"{self.source.stats.commits} commits", refresh=False)
            self.bar.update(done)

    def _name(self) -> str:
        """How errors name the run ("history: "), or nothing."""
        name = getattr(self.source, "name", "")
        return f"{name}: " if name else ""

    def _stop(self) -> None:
        # After a clean finish the workers are exiting; after an error they may be blocked on a
        # queue, so they are stopped rather than waited for.
        for w in self.workers:
            if w.pid is None:
                continue
            w.join(timeout=5 if self.finished == self.jobs else 0.1)
            if w.is_alive():
                w.kill()
                w.join()


# -- whole tasks: a local process pool or a Dask cluster ----------------------------------------------

T = TypeVar("T")
R = TypeVar("R")


def map_local(fn: Callable[[T], R], items: Sequence[T], jobs: int, done: Callable[[R], None]) -> list[R]:
    """``fn`` of each item in a process of a local pool (in this process when ``jobs`` is 1),
    results in the items' order."""
    if jobs <= 1 or len(items) <= 1:
        return [_tick(fn(item), done) for item in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("fork" if can_fork() else "spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=ctx) as pool:
        return [_tick(r, done) for r in pool.map(fn, items)]


def map_cluster(fn: Callable[[T], R], items: Sequence[T], address: str, done: Callable[[R], None],
                failed: Callable[[T, BaseException], R], retries: int = 3) -> list[R]:
    """``fn`` of each item as a task on an existing Dask distributed cluster: Dask schedules,
    queues and carries them; a worker lost mid-run has its tasks run again on another
    (``retries``). ``failed`` turns a task that failed on every try into a result. Results are
    put back in the items' order, whatever order they finish in."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise LeakstopError("--cluster needs Dask distributed: pip install 'leakstop[cluster]'") from None
    try:
        client = Client(address, timeout="20s")  # as_completed reads the default client
    except (OSError, TimeoutError) as exc:
        raise LeakstopError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        futures = client.map(fn, list(items), pure=False, retries=retries)
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Optional[R]] = [None] * len(items)
        for fut in as_completed(futures):
            i = index[fut.key]
            try:
                results[i] = _tick(fut.result(), done)
            except Exception as exc:  # the task itself failed on every try (e.g. workers lost)
                results[i] = _tick(failed(items[i], exc), done)
        return [r for r in results if r is not None]
    finally:
        client.close()


def _tick(result: R, done: Callable[[R], None]) -> R:
    done(result)
    return result
