"""Git diffs as chunks: the staged changes (pre-commit hook) and a commit range (PR gate).

Both sources emit one :class:`Chunk` per changed file holding the whole post-image blob, with
``lines`` = the line numbers that the change added, so the engine sees the file's structure but
reports only what is new, with line numbers in the new file.

Only git plumbing, no gitpython: the hook's budget is ~150 ms and importing gitpython alone
costs ~100 ms. The staged source runs two git processes whatever the repository size: one
``git diff --cached --raw -p -U0 -z`` (paths, blob ids and hunk headers in one pass; it reads
the index and HEAD's tree, never the work tree) and one ``git cat-file --batch`` for the blobs.
The range source runs one ``git log -c -z --raw -p`` over the whole range (never one process per
commit) plus the shared ``cat-file``. One more process only in rarer cases: a file that a
``.gitattributes`` line made git call binary is re-diffed with ``--text`` (:func:`hidden`), and
the commit concluding a merge writes the index's tree to compare it with every parent.

Paths are bytes from git (``-z`` everywhere, so spaces, newlines and quotes need no unquoting)
decoded as UTF-8 with ``surrogateescape``, then shown with invalid bytes as ``\\xNN`` escapes
(:func:`scanner.display.display_path`, as in every mode).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

from scanner.display import display_path
from scanner.errors import LeakstopError
from scanner.models import Chunk, CommitInfo, Finding
from scanner.sources.base import Plain, Result, ScanStats
from scanner.sources.git import (CatFile, failure, find_work_tree, finish_git, git, not_a_repository, start_git,
                                work_tree_git_dir)
from scanner.sources.textify import BINARY, TEXT, sniff, textify

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
NULL_SHA = "0" * 40
SUBMODULE_MODE = "160000"
# A (added), C (copied), M (modified), R (renamed), T (type changed). Renames are detected (-M)
# so that moving a file reports only the lines the move changed, not the whole file.
DIFF_FILTER = "--diff-filter=ACMRT"
_HUNK = re.compile(rb"^@@+ (?:-\d+(?:,\d+)? )+\+(\d+)(?:,(\d+))? @@")
# Exact added lines whatever the user's git configuration says: no context merged between hunks
# (diff.interHunkContext), every path of the repository (diff.relative), no color, no external or
# textconv drivers (the scanned bytes are the blobs).
_COMMON = ["--no-color", "--no-ext-diff", "-M", "--no-textconv", "--no-abbrev", "--no-relative",
           "--inter-hunk-context=0", DIFF_FILTER]


@dataclass(frozen=True)
class FileChange:
    """One changed file: post-image mode and blob, path, and the added line numbers."""

    mode: str
    blob: str
    path: str
    added: Optional[frozenset[int]]  # None: unknown, report the whole file
    binary: bool = False  # git showed "Binary files differ" (content, or a .gitattributes line)
    old_path: Optional[str] = None  # a rename's or copy's source
    parents: tuple[str, ...] = ()  # the blob ids it replaced (one per parent; none when added)


def decode_path(raw: bytes) -> str:
    """Paths keep undecodable bytes (surrogateescape) so they round-trip to git unchanged."""
    return raw.decode("utf-8", "surrogateescape")


# -- parsing ---------------------------------------------------------------------------------
RawRecord = tuple[str, str, str, Optional[str], tuple[str, ...]]


def parse_raw(data: bytes, pos: int = 0) -> tuple[list[RawRecord], int]:
    """Parse ``--raw -z`` records from ``pos``: [(new mode, new blob, path, source path, the
    blobs it replaced)] and the end offset.

    A record is ``:oldmode newmode oldsha newsha STATUS\\0path\\0``; renames and copies (status
    R or C plus a score) carry two paths, the source then the new one. A merge's combined record
    (``-c``) has one colon per parent, a mode and a sha per parent then the result's, a status
    letter per parent, and only the result's path.
    """
    out = []
    n = len(data)
    while pos < n and data[pos : pos + 1] == b":":
        try:
            record, pos = _raw_record(data, pos)
        except (ValueError, IndexError):  # cut short, or not git's format
            raise LeakstopError("unexpected output from git (a --raw record); is this git too old?") from None
        out.append(record)
    return out, pos


def _raw_record(data: bytes, pos: int) -> tuple[RawRecord, int]:
    """The ``--raw -z`` record at ``pos`` and the offset after it."""
    end = data.index(b"\0", pos)
    parents = len(data[pos:end]) - len(data[pos:end].lstrip(b":"))
    meta = data[pos + parents : end].split(b" ")
    if len(meta) != 2 * parents + 3:
        raise ValueError("fields")
    mode, blob, status = meta[parents], meta[2 * parents + 1], meta[2 * parents + 2]
    olds = tuple(sha.decode("ascii") for sha in meta[parents + 1 : 2 * parents + 1] if sha.strip(b"0"))
    pend = data.index(b"\0", end + 1)
    source = None
    if parents == 1 and status[:1] in (b"R", b"C"):
        source = decode_path(data[end + 1 : pend])
        pstart, pend = pend + 1, data.index(b"\0", pend + 1)
    else:
        pstart = end + 1
    return (mode.decode("ascii"), blob.decode("ascii"), decode_path(data[pstart:pend]), source, olds), pend + 1


def parse_patch(text: bytes) -> list[tuple[frozenset[int], bool]]:
    """Split a ``-p -U0`` patch into per-file (added line numbers, is binary), in output order.

    A file section starts at a ``diff --git`` line (``diff --combined`` for a merge's ``-c``
    output); patch body lines always start with one of ``+ - space \\`` (one such column per
    parent in a combined diff), so a header line cannot be confused with content.

    Hunks are read line by line from the ``+c`` of their header: a result line is one without
    ``-`` in its columns, and it is added when it has ``+`` in every column. In a two-way hunk
    (``-U0``) that is every ``+`` line; a combined hunk also lists lines that come from one of the
    parents (``+`` in some columns, space in others), and only a line with ``+`` in every column
    is new relative to every parent (typed into the merge). The lines numbered are the lines
    present, never a count a header claims: the work is bounded by the patch's size.
    """
    files: list[tuple[set[int], bool]] = []
    cur: Optional[set[int]] = None
    binary = False
    parents, at = 0, 0  # hunk in progress: its column count and the next result line
    for line in text.split(b"\n"):
        if line.startswith((b"diff --git ", b"diff --cc ", b"diff --combined ")):
            if cur is not None:
                files.append((cur, binary))
            cur, binary, parents = set(), False, 0
        elif cur is None:
            continue
        elif line.startswith(b"@@"):
            m = _HUNK.match(line)
            if m:
                parents = len(line) - len(line.lstrip(b"@")) - 1
                at = int(m.group(1))
        elif parents:
            cols = line[:parents]
            if len(cols) < parents or line.startswith(b"\\") or b"-" in cols:
                continue  # "\\ No newline", or a line only a parent has
            if cols == b"+" * parents:
                cur.add(at)
            at += 1
        elif line.startswith(b"Binary files ") or line.startswith(b"GIT binary patch"):
            binary = True
    if cur is not None:
        files.append((cur, binary))
    return [(frozenset(s), b) for s, b in files]


def pair(raw: list[RawRecord], patch: list[tuple[frozenset[int], bool]]) -> list[FileChange]:
    """Zip raw records with patch sections (git emits both in the same order)."""
    if len(raw) != len(patch):
        # Should not happen; scanning whole files over-reports rather than misses a leak.
        return [FileChange(mode, blob, path, None, old_path=src, parents=olds) for mode, blob, path, src, olds in raw]
    return [FileChange(m, b, p, lines, binary, src, olds) for (m, b, p, src, olds), (lines, binary) in zip(raw, patch)]


def _skip_separators(data: bytes, pos: int) -> int:
    while pos < len(data) and data[pos] in (0, 10):
        pos += 1
    return pos


_UNEXPECTED_LOG = "unexpected output from git log (is this git too old?)"


def parse_log(data: bytes) -> list[tuple[CommitInfo, list[FileChange]]]:
    """Parse ``git log -z --raw -p --format=LOG_FORMAT``: per commit, its metadata, raw records and
    patch, read in sequence (record by record, never by searching for a marker a path could hold).

    A patch ends where the next commit starts (a newline then \\x01): no patch line can start with
    \\x01, and git quotes control characters in the paths of patch headers.
    """
    out = []
    pos = _skip_separators(data, 0)
    while pos < len(data):
        if data[pos : pos + 1] != b"\x01":
            raise LeakstopError(_UNEXPECTED_LOG)
        fields = []
        pos += 1
        for _ in range(4):
            end = data.find(b"\0", pos)
            if end < 0:
                raise LeakstopError(_UNEXPECTED_LOG)
            fields.append(data[pos:end].decode("utf-8", "replace"))
            pos = end + 1
        raw, pos = parse_raw(data, _skip_separators(data, pos))
        pos = _skip_separators(data, pos)
        patch: list[tuple[frozenset[int], bool]] = []
        if data.startswith(b"diff ", pos):
            end = data.find(b"\n\x01", pos)
            end = len(data) if end < 0 else end + 1
            patch = parse_patch(data[pos:end])
            pos = end
        out.append((CommitInfo(*fields), pair(raw, patch)))
        pos = _skip_separators(data, pos)
    return out


# -- reading blobs ---------------------------------------------------------------------------
def load_change(ch: FileChange, reader: CatFile, limit: int, stats: ScanStats,
                commit: Optional[CommitInfo] = None) -> Iterator[Chunk]:
    """The chunk of one changed file: its whole post-image blob, with the lines it adds; nothing
    (counted in ``stats``) when nothing was added or it cannot be read."""
    where = display_path(ch.path)
    if ch.mode == SUBMODULE_MODE:
        stats.skipped["submodule"] += 1
        stats.notes.append(f"{where}: submodule skipped (scan it in its own repository)")
        return
    if ch.added is not None and not ch.added and not ch.binary:
        return  # a mode-only change or only deletions: nothing added
    status, data = reader.read(ch.blob, limit, stream=True)
    if status == "stream":
        yield from _streamed(ch, where, reader, stats, commit)
        return
    if data is None:
        stats.skipped[status] += 1
        return
    text, kind = textify(data)
    lines = ch.added
    if kind != TEXT or ch.binary:
        # git's line numbers (if any) are not the decoded text's: what the change adds is
        # what the new text has that no version it replaced had.
        lines = added_lines(text, [textify(old)[0] for old in _read_all(reader, ch.parents, limit)])
    stats.count(kind, len(data))
    yield Chunk(path=where, data=text, lines=lines, commit=commit, blob=ch.blob, binary=kind == BINARY)


def _streamed(ch: FileChange, where: str, reader: CatFile, stats: ScanStats,
              commit: Optional[CommitInfo]) -> Iterator[Chunk]:
    """A blob over the size limit, scanned in windows: a gate has no size to slip past. Its
    added lines are git's when it is text; decoded or binary content is reported whole (telling
    its new lines would mean holding the versions it replaced)."""
    from scanner.sources.windows import stream_chunks  # here: only a blob over the limit is streamed

    nbytes = [0]

    def read(n: int) -> bytes:
        got = reader.piece(n)
        nbytes[0] += len(got)
        return got

    kind, chunks = stream_chunks(read, where, lines=None if ch.binary else ch.added, commit=commit, blob=ch.blob)
    yield from chunks
    stats.count(kind, nbytes[0])
    stats.stream(where)


def _read_all(reader: CatFile, blobs: Iterable[str], limit: int) -> list[bytes]:
    return [data for data in (reader.read(b, limit)[1] for b in blobs) if data is not None]


def added_lines(new: bytes, olds: Sequence[bytes]) -> frozenset[int]:
    """Line numbers of ``new`` whose text is in none of ``olds`` (every line of a new file)."""
    seen = {line for old in olds for line in old.split(b"\n")}
    return frozenset(n for n, line in enumerate(new.split(b"\n"), 1) if line not in seen)


def hidden(changes: Iterable[FileChange], reader: CatFile, limit: int) -> list[FileChange]:
    """The changes git showed as "Binary files differ" whose blob is text by leakstop's own test:
    a ``.gitattributes`` line (``-diff``, ``binary``, a macro, a diff driver) hid their lines, and
    whoever commits a file can commit that line with it."""
    out = []
    for ch in changes:
        if ch.binary and ch.mode != SUBMODULE_MODE:
            _, data = reader.read(ch.blob, limit)
            if data is not None and sniff(data) == TEXT:
                out.append(ch)
    return out


def revealed(ch: FileChange, text_diff: dict[str, FileChange]) -> FileChange:
    """``ch`` with the added lines of its ``--text`` diff; the whole file if that diff lacks it."""
    new = text_diff.get(ch.path)
    if new is not None and not new.binary and new.blob == ch.blob:
        return new
    return replace(ch, added=None, binary=False)  # over-report rather than miss


# Past this many bytes of arguments a re-diff is not restricted (the command line has a limit).
ARGS_LIMIT = 64 * 1024


def pathspecs(changes: Iterable[FileChange]) -> list[bytes]:
    """Literal pathspecs (git runs with --literal-pathspecs) for the changes and their sources, so
    that a restricted diff still pairs a rename with its source; [] (no restriction) when they
    would not fit on a command line."""
    paths = sorted({os.fsencode(p) for ch in changes for p in (ch.path, ch.old_path) if p is not None})
    return paths if sum(len(p) + 1 for p in paths) <= ARGS_LIMIT else []


# -- sources ---------------------------------------------------------------------------------
def merge_heads(repo: Path | str) -> list[str]:
    """The commits being merged into HEAD (``MERGE_HEAD``), read from the git directory without a
    git process (the hook's budget); [] when no merge is in progress or it cannot tell."""
    env = os.environ.get("GIT_DIR")
    top = None if env else find_work_tree(Path(repo))
    git_dir = Path(env) if env else work_tree_git_dir(top) if top is not None else None
    if git_dir is None:
        return []
    try:
        text = (git_dir / "MERGE_HEAD").read_text(encoding="ascii", errors="replace")
    except OSError:
        return []
    return [ln for ln in text.split() if re.fullmatch(r"[0-9a-f]{40,64}", ln)]


class StagedSource(Plain):
    """What ``git commit`` would record: the index content of each added/changed file, reporting
    only added lines (numbered in the staged file). Works before the first commit too.

    While a merge is in progress (the commit that concludes it), the staged result is compared
    with HEAD and every commit being merged, like a merge commit in range mode: only what the
    merge adds beyond all its parents (a conflict resolution) is the change's."""

    def __init__(self, repo: Path | str = ".", max_file_size: int = 10 * 1024 * 1024) -> None:
        self.repo = repo
        self.max_file_size = max_file_size
        self.stats = ScanStats("staged")
        self._reader: Optional[CatFile] = None
        self._merge: Optional[list[str]] = None  # [index tree, HEAD, merged...] once known
        self._diff: Optional[subprocess.Popen] = None  # the diff started by start(), not read yet

    def start(self) -> None:
        """Start git's diff and the blob reader now, so that git reads the index and HEAD's tree
        while the scan's modules load (the hook calls this first); :meth:`units` reads them.
        :meth:`close` ends them if the run stops before."""
        if self._diff is None and self._reader is None:
            self._diff = start_git(self.repo, self._diff_args())
            self._reader = CatFile(self.repo)
            self._reader.start()

    def close(self) -> None:
        if self._diff is not None:
            self._diff.kill()
            self._diff.communicate()
            self._diff = None
        if self._reader is not None:
            self._reader.close()

    def _merge_args(self) -> list[str]:
        if self._merge is None:
            self._merge = []
            heads = merge_heads(self.repo)
            if heads:
                tree = git(self.repo, ["write-tree"])  # fails on unresolved conflicts: plain diff
                if tree.returncode == 0:
                    self._merge = [tree.stdout.decode().strip(), "HEAD", *heads]
        return ["-c", *self._merge] if self._merge else ["--cached"]

    def changes(self, text: bool = False, paths: Sequence[bytes] = ()) -> list[FileChange]:
        """The staged changes (``text``: every file diffed as text whatever its attributes say;
        ``paths``: only those)."""
        if self._diff is not None and not (text or paths):
            proc, self._diff = finish_git(self._diff), None
        else:
            args = self._diff_args(text)
            proc = git(self.repo, [*args, "--", *paths] if paths else args, pre=["--literal-pathspecs"] if paths else [])
        if proc.returncode != 0:
            # Outside a repository git diff turns into --no-index and rejects --cached; ask git
            # only now, so the hook's normal path stays at two processes.
            check = git(self.repo, ["rev-parse", "--git-dir"])
            if check.returncode != 0:
                not_a_repository(self.repo, check)
            raise LeakstopError(f"git diff --cached: {failure(proc)}")
        out = proc.stdout
        raw, pos = parse_raw(out)
        return pair(raw, parse_patch(out[pos + 1 :]))  # a NUL separates raw records from the patch

    def _diff_args(self, text: bool = False) -> list[str]:
        # No HEAD yet (unborn branch): git diff --cached compares with the empty tree itself.
        return ["diff", "--raw", "-p", "-U0", "-z", *_COMMON, *self._merge_args(), *(["--text"] if text else [])]

    def units(self) -> Iterator[FileChange]:
        """The staged changes, each file's once git's diff has told its added lines."""
        self._reader = self._reader or CatFile(self.repo)
        try:
            changes = self.changes()
            # A third git process only when git called a text file binary.
            hid = hidden(changes, self._reader, self.max_file_size)
            if hid:
                text = {c.path: c for c in self.changes(text=True, paths=pathspecs(hid))}
                changes = [revealed(c, text) if c in hid else c for c in changes]
            yield from changes
        finally:
            self._reader.close()

    def load(self, change: FileChange) -> Iterator[Chunk]:
        assert self._reader is not None, "units() opens the reader"
        return load_change(change, self._reader, self.max_file_size, self.stats)


@dataclass(frozen=True)
class Range:
    """Resolved revisions for ``git log``: e.g. ["<head>", "^<base>"], and how it was named.

    ``base`` is the commit the change is judged against (BASE; for one commit, its first parent;
    None when there is none: a root commit, or a BASE of forty zeros), ``head`` its last commit."""

    revs: tuple[str, ...]
    label: str
    single: bool = False
    base: Optional[str] = None
    head: str = ""


LOG_FORMAT = "--format=%x01%H%x00%an%x00%ae%x00%aI%x00"


class RangeSource(Plain):
    """The commits of a range (oldest first), each file's added lines in its post-image blob.

    A merge commit contributes what it adds beyond all its parents (``git log -c``: the lines new
    relative to every parent, i.e. typed into a conflict resolution or an amended merge), not
    what the merged branch brought in (those commits are scanned one by one, or were already in
    the base). ``merges=True`` scans each merge's diff against its first parent instead: all that
    the merge brought to the mainline, attributed to the merge.
    A value found at the same path and line by several commits is reported once, at the first.
    """

    def __init__(
        self, repo: Path | str, spec: str, max_file_size: int = 10 * 1024 * 1024, merges: bool = False
    ) -> None:
        self.repo = repo
        self.spec = spec
        self.max_file_size = max_file_size
        self.merges = merges
        self.stats = ScanStats("range")
        self._reader: Optional[CatFile] = None
        self.range = resolve_range(repo, spec)

    def _log(self, revs: Sequence[str], walk: Sequence[str] = (), text: bool = False, paths: Sequence[bytes] = ()) -> bytes:
        merge_opt = "--diff-merges=first-parent" if self.merges else "-c"
        args = ["log", *walk, "--root", "--no-show-signature", merge_opt, *_COMMON, "-z", "--raw", "-p", "-U0", LOG_FORMAT]
        if text:
            args.append("--text")
        pre = ["--literal-pathspecs"] if paths else []
        proc = git(self.repo, [*args, *revs, "--", *paths], pre=pre)
        if proc.returncode != 0:
            raise LeakstopError(f"git log {self.range.label}: {failure(proc)}")
        return proc.stdout

    def _walk(self) -> list[str]:
        return ["--reverse", "--no-walk"] if self.range.single else ["--reverse"]

    def commits(self) -> list[tuple[CommitInfo, list[FileChange]]]:
        """Every commit of the range with its changes: one ``git log`` over the whole range (raw
        records, exact paths and patches in one pass), never one process per commit."""
        return parse_log(self._log(self.range.revs, walk=self._walk()))

    def _reveal(self, commits: list, hid: list[tuple[str, FileChange]]) -> list:
        """Re-diff the hidden files as text: one more ``git log`` over just those commits and paths
        (the whole range when they would not fit on a command line)."""
        shas = list(dict.fromkeys(sha for sha, _ in hid))
        revs, walk = (shas, ["--no-walk=unsorted"]) if 41 * len(shas) <= ARGS_LIMIT else (self.range.revs, self._walk())
        out = self._log(revs, walk, text=True, paths=pathspecs(c for _, c in hid))
        text = {info.sha: {c.path: c for c in chs} for info, chs in parse_log(out)}
        keys = {(sha, c.path) for sha, c in hid}
        return [(info, [revealed(c, text.get(info.sha, {})) if (info.sha, c.path) in keys else c for c in chs])
                for info, chs in commits]

    def units(self) -> Iterator[tuple[CommitInfo, FileChange]]:
        """(commit, changed file) of every commit of the range, oldest first."""
        self._reader = CatFile(self.repo)
        try:
            commits = self.commits()
            hid = [(info.sha, c) for info, chs in commits for c in hidden(chs, self._reader, self.max_file_size)]
            if hid:
                commits = self._reveal(commits, hid)
            for info, changes in commits:
                self.stats.commits += 1
                yield from ((info, ch) for ch in changes)
        finally:
            self._reader.close()

    def load(self, unit: tuple[CommitInfo, FileChange]) -> Iterator[Chunk]:
        info, change = unit
        assert self._reader is not None, "units() opens the reader"
        return load_change(change, self._reader, self.max_file_size, self.stats, commit=info)

    def attribute(self, results: Sequence[Result]) -> list[Finding]:
        return first_occurrences(super().attribute(results))


def first_occurrences(findings: Sequence[Finding]) -> list[Finding]:
    """Across a range, the same value at the same path and line (e.g. a line re-added by a later
    commit's whitespace change) is reported once: at the first commit, which findings arrive in.
    The same value means the same rule and value, which is what the fingerprint identifies; the
    engine's findings hold their value, and one below the reporting floor has no fingerprint yet
    (Engine(defer_below=...)) while another of the same value may have one."""
    seen: set[tuple[str, bytes | str, str, int]] = set()
    out = []
    for f in findings:
        key = (f.rule_id, f.secret or f.fingerprint, f.path, f.line)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _is_shallow(repo: Path | str) -> bool:
    proc = git(repo, ["rev-parse", "--is-shallow-repository"])
    return proc.stdout.strip() == b"true"


def _commit(repo: Path | str, rev: str, role: str) -> str:
    """The full sha of ``rev`` as a commit, or a one-line error saying why not."""
    if rev.startswith("-"):
        raise LeakstopError(f"invalid revision '{rev}'")
    proc = git(repo, ["rev-parse", "--verify", "-q", "--end-of-options", f"{rev}^{{commit}}"])
    if proc.returncode == 0:
        return proc.stdout.decode().strip()
    if git(repo, ["rev-parse", "-q", "--verify", "HEAD"]).returncode != 0:
        head = git(repo, ["symbolic-ref", "-q", "--short", "HEAD"]).stdout.decode().strip() or "HEAD"
        raise LeakstopError(f"branch '{head}' has no commits yet (unborn branch): nothing to diff")
    if _is_shallow(repo):
        raise LeakstopError(
            f"{role} revision '{rev}' is not in this shallow clone; fetch the full history "
            "(git fetch --unshallow, or actions/checkout with fetch-depth: 0)"
        )
    raise LeakstopError(f"unknown revision '{rev}' ({role})")


def resolve_range(repo: Path | str, spec: str) -> Range:
    """``BASE..HEAD``, ``BASE...HEAD`` (from their merge base), or one commit ``SHA``.

    A BASE of 40 zeros (GitHub's ``before`` on a branch's first push) means "everything
    reachable from HEAD"."""
    proc = git(repo, ["rev-parse", "--git-dir"])
    if proc.returncode != 0:
        not_a_repository(repo, proc)
        raise LeakstopError(f"{repo}: {failure(proc)}")
    spec = spec.strip()
    if not spec or spec.count("..") > 1 or "...." in spec:
        raise LeakstopError(f"invalid range '{spec}' (use BASE..HEAD, BASE...HEAD or one commit)")
    if "..." in spec:
        base, head = spec.split("...", 1)
        b, h = _commit(repo, base or "HEAD", "base"), _commit(repo, head or "HEAD", "head")
        mb = git(repo, ["merge-base", b, h])
        if mb.returncode != 0:
            raise LeakstopError(f"'{base}' and '{head}' have no common ancestor")
        return Range((h, "^" + mb.stdout.decode().strip()), spec, base=b, head=h)
    if ".." in spec:
        base, head = spec.split("..", 1)
        h = _commit(repo, head or "HEAD", "head")
        if base.strip("0") == "" and len(base) == 40:
            return Range((h,), spec, head=h)
        b = _commit(repo, base or "HEAD", "base")
        return Range((h, "^" + b), spec, base=b, head=h)
    c = _commit(repo, spec, "commit")
    parent = git(repo, ["rev-parse", "-q", "--verify", f"{c}^1"])
    return Range((c,), spec, single=True, base=parent.stdout.decode().strip() or None, head=c)
