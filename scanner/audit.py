"""Organisation-wide audits: the full history of many repositories, one merged report.

A repository is the unit of work: :func:`audit_one` clones or fetches it when it is a URL (into
a work directory that keeps it, and its incremental state, for the next run), runs the history
audit with incremental state on, and returns its findings tagged with the repository, or the
one-line reason it could not be scanned. Units run in a local process pool by default, or on a
Dask distributed cluster (``--cluster ADDRESS``): the scheduler, its queue and its wire protocol
are Dask's, and a worker that dies has its units run again elsewhere. Results are merged in the
order the repositories were given, whatever order they finish in, so a cluster run reports
exactly what a local run reports.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Optional, Sequence

from scanner.errors import LeakstopError
from scanner.models import Finding

if TYPE_CHECKING:
    from scanner.engine import Engine
    from scanner.sources.base import ScanStats
    from scanner.sources.git import RepoInfo
    from scanner.sources.history import HistoryResult

_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.I)


@dataclass(frozen=True)
class RepoSpec:
    """A repository to audit: a local path or a git URL, with the options every unit shares."""

    source: str
    workdir: str  # where URLs are cloned (kept between runs: incremental state lives there)
    config_path: Optional[str] = None
    max_file_size: Optional[int] = None
    incremental: bool = True  # False: read everything again (the saved state is left as it is)
    split: int = 0  # a repository with more objects than this is split into blob ranges (0: never)

    @property
    def is_url(self) -> bool:
        return bool(_URL.match(self.source))

    @property
    def name(self) -> str:
        """How reports name the repository: its path or URL without credentials."""
        return _no_userinfo(self.source) if self.is_url else self.source


@dataclass
class RepoResult:
    repository: str
    findings: list[Finding] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    error: Optional[str] = None  # one line: why this repository could not be scanned


def read_repos_file(path: Path) -> list[str]:
    """One repository per line; blank lines and ``#`` comments are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LeakstopError(f"{path}: cannot read the repositories file: {getattr(exc, 'strerror', None) or exc}") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _clone_dir(spec: RepoSpec) -> Path:
    digest = hashlib.sha256(spec.name.encode()).hexdigest()[:16]
    tail = re.sub(r"[^\w.-]+", "_", spec.name.rstrip("/").rsplit("/", 1)[-1])[:40]
    return Path(spec.workdir) / f"{tail}-{digest}.git"


def _git(args: list[str]) -> None:
    import os

    from scanner.sources.git import git

    # Never a credential prompt: a unit runs unattended, on this machine or a worker.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    proc = git(".", args, env=env, timeout=3600)
    if proc.returncode != 0:
        last = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["git failed"])[-1]
        raise LeakstopError(f"git {args[0] if args[0] != '--git-dir' else args[2]}: {_no_userinfo(last)[:200]}")


def _no_userinfo(text: str) -> str:
    """A URL's user:token@ part removed (git echoes the URL it failed on)."""
    return re.sub(r"//[^/@\s]*@", "//", text)


def local_copy(spec: RepoSpec) -> Path:
    """The repository on this machine: the path itself, or a bare mirror of the URL, cloned on the
    first run and fetched on the next (so incremental state carries over)."""
    if not spec.is_url:
        return Path(spec.source)
    target = _clone_dir(spec)
    if (target / "HEAD").is_file():
        _git(["--git-dir", str(target), "fetch", "--quiet", "--prune", "origin"])
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        _git(["clone", "--quiet", "--mirror", spec.source, str(target)])
    return target


def audit_one(spec: RepoSpec, scan: Optional[Callable] = None) -> RepoResult:
    """The full history of one repository (incremental), in this process (``scan``: how its
    history is run; by default all of it here). Never raises for a repository's own problem: the
    reason comes back in ``error``."""
    from scanner.sources.git import open_repo
    from scanner.sources.history import HistoryOptions, scan_history
    from scanner.sources.history_state import run_history

    scan = scan or scan_history

    try:
        path = local_copy(spec)
        info = open_repo(path)
        result = run_history(str(path), _engine(spec, path, info), HistoryOptions(jobs=1), info,
                             incremental=spec.incremental, scan=scan)
    except LeakstopError as exc:
        return RepoResult(spec.name, error=exc.message)
    return _repo_result(spec, result)


def _engine(spec: RepoSpec, path: Path, info: "RepoInfo") -> "Engine":
    """The engine every unit of ``spec`` uses: its configuration, and the repository's own
    fingerprint key (the same wherever the unit runs)."""
    from scanner.config import load_config
    from scanner.engine import Engine
    from scanner.identity import resolve_identity

    config = load_config(Path(spec.config_path) if spec.config_path else None, path)
    config = config.with_options(max_file_size=spec.max_file_size)
    return Engine(config, identity=resolve_identity(config, path, info.git_dir))


def _repo_result(spec: RepoSpec, result: "HistoryResult") -> RepoResult:
    from dataclasses import replace

    findings = [replace(f, extra={"repository": spec.name, **f.extra}) for f in result.findings]
    stats = result.stats.as_dict()
    missing = (stats.get("skipped") or {}).get("missing")
    error = f"{missing} blob(s) missing from the object database: the audit of it is incomplete" if missing else None
    return RepoResult(spec.name, findings, stats, error)


# -- one large repository over many workers: blob ranges ------------------------------------------


@dataclass(frozen=True)
class BlobRange:
    """Part of one repository's history for one worker: the blobs (hex id, path) it reads and
    scans, a path's versions together and in history order (so they are scanned as deltas), and
    every other path each blob was at (to show them masked: the values stay on the worker)."""

    spec: RepoSpec
    part: int
    blobs: tuple[tuple[str, str], ...]
    paths: tuple[tuple[str, tuple[str, ...]], ...] = ()  # hex id -> the blob's other paths


@dataclass
class RangeResult:
    part: int
    results: list = field(default_factory=list)  # (hex id, findings without values, shown paths) or (hex id, None)
    stats: Optional["ScanStats"] = None
    error: Optional[str] = None


def scan_range(r: BlobRange) -> RangeResult:
    """Scan one blob range where it runs. The findings come back without their values; instead,
    how each one shows the paths of its blob (history.shown_paths). Never raises for the
    repository's own problem."""
    from scanner.sources.git import open_repo
    from scanner.sources.history import scan_blobs, shown_paths

    from scanner.sources.base import ScanStats

    stats, results = ScanStats("history"), []
    try:
        path = _objects(r.spec)
        engine = _engine(r.spec, path, open_repo(path))
        for _, _, found, share in scan_blobs(str(path), engine, [(0, list(r.blobs))]):
            stats.add(share)
            results += found
    except LeakstopError as exc:
        return RangeResult(r.part, error=exc.message)
    where, other = dict(r.blobs), dict(r.paths)
    out: list[tuple] = []
    for name, found in results:
        if found is None:
            out.append((name, None))
            continue
        out.append((name, found, shown_paths(found, [where[name], *other.get(name, ())])))
        for f in found:
            f.secret = b""
    return RangeResult(r.part, out, stats)


def _objects(spec: RepoSpec) -> Path:
    """Where a worker reads the repository's objects: the path itself, or the clone of the URL
    under the work directory (made when the worker has none; not fetched: the run's enumeration
    fetched it, and a shared work directory is the same clone)."""
    if not spec.is_url:
        return Path(spec.source)
    import fcntl

    target = _clone_dir(spec)
    if (target / "HEAD").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_suffix(".lock"), "w") as lock:  # one clone per machine, whichever unit comes first
        fcntl.flock(lock, fcntl.LOCK_EX)
        return target if (target / "HEAD").is_file() else local_copy(spec)


def split_ranges(spec: RepoSpec, units: Sequence[tuple[str, str]], log, size: int) -> list[BlobRange]:
    """The blobs of a history in about ``size``-blob ranges, a path's versions in one range."""
    import zlib

    from scanner.sources.history import decode_path

    parts = max(1, -(-len(units) // max(size, 1)))
    groups: list[list[tuple[str, str]]] = [[] for _ in range(parts)]
    for unit in units:
        groups[zlib.crc32(unit[1].encode("utf-8", "surrogateescape")) % parts].append(unit)
    raw = {bytes.fromhex(name): name for name, _ in units}
    seen: dict[str, set[str]] = {}
    for occ in (log.occurrences(set(raw)), log.occurrences(set(raw), removals=True)):
        for blob, where in occ.items():
            seen.setdefault(raw[blob], set()).update(decode_path(log.paths[pi]) for _, pi in where)
    first = dict(units)
    return [BlobRange(spec, i, tuple(g), tuple((n, tuple(sorted(seen.get(n, set()) - {first[n]}))) for n, _ in g
                                              if len(seen.get(n, ())) > 1))
            for i, g in enumerate(groups) if g]


def split_scan(spec: RepoSpec, run: Callable[[list[BlobRange]], list[RangeResult]], repo: str, engine, options,
               info) -> "HistoryResult":
    """A history scan (history_state.run_history's ``scan``, with ``spec`` and ``run`` bound) that
    enumerates here, has ``run`` scan the blob ranges on the workers and attributes here: the
    same report as one process's scan."""
    from scanner.sources.history import HistoryResult, HistorySource

    source = HistorySource(repo, engine, options, info)
    if not source.tips:
        return HistoryResult([], source.stats, [], set(options.known_blobs))
    ranges = split_ranges(spec, list(source.units()), source.log, spec.split)
    results: list = []
    for part in sorted(run(ranges), key=lambda p: p.part):
        if part.error:
            raise LeakstopError(f"part {part.part + 1} of {len(ranges)}: {part.error}")
        if part.stats is not None:
            source.stats.add(part.stats)
        results += part.results
    return source.result(source.attribute(results))


def is_large(spec: RepoSpec) -> bool:
    """More objects than ``spec.split`` (git count-objects: cheap, no walk). A URL is cloned
    first (the enumeration runs here)."""
    from scanner.sources.git import run_git

    if not spec.split:
        return False
    try:
        path = local_copy(spec) if spec.is_url else Path(spec.source)
        counts = dict(line.split(": ", 1) for line in run_git(path, ["count-objects", "-v"]).decode().splitlines()
                      if ": " in line)
        return int(counts.get("count", 0)) + int(counts.get("in-pack", 0)) > spec.split
    except (LeakstopError, ValueError):
        return False  # its own unit says what is wrong with it


# -- where the units run: scanner.execute's local pool or Dask cluster -----------------------------


def run_audit(specs: Sequence[RepoSpec], done: Callable[[RepoResult], None], jobs: int = 1,
              cluster: Optional[str] = None) -> list[RepoResult]:
    """Every repository, in the given order: each one a unit of a local process pool (``jobs``)
    or of a Dask cluster (``cluster``); a large one (:func:`is_large`) is enumerated here and its
    blob ranges are the units, so one monorepo spreads over the workers."""
    from functools import partial

    large = [i for i, s in enumerate(specs) if is_large(s)]
    rest = [i for i in range(len(specs)) if i not in set(large)]
    out = dict(zip(rest, _map(audit_one, [specs[i] for i in rest], done, jobs, cluster, _failed_on_cluster)))
    for i in large:
        run = partial(_map, scan_range, done=_ignore, jobs=jobs, cluster=cluster, failed=_range_failed)
        out[i] = audit_one(specs[i], partial(split_scan, specs[i], run))
        done(out[i])
    return [out[i] for i in range(len(specs))]


def _map(fn: Callable, items: Sequence, done: Callable, jobs: int, cluster: Optional[str],
         failed: Callable) -> list:
    """``fn`` of each item in scanner.execute's local pool, or on the cluster (Dask retries a unit
    whose worker was lost; ``failed`` makes a result of one that failed on every try)."""
    from scanner.execute import map_cluster, map_local

    if cluster:
        return map_cluster(fn, items, cluster, done, failed)
    return map_local(fn, items, jobs, done)


def _ignore(result: object) -> None:
    pass


def _failed_on_cluster(spec: RepoSpec, exc: BaseException) -> RepoResult:
    return RepoResult(spec.name, error=f"failed on the cluster: {type(exc).__name__}")


def _range_failed(r: BlobRange, exc: BaseException) -> RangeResult:
    return RangeResult(r.part, error=f"failed on the cluster: {type(exc).__name__}")


def merged(results: Iterable[RepoResult]) -> tuple[list[Finding], dict]:
    """One report's findings and stats: repositories in the given order, each one's findings in
    the order its audit gave them."""
    findings: list[Finding] = []
    per_repo = []
    totals = {"repositories": 0, "repositories_failed": 0, "commits_scanned": 0, "blobs_scanned": 0, "bytes_scanned": 0}
    for r in results:
        findings.extend(r.findings)
        totals["repositories"] += 1
        totals["repositories_failed"] += bool(r.error) and not r.stats
        for k in ("commits_scanned", "blobs_scanned", "bytes_scanned"):
            totals[k] += int(r.stats.get(k, 0) or 0)
        per_repo.append({"repository": r.repository, "findings": len(r.findings),
                         **({"error": r.error} if r.error else {})})
    return findings, {**totals, "skipped": {}, "per_repository": per_repo}


def iter_errors(results: Iterable[RepoResult]) -> Iterator[str]:
    for r in results:
        if r.error:
            yield r.error if r.error.startswith(r.repository) else f"{r.repository}: {r.error}"
