"""Full-history audit: every blob reachable from the selected refs, each scanned exactly once.

Design (measured against the patch-based alternative in docs/history.md):

1. ``git log --raw -c --no-renames -z`` over the selected refs lists, for every commit, the blob
   ids it introduced per path (merges: only what differs from *all* parents, i.e. conflict
   resolutions and evil merges; everything else a merge carries was introduced by a parent).
   Raw diffs compare tree entries only, so this is cheap even on 100k commits.
2. Each blob id seen for the first time is dispatched to a worker process (one per core) by its
   path and run (a path's versions in runs of ROUTE_RUN): the executor holds the blobs the workers
   have not been given yet by run, and gives a worker with room the runs it already has, then the
   oldest new ones, whole, so a run of a path's versions reaches one worker back to back, newest
   first (scanner.execute.Backlog). Each worker owns one
   long-lived ``git cat-file --batch`` and scans a version against the previous one of its path
   (``Engine.scan_version``: only changed lines are scanned, the rest carried over). Enumeration
   (main process) and reading/scanning (workers) run concurrently.
3. Findings are keyed by fingerprint (rule + value). Every (blob, commit, path) introduction of a
   blob holding the value is an occurrence: the earliest commit is "first introduced", the
   distinct commits/paths are counted, and the value is live when one of its blobs is in HEAD's
   tree. Removal events (the blob replaced or deleted at its path) give the timeline's "removed".
"""

from __future__ import annotations

import collections
import os
import subprocess
import threading
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence

from scanner.display import display_bytes
from scanner.errors import LeakstopError
from scanner.globs import PathPatterns
from scanner.models import Chunk, CommitInfo, Finding, Redactor
from scanner.sources.base import ScanStats
from scanner.sources.textify import BINARY, TEXT, textify
from scanner.sources.git import CatFile, RepoInfo, grow_pipe, open_repo, run_git

GITLINK = "160000"
BATCH = 256  # blobs per message to a worker: amortises queue pickling
VERSION_BUDGET = 48 << 20  # bytes of earlier file versions each worker keeps to diff against
# A path's versions go to the workers in runs of this many (HistorySource.route). Each new run
# costs a whole scan and a cold delta chain in the other worker's cat-file: at 32, rails' history
# took ~1 s more CPU than at 256 (26.5 s). Since runs are given whole to a worker with room
# (scanner.execute.Backlog), 1024 or unbounded runs measured the same as 256 on rails (12.6-12.8 s,
# within noise) and no better on requests.
ROUTE_RUN = 256


@dataclass
class HistoryResult:
    findings: list[Finding]
    stats: ScanStats
    tips: list[str]  # the ref tips this scan covered (incremental state)
    scanned: set[bytes]  # raw ids of every blob read (and earlier runs'), for the incremental state
    # fingerprint -> (blobs holding the value, every path it was at)
    where: dict[str, tuple[set[bytes], set[str]]] = field(default_factory=dict)
    missing: set[bytes] = field(default_factory=set)  # blobs git log named that could not be read
    found_in: set[bytes] = field(default_factory=set)  # blobs read by this run that hold findings


# -- repository discovery ---------------------------------------------------------------------


def resolve_commit(repo: Path | str, rev: str, what: str) -> str:
    """A revision name to a commit id, or a one-line error naming the option."""
    if not rev or rev.startswith("-"):
        raise LeakstopError(f"{what}: invalid revision {rev!r}")
    out = run_git(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], check=False)
    sha = out.strip().decode()
    if not sha:
        raise LeakstopError(f"{what}: unknown revision '{rev}'")
    return sha


def resolve_branch(repo: Path | str, name: str) -> str:
    """A branch (or any ref) name to the full ref name, preferring local branches."""
    if not name or name.startswith("-"):
        raise LeakstopError(f"--branch: invalid branch name {name!r}")
    for cand in (f"refs/heads/{name}", f"refs/remotes/{name}", f"refs/tags/{name}", name):
        out = run_git(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{cand}^{{commit}}"], check=False)
        if out.strip():
            return cand
    raise LeakstopError(f"--branch: no branch or ref named '{name}'")


def named_tips(repo: Path | str, refs: Sequence[str]) -> list[tuple[str, str]]:
    """(ref name, commit id) of the given refs (every ref, and HEAD, when empty)."""
    if refs:
        out = run_git(repo, ["rev-parse", "--end-of-options", *[f"{r}^{{commit}}" for r in refs]])
        # rev-parse echoes the --end-of-options marker among the ids it prints
        shas = [t for t in out.decode().split() if not t.startswith("-")]
        return sorted(zip(refs, shas))
    out = run_git(repo, ["for-each-ref", "--format=%(objecttype):%(objectname):%(*objecttype):%(*objectname):%(refname)"])
    tips = []
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        kind, sha, peeled_kind, peeled, name = line.split(":", 4)
        # Annotated tags are peeled; refs to trees or blobs have no history to walk (a tag of a
        # tag is peeled by git all the way down).
        if kind == "commit":
            tips.append((name, sha))
        elif peeled_kind == "commit":
            tips.append((name, peeled))
    head = run_git(repo, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], check=False).strip().decode()
    if head:
        tips.append(("HEAD", head))
    return sorted(tips)


# Past this many (ref tip, path) lookups, which refs still hold each value is not computed (a
# note says so): thousands of tags times thousands of paths would cost more than the audit.
MAX_REF_LOOKUPS = 500_000


def refs_holding(repo: Path | str, named: Sequence[tuple[str, str]],
                 wanted: dict[str, tuple[set[bytes], set[bytes]]]) -> Optional[dict[str, list[str]]]:
    """For each key of ``wanted`` (raw blob ids, raw paths of one value): the refs whose tip holds
    one of those blobs at one of those paths, from one ``git cat-file --batch-check`` of
    ``<tip>:<path>``; None when that would take more than MAX_REF_LOOKUPS lookups."""
    by_tip: dict[str, list[str]] = {}
    for name, sha in named:
        if name != "HEAD":  # HEAD is live_at_head
            by_tip.setdefault(sha, []).append(name)
    paths = sorted({p for _, ps in wanted.values() for p in ps if b"\n" not in p})
    if len(by_tip) * len(paths) > MAX_REF_LOOKUPS:
        return None
    queries = [(tip, p) for tip in by_tip for p in paths]
    out = run_git(repo, ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                  input=b"".join(tip.encode() + b":" + p + b"\n" for tip, p in queries)) if queries else b""
    at: dict[tuple[str, bytes], bytes] = {}
    for (tip, p), line in zip(queries, out.split(b"\n")):
        parts = line.split()
        if len(parts) == 2 and parts[1] == b"blob" and len(parts[0]) == 40:
            at[(tip, p)] = bytes.fromhex(parts[0].decode())
    return {key: sorted(name for tip, names in by_tip.items() for name in names
                        if any(at.get((tip, p)) in blobs for p in ps))
            for key, (blobs, ps) in wanted.items()}


def head_blobs(repo: Path | str, head: Optional[str]) -> set[bytes]:
    """Raw ids of the blobs in HEAD's tree (what is still 'live')."""
    if not head:
        return set()
    out = run_git(repo, ["ls-tree", "-r", "-z", "--full-tree", head])
    blobs = set()
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta = entry.split(b"\t", 1)[0].split()
        if len(meta) == 3 and meta[1] == b"blob":
            blobs.add(bytes.fromhex(meta[2].decode()))
    return blobs


def commit_infos(repo: Path | str, shas: Sequence[str]) -> dict[str, CommitInfo]:
    """Author and date of the given commits, in one git call."""
    if not shas:
        return {}
    out = run_git(
        repo,
        ["log", "--no-walk=unsorted", "--stdin", "-z", "--format=%H%x00%an%x00%ae%x00%aI"],
        input="\n".join(shas).encode() + b"\n",
    )
    infos = {}
    fields = out.split(b"\0")
    for i in range(0, len(fields) - 3, 4):
        sha = fields[i].strip().decode()
        infos[sha] = CommitInfo(
            sha=sha,
            author=fields[i + 1].decode("utf-8", "replace"),
            email=fields[i + 2].decode("utf-8", "replace"),
            date=fields[i + 3].decode(),
        )
    return infos


# -- enumeration: git log --raw -----------------------------------------------------------------


class CommitLog:
    """What ``git log --raw`` says, stored compactly (rails: ~1M entries in a few dozen MB).

    ``commits`` holds (sha, commit time) in log order, ``blobs`` the raw ids of every blob named;
    additions and removals are parallel arrays of (blob index, commit index, path index).
    """

    def __init__(self) -> None:
        self.commits: list[tuple[str, int]] = []
        self.paths: list[bytes] = []
        self._path_ids: dict[bytes, int] = {}
        self.blobs: list[bytes] = []
        self.blob_ids: dict[bytes, int] = {}
        self.add_blob = array("I")
        self.add_commit = array("I")
        self.add_path = array("I")
        self.del_blob = array("I")
        self.del_commit = array("I")
        self.del_path = array("I")

    def path_id(self, path: bytes) -> int:
        pid = self._path_ids.get(path)
        if pid is None:
            pid = self._path_ids[path] = len(self.paths)
            self.paths.append(path)
        return pid

    def blob_id(self, raw: bytes) -> int:
        bid = self.blob_ids.get(raw)
        if bid is None:
            bid = self.blob_ids[raw] = len(self.blobs)
            self.blobs.append(raw)
        return bid

    def entry(self, meta: bytes, path: bytes, commit: int, submodules: set[bytes]) -> Optional[bytes]:
        """Record one ``--raw`` entry (``meta``, its ``path``) of commit ``commit``: the blob it
        adds and the one it replaces; the raw id of the added blob, if any (a submodule's path
        goes to ``submodules``)."""
        (dst_mode, dst), src = _raw_entry(meta)
        pid = -1
        added = None
        if dst_mode == b"160000":
            submodules.add(path)
        elif dst.strip(b"\0"):  # files and symbolic links (a link's blob is its target text)
            pid = self.path_id(path)
            self.add_blob.append(self.blob_id(dst))
            self.add_commit.append(commit)
            self.add_path.append(pid)
            added = dst
        if src is not None:
            src_mode, src_id = src
            if src_id != dst and src_id.strip(b"\0") and src_mode != b"160000":
                self.del_blob.append(self.blob_id(src_id))
                self.del_commit.append(commit)
                self.del_path.append(pid if pid >= 0 else self.path_id(path))
        return added

    def occurrences(self, wanted: set[bytes], removals: bool = False) -> dict[bytes, list[tuple[int, int]]]:
        """For each wanted raw blob id, its (commit index, path index) additions (or removals)."""
        blob, com, pth = (self.del_blob, self.del_commit, self.del_path) if removals else (
            self.add_blob, self.add_commit, self.add_path)
        out: dict[bytes, list[tuple[int, int]]] = collections.defaultdict(list)
        ids = {self.blob_ids[w]: w for w in wanted if w in self.blob_ids}
        if not ids:
            return out
        for i, b in enumerate(blob):
            if b in ids:
                out[ids[b]].append((com[i], pth[i]))
        return out


def log_command(revs: Sequence[str], excludes: Sequence[str]) -> list[str]:
    # -c: merges list only paths whose result differs from every parent; --root: a root (or
    # shallow boundary) commit introduces its whole tree; -z: paths with newlines or any bytes.
    # Revisions come on stdin (see log_input): a mirror can have more refs than fit in argv.
    return ["log", "--raw", "-c", "--root", "--no-renames", "--no-abbrev", "-z", "--no-textconv",
            "--no-ext-diff", "--format=%x01%H %ct", "--stdin", "--"]


def log_input(revs: Sequence[str], excludes: Sequence[str]) -> bytes:
    return "".join([f"{r}\n" for r in revs] + [f"^{e}\n" for e in excludes]).encode()


def parse_log(stream, log: CommitLog, stats: ScanStats) -> Iterator[tuple[str, bytes, bytes]]:
    """Parse ``git log --raw -z`` output into ``log``; yield (hex id, path, raw id) of each blob
    a commit adds. ``stream.read(n)`` may return short reads."""
    commit_idx = -1
    pending_meta: Optional[bytes] = None
    rest = b""
    submodules: set[bytes] = set()
    entry = log.entry
    while chunk := stream.read(1 << 20):
        tokens = (rest + chunk).split(b"\0")
        rest = tokens.pop()
        for tok in tokens:
            if pending_meta is not None:
                added = entry(pending_meta, tok, commit_idx, submodules)
                pending_meta = None
                if added is not None:
                    yield added.hex(), tok, added
                continue
            if not tok:
                continue
            if tok[0] == 10:  # "\n" separates a commit's header from its first raw entry
                tok = tok[1:]
            if tok[:1] == b"\x01":
                log.commits.append(_commit_header(tok))
                commit_idx += 1
                stats.commits += 1
            elif tok[:1] == b":":
                if commit_idx < 0:  # a record before any commit
                    raise LeakstopError(_UNEXPECTED)
                pending_meta = tok
    if submodules:
        stats.skipped["submodule"] += len(submodules)
        names = ", ".join(sorted(p.decode("utf-8", "backslashreplace") for p in submodules)[:5])
        stats.notes.append(f"{len(submodules)} submodule path(s) skipped (scan them separately): {names}")


_UNEXPECTED = "unexpected output from git log (is this git too old?)"


def _raw_entry(meta: bytes) -> tuple[tuple[bytes, bytes], Optional[tuple[bytes, bytes]]]:
    """A ``--raw`` record's metadata (``:old new oldsha newsha S``; a merge's ``-c`` record has
    a mode and an id per parent, then the result's) as ((mode, raw id) of the result, (mode, raw
    id) of the one parent or None for a merge)."""
    fields = meta.split()
    nparents = max(len(meta) - len(meta.lstrip(b":")), 1)
    if len(fields) != 2 * nparents + 3:
        raise LeakstopError(_UNEXPECTED)
    try:
        dst = (fields[nparents], bytes.fromhex(fields[2 * nparents + 1].decode("ascii")))
        src = None
        if nparents == 1:
            src = (fields[0].lstrip(b":"), bytes.fromhex(fields[2].decode("ascii")))
    except ValueError:
        raise LeakstopError(_UNEXPECTED) from None
    return dst, src


def _commit_header(tok: bytes) -> tuple[str, int]:
    """(sha, commit time) of a ``\x01%H %ct`` header."""
    sha, _, ct = tok[1:].partition(b" ")
    try:
        return sha.decode("ascii"), int(ct or 0)
    except ValueError:
        raise LeakstopError(_UNEXPECTED) from None


class VersionCache:
    """The last scanned version of each path, least recently used first out, bounded in bytes.
    The parent sends a path's blobs to one worker in runs (HistorySource.route), so a file's
    versions arrive one after another here and each is scanned as a delta against the one before
    (a run's first, against the last version of the path this worker saw)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._by_path: collections.OrderedDict = collections.OrderedDict()
        self._held = 0

    def pop(self, path: str):
        version = self._by_path.pop(path, None)
        if version is not None:
            self._held -= len(version.data)
        return version

    def put(self, path: str, version) -> None:
        self.pop(path)
        self._by_path[path] = version
        self._held += len(version.data)
        while self._held > self.budget and self._by_path:
            _, old = self._by_path.popitem(last=False)
            self._held -= len(old.data)


# -- the scan ------------------------------------------------------------------------------


@dataclass
class HistoryOptions:
    refs: tuple[str, ...] = ()  # full ref names; empty = all refs and HEAD
    excludes: tuple[str, ...] = ()  # commits whose ancestry is not scanned (--since, incremental)
    jobs: int = 0  # 0 = one worker per core
    progress: Optional[float] = None  # the bar's delay (scanner.progress.bar_delay); None: no bar
    known_blobs: frozenset[bytes] = frozenset()  # already scanned (incremental)
    prior: dict = field(default_factory=dict)  # fingerprint -> Prior, from earlier runs (incremental)
    # (rule id, value) -> the baseline's keyed hash, run in the workers while the value is in
    # memory (Finding.baseline_hash); baseline_id names the baseline's salt for the saved state.
    baseline_hash: Optional[Callable[[str, bytes], str]] = None
    baseline_id: str = ""
    keep_values: bool = False  # the reported findings keep their value in memory (for --verify)


def decode_path(path: bytes) -> str:
    """Paths are bytes in git; non-UTF-8 bytes are shown as escapes, never lost (as in every mode)."""
    return display_bytes(path)


# -- enumerate: the blobs the selected commits introduce ----------------------------------------


def enumerate_blobs(repo: str, tips: Sequence[str], excludes: Sequence[str], log: CommitLog,
                    stats: ScanStats) -> Iterator[tuple[str, bytes, bytes]]:
    """(hex id, path, raw id) of every blob the commits reachable from ``tips`` (and not from
    ``excludes``) add, in ``git log`` order, read from one ``git log --raw`` as it runs; the
    commits, additions and removals are recorded in ``log``."""
    proc = subprocess.Popen(["git", "-C", repo, *log_command(tips, excludes)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=1 << 20)
    try:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        grow_pipe(proc.stdout)
        try:  # git reads every revision before it prints anything, so this cannot block on stdout
            proc.stdin.write(log_input(tips, excludes))
            proc.stdin.close()
        except BrokenPipeError:
            pass
        yield from parse_log(_Reads(proc.stdout), log, stats)
        err = proc.stderr.read()
        if proc.wait() != 0:
            msg = err.decode("utf-8", "replace").strip().splitlines()
            raise LeakstopError(f"git log: {(msg[0] if msg else 'failed').removeprefix('fatal: ')}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class _Reads:
    """A pipe read as it fills (``read1``: what is there, not a full buffer)."""

    def __init__(self, pipe) -> None:
        self.read = pipe.read1


class PathFilter:
    """Whether a path's blobs count: not excluded (``--exclude``, configuration) and not on the
    allowlist's paths (the engine would drop their findings anyway). Answers are kept per path."""

    def __init__(self, engine) -> None:
        config = engine.config
        self.exclude = PathPatterns(config.exclude) if config.exclude else None
        self.allow = getattr(engine, "_allow_paths", None)
        self.known: dict[bytes, bool] = {}

    def __call__(self, path: bytes) -> bool:
        ok = self.known.get(path)
        if ok is None:
            text = decode_path(path)
            ok = not ((self.exclude is not None and self.exclude.match(text))
                      or (self.allow is not None and self.allow.match(text)))
            self.known[path] = ok
        return ok


# -- scan: in worker processes, one pipelined cat-file each, deltas per path ---------------------


def blob_chunk(name: str, path: str, data: bytes) -> tuple[Chunk, str]:
    """A blob as the engine scans it, and its textify kind."""
    text, kind = textify(data)
    return Chunk(path=path, data=text, blob=name, binary=kind == BINARY), kind


def _scan_blob(engine, versions: "VersionCache", chunk: Chunk, kind: str, baseline_hash=None) -> list[Finding]:
    """Scan one blob, as a delta of its path's previous version when that was text too. The
    values travel to the parent in memory (a pipe) so that paths holding one are shown masked
    (the findings it reports carry none); ``baseline_hash`` of each is computed here, where the
    baseline's hashing of one value is paid once."""
    if kind == TEXT:
        found, version = engine.scan_version(chunk, versions.pop(chunk.path))
        if version is not None:
            versions.put(chunk.path, version)
    else:  # decoded or binary: scanned whole (a delta needs the same rules on both versions)
        versions.pop(chunk.path)
        found = engine.scan(chunk)
    if baseline_hash is not None:
        for f in found:
            f.baseline_hash = baseline_hash(f.rule_id, f.secret)
    return found


def _feed(reader: CatFile, batches: Iterable[tuple[int, list]], pending: collections.deque) -> None:
    """Name every blob of every batch to cat-file as the batches arrive (a thread of the worker)."""
    try:
        for _, batch in batches:
            pending.extend(batch)
            reader.request([name for name, _ in batch])
        reader.end_requests()
    except (BrokenPipeError, OSError):
        pass


def scan_blobs(repo: str, engine, batches: Iterable[tuple[int, list]], baseline_hash=None
               ) -> Iterator[tuple[int, int, list, ScanStats]]:
    """A worker's part of a history: the blobs of ``batches`` ((number, [(hex id, path)])) read
    through one pipelined cat-file (a thread names them as they arrive) and scanned against the
    previous version of their path; every BATCH blobs, a report (0, how many, results, its share
    of the statistics). A result is (hex id, findings), or (hex id, None) for a missing blob."""
    reader = CatFile(repo, pipelined=True)
    pending: collections.deque = collections.deque()
    threading.Thread(target=_feed, args=(reader, batches, pending), daemon=True).start()
    versions = VersionCache(VERSION_BUDGET)
    limit = engine.config.max_file_size
    stats, results, done = ScanStats("history"), [], 0
    while (answer := reader.next(limit))[0] != "end":
        name, path = pending.popleft()
        found = _scan_answer(engine, versions, stats, answer, name, path, baseline_hash)
        if found is not None:
            results.append(found)
        done += 1
        if done >= BATCH:
            yield 0, done, results, stats
            stats, results, done = ScanStats("history"), [], 0
    reader.close()
    yield 0, done, results, stats


def _scan_answer(engine, versions: "VersionCache", stats: ScanStats, answer: tuple, name: str, path: str,
                 baseline_hash=None) -> Optional[tuple[str, Optional[list[Finding]]]]:
    """What cat-file answered for one blob, counted and scanned: (name, findings) when it has
    findings, (name, None) when it is missing (the parent must not record it as read)."""
    status, data, size = answer
    if status == "missing":
        stats.skipped["missing"] += 1
        return name, None
    if status == "too large":
        stats.skip_large(path)
    elif status != "ok":
        stats.skipped[status] += 1
    else:
        chunk, kind = blob_chunk(name, path, data)
        stats.count(kind, size)
        found = _scan_blob(engine, versions, chunk, kind, baseline_hash)
        return (name, found) if found else None
    return None


class HistorySource:
    """The history as a source (scanner.sources.base): a unit is a blob introduced by the walked
    commits, (hex id, path), each blob once; a path's versions go to the workers in runs
    (``route``), newest first, where each is scanned as a delta of the previous one; the findings are then
    attributed to commits (:func:`attribute`)."""

    name = "history"
    parallel = True
    serial_cpu = None  # always in workers: enumeration (git log) runs while they scan
    batch = BATCH
    bar_total = True

    def __init__(self, repo: Path | str, engine, options: "HistoryOptions", info: RepoInfo) -> None:
        self.repo, self.engine, self.options, self.info = str(repo), engine, options, info
        self.stats = ScanStats("history")
        self.log = CommitLog()
        self.seen: set[bytes] = set(options.known_blobs)
        self.keep = PathFilter(engine)
        self.named = named_tips(self.repo, options.refs)
        self.tips = sorted({sha for _, sha in self.named})
        self.missing: set[bytes] = set()  # named by git log but absent from the object database
        self.found_in: set[bytes] = set()  # read by this run, holding findings
        self.where: dict[str, tuple[set[bytes], set[str]]] = {}
        self._reader: Optional[CatFile] = None
        self._routed: dict[str, int] = {}  # path -> its versions routed so far
        self._notes_first()

    def _notes_first(self) -> None:
        if self.info.shallow:
            self.stats.notes.append("shallow clone: history before the shallow boundary is not available; "
                                    "scanned what exists")
        if self.info.head is None:
            ref = f" ({self.info.head_ref} has no commits)" if self.info.head_ref else ""
            self.stats.notes.append(f"HEAD is unborn{ref}: nothing is live at HEAD")
        if not self.tips:
            self.stats.notes.append("empty repository: no commits to scan")

    def units(self) -> Iterator[tuple[str, str]]:
        """Each blob the walked commits introduce, the first time it is met (an excluded path
        does not mark the blob: it may appear elsewhere)."""
        seen, keep = self.seen, self.keep
        for hexid, path, raw in enumerate_blobs(self.repo, self.tips, self.options.excludes, self.log, self.stats):
            if raw not in seen and keep(path):
                seen.add(raw)
                yield hexid, decode_path(path)

    def route(self, unit: tuple[str, str]) -> tuple[str, int]:
        """The route of each unit, in enumeration order: a path's versions in runs of ROUTE_RUN, so
        that one worker scans a run, each version as a delta of the one before. By path alone, the
        most edited files decided the split: one of two workers got 60% of requests' history. A
        run that starts on another worker is a delta of the last version of the path that worker
        saw, or a whole scan: a little more work for an even split."""
        path = unit[1]
        n = self._routed.get(path, 0)
        self._routed[path] = n + 1
        return path, n // ROUTE_RUN

    def load(self, unit: tuple[str, str]) -> Iterator[Chunk]:
        """One blob read on its own (the workers read theirs pipelined: :meth:`scan_batches`)."""
        self._reader = self._reader or CatFile(self.repo)
        status, data = self._reader.read(unit[0], self.engine.config.max_file_size)
        if data is None:
            self.stats.skipped[status] += 1
            if status == "missing":
                self.missing.add(bytes.fromhex(unit[0]))
            return
        chunk, kind = blob_chunk(unit[0], unit[1], data)
        self.stats.count(kind, len(data))
        yield chunk

    def scan_batches(self, engine, batches: Iterable[tuple[int, list]]) -> Iterator[tuple[int, int, list, ScanStats]]:
        return scan_blobs(self.repo, engine, batches, self.options.baseline_hash)

    def attribute(self, results: Sequence[tuple]) -> list[Finding]:
        """One finding per value, attributed to commits (:func:`attribute`), merged with an
        earlier incremental run's; notes for what could not be scanned. A result is (hex id,
        findings or None when missing), or from a worker that keeps the values to itself (hex
        id, findings without their values, how each one shows the blob's paths: :func:`shown_paths`)."""
        blob_findings: dict[bytes, list[Finding]] = {}
        shown: dict[str, dict[str, str]] = {}
        for name, found, *how in results:
            if found is None:
                self.missing.add(bytes.fromhex(name))
                continue
            blob_findings[bytes.fromhex(name)] = found
            for f, paths in zip(found, how[0] if how else ()):
                shown.setdefault(f.fingerprint, {}).update(paths)
        self._notes_last()
        self.found_in = set(blob_findings)
        for rec in self.options.prior.values():  # known blobs re-introduced by new commits
            for raw in rec.blobs:
                blob_findings.setdefault(raw, []).append(rec.finding)
        findings, self.where = attribute(self.repo, self.log, blob_findings, self.info, self.options.prior,
                                         self.keep, self.named, shown)
        if not self.options.keep_values:
            for f in findings:
                f.secret = b""  # reported history findings carry no value unless verification needs it
        if findings and "live_refs" not in findings[0].extra:
            self.stats.notes.append(f"too many refs and paths to tell which refs still hold each secret (over "
                                    f"{MAX_REF_LOOKUPS} lookups): live_refs is left out; live_at_head is exact")
        return findings

    def result(self, findings: list[Finding]) -> HistoryResult:
        """The attributed findings with what the incremental state keeps."""
        return HistoryResult(findings, self.stats, self.tips, self.seen - self.missing, self.where, self.missing,
                             self.found_in)

    def _notes_last(self) -> None:
        self.stats.notes.extend(self.stats.size_notes(self.engine.config.max_file_size))
        if self.missing:
            self.stats.notes.append(
                f"{len(self.missing)} blob(s) could not be read (missing from the object database: a damaged "
                "repository or a partial clone without its remote; try `git fsck`): they were not scanned"
            )


def scan_history(repo: Path | str, engine, options: "HistoryOptions", info: Optional[RepoInfo] = None) -> HistoryResult:
    """Scan every blob introduced by the selected commits once, and attribute the findings."""
    from scanner.execute import execute
    from scanner.progress import progress_bar

    source = HistorySource(repo, engine, options, info or open_repo(repo))
    if not source.tips:
        return HistoryResult([], source.stats, [], set(options.known_blobs))
    bar = progress_bar(options.progress, unit="blob", desc="leakstop history")
    try:
        findings = execute(source, engine, options.jobs or os.cpu_count() or 1, bar)
    finally:
        bar.close()
    return source.result(findings)


# -- attribute: one finding per value, its commits, paths and liveness ------------------------------


@dataclass
class Prior:
    """A finding reported by an earlier incremental run, with what is needed to merge it."""

    finding: Finding  # first introduction as reported then (commit, path, line)
    commits: int
    paths: set[str]
    blobs: set[bytes]
    removed: Optional[dict] = None


@dataclass
class _Group:
    """Every occurrence of one value (one fingerprint) across the history."""

    finding: Optional[Finding] = None  # as found in the blob of its first introduction
    first: Optional[tuple[tuple[int, int, int], int, int]] = None  # (order key, commit index, path index)
    commits: set[int] = field(default_factory=set)
    pis: set[int] = field(default_factory=set)  # path indexes
    raw_paths: set[bytes] = field(default_factory=set)
    blobs: set[bytes] = field(default_factory=set)
    removed: list[tuple[int, int]] = field(default_factory=list)  # (commit index, path index)
    values: set[bytes] = field(default_factory=set)
    value: bytes = b""
    redact: Callable[[str], str] = str  # how a path is shown: the value and random-looking runs masked
    paths: set[str] = field(default_factory=set)  # as shown: decoded, values masked


def _order(log: CommitLog, ci: int, pi: int) -> tuple[int, int, int]:
    # Earliest = oldest commit time; on ties the one git listed later (closer to the root); one
    # commit at two paths: by path index, so the answer never depends on which worker reported first.
    return (log.commits[ci][1], -ci, -pi)


def _latest_removal(log: CommitLog, removed: list[tuple[int, int]]) -> tuple[int, int]:
    return max(removed, key=lambda r: _order(log, *r))


def _shower(values: set[bytes], shown: dict[str, str]) -> Callable[[str], str]:
    """A path as shown: masked by the value's Redactor, or as a worker that kept the value to
    itself already showed it (:func:`shown_paths`)."""
    redact = Redactor(values)
    return lambda text: shown.get(text) or redact(text) or ""


def shown_paths(found: Sequence[Finding], paths: Sequence[str]) -> list[dict[str, str]]:
    """For each finding, each of ``paths`` as the attribution shows it (its value masked): what a
    worker sends instead of the value, which then never leaves it."""
    return [{p: Redactor({f.secret} if f.secret else set())(p) or "" for p in paths} for f in found]


def _groups(log: CommitLog, blob_findings: dict[bytes, list[Finding]], prior: dict[str, Prior],
            keep_path: Optional[Callable[[bytes], bool]], shown: dict[str, dict[str, str]]) -> dict[str, _Group]:
    """The occurrences of each value: every (commit, path) that added a blob holding it (excluded
    or allowlisted paths do not count), the earliest, the removals, and prior runs' blobs and paths."""
    wanted = set(blob_findings)
    for rec in prior.values():
        wanted |= rec.blobs
    adds = log.occurrences(wanted)
    groups: dict[str, _Group] = {}
    for blob, found in blob_findings.items():
        occ = [(c, p) for c, p in adds.get(blob, []) if keep_path is None or keep_path(log.paths[p])]
        for f in found if occ else ():
            g = groups.setdefault(f.fingerprint, _Group())
            g.blobs.add(blob)
            if f.secret:
                g.values.add(f.secret)
            for ci, pi in occ:
                g.commits.add(ci)
                g.pis.add(pi)
                g.raw_paths.add(log.paths[pi])
                key = _order(log, ci, pi)
                if g.first is None or key < g.first[0]:
                    g.first, g.finding = (key, ci, pi), f
    for fp, rec in prior.items():
        g = groups.setdefault(fp, _Group())
        g.blobs |= rec.blobs
        g.raw_paths |= {p.encode("utf-8") for p in rec.paths}
    dels = log.occurrences(wanted, removals=True)
    for fp, g in groups.items():
        for blob in g.blobs:
            g.removed.extend(dels.get(blob, []))
        # Paths are shown (and kept in the incremental state) with the value and random-looking
        # runs masked; one fingerprint, one value (HistoryOptions.keep_values).
        g.value = min(g.values) if g.values else b""
        g.redact = _shower(g.values, shown.get(fp, {}))
        g.paths = {g.redact(decode_path(log.paths[pi])) for pi in g.pis}
    return groups


def attribute(
    repo: str,
    log: CommitLog,
    blob_findings: dict[bytes, list[Finding]],
    info: RepoInfo,
    prior: Optional[dict[str, Prior]] = None,
    keep_path: Optional[Callable[[bytes], bool]] = None,
    named: Sequence[tuple[str, str]] = (),
    shown: Optional[dict[str, dict[str, str]]] = None,
) -> tuple[list[Finding], dict[str, tuple[set[bytes], set[str]]]]:
    """One finding per value: first introduction, counts, removal and liveness (at HEAD, and the
    refs of ``named`` whose tip still holds it); also, per fingerprint, every blob holding the
    value and every path it was at (for the state file).

    ``prior`` (incremental runs) holds the findings of the commits not walked this time: their
    counts are added to the new occurrences and their first introduction wins (older commits).
    """
    prior = prior or {}
    groups = _groups(log, blob_findings, prior, keep_path, shown or {})
    live = head_blobs(repo, info.head)
    holding = refs_holding(repo, named, {fp: (g.blobs, g.raw_paths) for fp, g in groups.items()})
    need = {log.commits[g.first[1]][0] for fp, g in groups.items() if g.first and fp not in prior}
    need |= {log.commits[_latest_removal(log, g.removed)[0]][0] for g in groups.values() if g.removed}
    infos = commit_infos(repo, sorted(need))
    out = []
    for fp, g in groups.items():
        finding, g.paths = _attributed(fp, g, log, prior.get(fp), infos, bool(g.blobs & live), holding)
        out.append(finding)
    out.sort(key=lambda f: (f.commit.date if f.commit else "", f.path, f.line, f.rule_id))
    return out, {fp: (g.blobs, g.paths) for fp, g in groups.items()}


def _attributed(fp: str, g: _Group, log: CommitLog, rec: Optional[Prior], infos: dict[str, CommitInfo],
                is_live: bool, holding: Optional[dict[str, list[str]]]) -> tuple[Finding, set[str]]:
    """The reported finding of one value, and every path it was at."""
    if rec is not None:
        base = rec.finding
        commit, path = base.commit, base.path
        ncommits, paths = rec.commits + len(g.commits), rec.paths | g.paths
    else:
        assert g.finding is not None and g.first is not None
        base = g.finding
        _, ci, pi = g.first
        sha = log.commits[ci][0]
        commit = infos.get(sha) or CommitInfo(sha=sha, author="", email="", date="")
        path = g.redact(decode_path(log.paths[pi]))
        ncommits, paths = len(g.commits), g.paths
    assert commit is not None
    extra: dict = {
        "first_commit": {"sha": commit.sha, "author": commit.author, "email": commit.email, "date": commit.date,
                         "path": path},
        "commits": ncommits,
        "paths": len(paths),
        "path_list": sorted(paths)[:50],
        "live_at_head": is_live,
    }
    if holding is not None:
        extra["live_refs"] = holding[fp][:50]
        extra["live_ref_count"] = len(holding[fp])
    if not is_live:
        removed = _removal(g, log, infos) or (rec.removed if rec is not None else None)
        if removed:
            extra["removed_commit"] = removed
    return Finding(
        rule_id=base.rule_id, provider=base.provider, description=base.description, severity=base.severity,
        category=base.category, path=path, line=base.line, column=base.column, end_column=base.end_column,
        masked=base.masked, fingerprint=fp, secret_hash=base.secret_hash, key=base.key, commit=commit,
        extra=extra, baseline_hash=base.baseline_hash, secret=g.value, confidence=base.confidence,
        signals=dict(base.signals),
    ), paths


def _removal(g: _Group, log: CommitLog, infos: dict[str, CommitInfo]) -> Optional[dict]:
    """The latest commit that replaced or deleted a blob holding the value, or None."""
    if not g.removed:
        return None
    rci, rpi = _latest_removal(log, g.removed)
    rsha = log.commits[rci][0]
    rinfo = infos.get(rsha)
    return {"sha": rsha, "author": rinfo.author if rinfo else "", "date": rinfo.date if rinfo else "",
            "path": g.redact(decode_path(log.paths[rpi]))}
