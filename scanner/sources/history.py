"""Full-history audit: every blob reachable from the selected refs, each scanned exactly once.

Design (measured against the patch-based alternative in docs/history.md):

1. ``git log --raw -c --no-renames -z`` over the selected refs lists, for every commit, the blob
   ids it introduced per path (merges: only what differs from *all* parents, i.e. conflict
   resolutions and evil merges; everything else a merge carries was introduced by a parent).
   Raw diffs compare tree entries only, so this is cheap even on 100k commits.
2. Each blob id seen for the first time is dispatched to a worker process (one per core) chosen
   by its path, so a path's versions reach one worker, newest first. Each worker owns one
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
import multiprocessing
import os
import subprocess
import threading
import zlib
from array import array
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional, Sequence

from scanner.config import format_size
from scanner.display import display_bytes
from scanner.errors import LeakstopError, describe_bug
from scanner.models import Chunk, CommitInfo, Finding, Redactor
from scanner.sources.textify import BINARY, TEXT, textify
from scanner.sources.git import CatFile, RepoInfo, grow_pipe, open_repo, run_git

GITLINK = "160000"
TOO_LARGE_NAMES = 5  # paths named in the note about blobs skipped for their size
BATCH = 256  # blobs per message to a worker: amortises queue pickling
VERSION_BUDGET = 48 << 20  # bytes of earlier file versions each worker keeps to diff against


@dataclass
class HistoryStats:
    commits: int = 0
    commits_skipped: int = 0  # already scanned in an earlier incremental run
    blobs: int = 0
    bytes: int = 0
    skipped: collections.Counter = field(default_factory=collections.Counter)
    decoded: collections.Counter = field(default_factory=collections.Counter)  # textify kind -> blobs
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = {
            "commits_scanned": self.commits,
            "commits_skipped": self.commits_skipped,
            "blobs_scanned": self.blobs,
            "bytes_scanned": self.bytes,
            "skipped": dict(self.skipped),
            "notes": list(self.notes),
        }
        if self.decoded:
            out["decoded"] = dict(self.decoded)
        return out


@dataclass
class HistoryResult:
    findings: list[Finding]
    stats: HistoryStats
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


def parse_log(stream, log: CommitLog, on_blob: Callable[[str, bytes, bytes], None], stats: HistoryStats) -> None:
    """Parse ``git log --raw -z`` output; call ``on_blob(hex id, path, raw id)`` for each added blob."""
    commit_idx = -1
    pending_meta: Optional[bytes] = None
    rest = b""
    submodules: set[bytes] = set()
    add_blob, add_commit, add_path = log.add_blob, log.add_commit, log.add_path
    del_blob, del_commit, del_path = log.del_blob, log.del_commit, log.del_path
    path_id, blob_id = log.path_id, log.blob_id
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        tokens = (rest + chunk).split(b"\0")
        rest = tokens.pop()
        for tok in tokens:
            if pending_meta is not None:
                (dst_mode, dst), src = _raw_entry(pending_meta)
                pending_meta = None
                pid = -1
                if dst_mode == b"160000":
                    submodules.add(tok)
                elif dst.strip(b"\0"):  # files and symbolic links (a link's blob is its target text)
                    pid = path_id(tok)
                    add_blob.append(blob_id(dst))
                    add_commit.append(commit_idx)
                    add_path.append(pid)
                    on_blob(dst.hex(), tok, dst)
                if src is not None:
                    src_mode, src_id = src
                    if src_id != dst and src_id.strip(b"\0") and src_mode != b"160000":
                        if pid < 0:
                            pid = path_id(tok)
                        del_blob.append(blob_id(src_id))
                        del_commit.append(commit_idx)
                        del_path.append(pid)
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


# -- workers: one git cat-file --batch each --------------------------------------------------


def _worker(repo: str, engine, max_size: int, inq, outq, baseline_hash=None) -> None:
    try:
        _work(repo, engine, max_size, inq, outq, baseline_hash)
    except BaseException as exc:  # reported by the parent as one line, not a child traceback
        msg = exc.message if isinstance(exc, LeakstopError) else f"internal error: {describe_bug(exc)} (please report it)"
        outq.put(("error", msg))


def _work(repo: str, engine, max_size: int, inq, outq, baseline_hash=None) -> None:
    """Read blobs named on ``inq`` through one cat-file process, scan them, report on ``outq``."""
    reader = CatFile(repo, buffered=True)
    pending: collections.deque = collections.deque()
    versions = VersionCache(VERSION_BUDGET)

    def feed() -> None:
        try:
            for batch in iter(inq.get, None):
                pending.extend(batch)
                reader.request([name for name, _ in batch])
            reader.end_requests()
        except (BrokenPipeError, OSError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    results: list = []
    counts = collections.Counter()
    decoded = collections.Counter()
    too_large: list[str] = []  # paths of the first few blobs skipped for their size
    nbytes = 0
    done = 0
    while True:
        status, data, size = reader.next(max_size)
        if status == "end":
            break
        name, path = pending.popleft()
        if status == "missing":
            results.append((name, None))  # not read: the parent must not record it as scanned
        elif status == "ok":
            nbytes += size
            status = "scanned"
            found, kind = _scan_blob(engine, versions, Chunk(path=path, data=data, blob=name), baseline_hash)
            if kind != TEXT:
                decoded[kind] += 1
            if found:
                results.append((name, found))
        elif status == "too large" and len(too_large) < TOO_LARGE_NAMES:
            too_large.append(path)
        counts[status] += 1
        done += 1
        if done >= BATCH:
            outq.put(("progress", done, nbytes, counts, results, decoded, too_large))
            results, counts, decoded, too_large, nbytes, done = [], collections.Counter(), collections.Counter(), [], 0, 0
    reader.close()
    outq.put(("progress", done, nbytes, counts, results, decoded, too_large))
    outq.put(("done",))


def _scan_blob(engine, versions: "VersionCache", chunk: Chunk, baseline_hash=None) -> tuple[list[Finding], str]:
    """Scan one blob, as a delta of its path's previous version when that was text too; its
    findings and its textify kind. The values travel to the parent in memory (a pipe) so that
    paths holding one are shown masked (the findings it reports carry none); ``baseline_hash``
    of each is computed here, where the baseline's hashing of one value is paid once."""
    text, kind = textify(chunk.data)
    if text is not chunk.data:
        chunk = replace(chunk, data=text, binary=kind == BINARY)
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
    return found, kind


class VersionCache:
    """The last scanned version of each path, least recently used first out, bounded in bytes.
    The parent sends every blob of a path to the same worker, so a file's versions arrive one
    after another here and each is scanned as a delta against the one before."""

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


def scan_history(repo: Path | str, engine, options: HistoryOptions, info: Optional[RepoInfo] = None) -> HistoryResult:
    """Scan every blob introduced by the selected commits once, and attribute the findings."""
    info = info or open_repo(repo)
    repo = str(repo)
    stats = HistoryStats()
    if info.shallow:
        stats.notes.append("shallow clone: history before the shallow boundary is not available; scanned what exists")
    if info.head is None:
        stats.notes.append(
            "HEAD is unborn" + (f" ({info.head_ref} has no commits)" if info.head_ref else "") + ": nothing is live at HEAD"
        )
    named = named_tips(repo, options.refs)
    tips = sorted({sha for _, sha in named})
    if not tips:
        stats.notes.append("empty repository: no commits to scan")
        return HistoryResult([], stats, [], set(options.known_blobs))

    config = engine.config
    exclude_spec = None
    if config.exclude:
        import pathspec

        exclude_spec = pathspec.GitIgnoreSpec.from_lines(list(config.exclude))
    allow_spec = getattr(engine, "_allow_paths", None)  # the engine would drop these paths anyway
    path_ok_cache: dict[bytes, bool] = {}

    def path_ok(path: bytes) -> bool:
        ok = path_ok_cache.get(path)
        if ok is None:
            text = decode_path(path)
            ok = not ((exclude_spec is not None and exclude_spec.match_file(text))
                      or (allow_spec is not None and allow_spec.match_file(text)))
            path_ok_cache[path] = ok
        return ok

    jobs = options.jobs or os.cpu_count() or 1
    ctx = multiprocessing.get_context("fork")
    # Bounded: enumeration outruns scanning, and an unbounded backlog of blob names would hold
    # the whole history's list in memory at once.
    # One input queue per worker: every version of a path goes to the same worker (see VersionCache).
    inqs, outq = [ctx.Queue(maxsize=8) for _ in range(jobs)], ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(repo, engine, config.max_file_size, inq, outq, options.baseline_hash),
                    daemon=True)
        for inq in inqs
    ]
    for w in workers:
        w.start()

    log = CommitLog()
    seen: set[bytes] = set(options.known_blobs)
    batches: list[list[tuple[str, str]]] = [[] for _ in range(jobs)]
    dispatched = 0
    blob_findings: dict[bytes, list[Finding]] = {}
    missing: set[bytes] = set()  # named by git log but absent from the object database
    big_paths: list[str] = []  # where the first few blobs over the size limit were
    bar = _progress(options.progress)
    finished = 0

    def on_blob(hexid: str, path: bytes, raw: bytes) -> None:
        if raw in seen or not path_ok(path):
            return  # an excluded path does not mark the blob: it may appear elsewhere
        seen.add(raw)
        k = zlib.crc32(path) % jobs
        batches[k].append((hexid, decode_path(path)))
        if len(batches[k]) >= BATCH:
            flush(k)

    def flush(k: int) -> None:
        nonlocal dispatched
        if batches[k]:
            send(k, batches[k])
            dispatched += len(batches[k])
            batches[k] = []

    def send(k: int, item) -> None:
        import queue as _queue

        while True:
            try:
                inqs[k].put(item, timeout=0.2)
                return
            except _queue.Full:
                drain_results(block=False)  # keep the bar moving; workers never wait on us
                if not any(w.is_alive() for w in workers):
                    raise LeakstopError("history: the scanning workers died unexpectedly") from None

    def handle(msg) -> None:
        nonlocal finished
        if msg[0] == "done":
            finished += 1
            return
        if msg[0] == "error":
            raise LeakstopError(f"history: a scanning worker failed: {msg[1]}")
        _, done, nbytes, counts, results, decoded, too_large = msg
        stats.blobs += counts.pop("scanned", 0)
        stats.bytes += nbytes
        stats.skipped.update(counts)
        stats.decoded.update(decoded)
        big_paths.extend(too_large[: TOO_LARGE_NAMES - len(big_paths)])
        for name, found in results:
            if found is None:
                missing.add(bytes.fromhex(name))
            else:
                blob_findings[bytes.fromhex(name)] = found
        if bar is not None:
            bar.total = max(dispatched + sum(map(len, batches)), bar.n + done)
            bar.set_postfix_str(f"{stats.commits} commits", refresh=False)
            bar.update(done)

    def drain_results(block: bool) -> None:
        import queue as _queue

        while finished < jobs:
            try:
                msg = outq.get(timeout=0.5) if block else outq.get_nowait()
            except _queue.Empty:
                if block:
                    if not any(w.is_alive() for w in workers) and outq.empty():
                        raise LeakstopError("history: a scanning worker died unexpectedly") from None
                    continue
                return
            handle(msg)

    cmd = ["git", "-C", repo, *log_command(tips, options.excludes)]
    proc = None
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                bufsize=1 << 20)
        grow_pipe(proc.stdout)
        try:  # git reads every revision before it prints anything, so this cannot block on stdout
            proc.stdin.write(log_input(tips, options.excludes))
            proc.stdin.close()
        except BrokenPipeError:
            pass

        class _Stream:  # lets the parser poll worker results between reads
            def read(self, n: int) -> bytes:
                data = proc.stdout.read1(n)
                drain_results(block=False)
                return data

        parse_log(_Stream(), log, on_blob, stats)
        err = proc.stderr.read()
        if proc.wait() != 0:
            msg = err.decode("utf-8", "replace").strip().splitlines()
            raise LeakstopError(f"git log: {(msg[0] if msg else 'failed').removeprefix('fatal: ')}")
        for k in range(jobs):
            flush(k)
            send(k, None)
        drain_results(block=True)
    finally:
        # After a clean finish the workers are exiting; after an error they may be blocked on
        # the queue, so they are stopped rather than waited for.
        for w in workers:
            w.join(timeout=5 if finished == jobs else 0.1)
            if w.is_alive():
                w.kill()
                w.join()
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if bar is not None:
            bar.close()

    if stats.skipped.get("too large"):
        n = stats.skipped["too large"]
        names = ", ".join(big_paths) + (", …" if n > len(big_paths) else "")
        stats.notes.append(
            f"{n} blob(s) over the {format_size(config.max_file_size)} size limit were not scanned ({names}); "
            "raise --max-file-size to include them"
        )
    if missing:
        stats.notes.append(
            f"{len(missing)} blob(s) could not be read (missing from the object database: a damaged "
            "repository or a partial clone without its remote; try `git fsck`): they were not scanned"
        )
    found_in = set(blob_findings)
    for rec in options.prior.values():  # known blobs re-introduced by new commits
        for raw in rec.blobs:
            blob_findings.setdefault(raw, []).append(rec.finding)
    findings, where = attribute(repo, log, blob_findings, info, engine, options.prior, path_ok, named)
    if not options.keep_values:
        for f in findings:
            f.secret = b""  # reported history findings carry no value unless verification needs it
    if findings and "live_refs" not in findings[0].extra:
        stats.notes.append(f"too many refs and paths to tell which refs still hold each secret (over "
                           f"{MAX_REF_LOOKUPS} lookups): live_refs is left out; live_at_head is exact")
    return HistoryResult(findings, stats, tips, seen - missing, where, missing, found_in)


def _progress(delay: Optional[float]):
    """The bar (its total grows as batches are dispatched), or None when not wanted."""
    from scanner.progress import progress_bar

    return progress_bar(delay, unit="blob", desc="leakstop history") if delay is not None else None


# -- attribution ------------------------------------------------------------------------------


@dataclass
class Prior:
    """A finding reported by an earlier incremental run, with what is needed to merge it."""

    finding: Finding  # first introduction as reported then (commit, path, line)
    commits: int
    paths: set[str]
    blobs: set[bytes]
    removed: Optional[dict] = None


def attribute(
    repo: str,
    log: CommitLog,
    blob_findings: dict[bytes, list[Finding]],
    info: RepoInfo,
    engine,
    prior: Optional[dict[str, Prior]] = None,
    keep_path: Optional[Callable[[bytes], bool]] = None,
    named: Sequence[tuple[str, str]] = (),
) -> tuple[list[Finding], dict[str, tuple[set[bytes], set[str]]]]:
    """One finding per value: first introduction, counts, removal and liveness (at HEAD, and the
    refs of ``named`` whose tip still holds it); also, per fingerprint, every blob holding the
    value and every path it was at (for the state file).

    ``prior`` (incremental runs) holds the findings of the commits not walked this time: their
    counts are added to the new occurrences and their first introduction wins (older commits).
    """
    prior = prior or {}
    wanted = set(blob_findings)
    for rec in prior.values():
        wanted |= rec.blobs
    adds = log.occurrences(wanted)
    dels = log.occurrences(wanted, removals=True)

    def order(ci: int, pi: int) -> tuple[int, int, int]:
        # Earliest = oldest commit time; on ties the one git listed later (closer to the root);
        # one commit at two paths: by path index, so the answer never depends on which worker
        # reported first.
        return (log.commits[ci][1], -ci, -pi)

    def latest_removal(removed: list[tuple[int, int]]) -> tuple[int, int]:
        return max(removed, key=lambda r: order(*r))

    groups: dict[str, dict] = {}

    def group(fp: str) -> dict:
        return groups.setdefault(fp, {"finding": None, "first": None, "commits": set(), "pis": set(),
                                      "raw_paths": set(), "blobs": set(), "removed": [], "values": set()})

    for blob, found in blob_findings.items():
        occ = adds.get(blob, [])
        if keep_path is not None:  # excluded or allowlisted paths: such occurrences do not count
            occ = [(c, p) for c, p in occ if keep_path(log.paths[p])]
        if not occ:
            continue
        for f in found:
            g = group(f.fingerprint)
            g["blobs"].add(blob)
            if f.secret:
                g["values"].add(f.secret)
            for ci, pi in occ:
                g["commits"].add(ci)
                g["pis"].add(pi)
                g["raw_paths"].add(log.paths[pi])
                key = order(ci, pi)
                if g["first"] is None or key < g["first"][0]:
                    g["first"] = (key, ci, pi)
                    g["finding"] = f
    for fp, rec in prior.items():
        group(fp)["blobs"] |= rec.blobs
        group(fp)["raw_paths"] |= {p.encode("utf-8") for p in rec.paths}
    for g in groups.values():
        for blob in g["blobs"]:
            g["removed"].extend(dels.get(blob, []))
        # Paths are shown (and kept in the incremental state) with the value and random-looking
        # runs masked.
        values = g.pop("values")
        g["value"] = min(values) if values else b""  # one fingerprint, one value (HistoryOptions.keep_values)
        g["redact"] = Redactor(values)
        g["paths"] = {g["redact"](decode_path(log.paths[pi])) for pi in g["pis"]}

    live = head_blobs(repo, info.head)
    holding = refs_holding(repo, named, {fp: (g["blobs"], g["raw_paths"]) for fp, g in groups.items()})
    need = {log.commits[g["first"][1]][0] for fp, g in groups.items() if g["first"] and fp not in prior}
    need |= {log.commits[latest_removal(g["removed"])[0]][0] for g in groups.values() if g["removed"]}
    infos = commit_infos(repo, sorted(need))
    out = []
    for fp, g in groups.items():
        rec = prior.get(fp)
        is_live = bool(g["blobs"] & live)
        if rec is not None:
            base = rec.finding
            commit, path = base.commit, base.path
            ncommits = rec.commits + len(g["commits"])
            paths = rec.paths | g["paths"]
        else:
            base = g["finding"]
            _, ci, pi = g["first"]
            sha = log.commits[ci][0]
            commit = infos.get(sha) or CommitInfo(sha=sha, author="", email="", date="")
            path = g["redact"](decode_path(log.paths[pi]))
            ncommits, paths = len(g["commits"]), g["paths"]
        extra = {
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
            if g["removed"]:
                rci, rpi = latest_removal(g["removed"])
                rsha = log.commits[rci][0]
                rinfo = infos.get(rsha)
                extra["removed_commit"] = {"sha": rsha, "author": rinfo.author if rinfo else "",
                                           "date": rinfo.date if rinfo else "",
                                           "path": g["redact"](decode_path(log.paths[rpi]))}
            elif rec is not None and rec.removed:
                extra["removed_commit"] = rec.removed
        out.append(Finding(
            rule_id=base.rule_id, provider=base.provider, description=base.description, severity=base.severity,
            category=base.category, path=path, line=base.line, column=base.column, end_column=base.end_column,
            masked=base.masked, fingerprint=fp, secret_hash=base.secret_hash, key=base.key, commit=commit,
            extra=extra, baseline_hash=base.baseline_hash, secret=g["value"], confidence=base.confidence,
            signals=dict(base.signals),
        ))
        g["paths"] = paths
    out.sort(key=lambda f: (f.commit.date if f.commit else "", f.path, f.line, f.rule_id))
    return out, {fp: (g["blobs"], g["paths"]) for fp, g in groups.items()}
