"""Git diffs as chunks: the staged changes (pre-commit hook) and a commit range (PR gate).

Both sources emit one :class:`Chunk` per changed file holding the whole post-image blob, with
``lines`` = the line numbers that the change added, so the engine sees the file's structure but
reports only what is new, with line numbers in the new file.

Only git plumbing, no gitpython: the hook's budget is ~150 ms and importing gitpython alone
costs ~100 ms. The staged source runs two git processes whatever the repository size: one
``git diff --cached --raw -p -U0 -z`` (paths, blob ids and hunk headers in one pass; it reads
the index and HEAD's tree, never the work tree) and one ``git cat-file --batch`` for the blobs.
The range source runs one ``git log --raw`` and one ``git log -p`` over the whole range (never one
process per commit) plus the shared ``cat-file``.

Paths are bytes from git (``-z`` everywhere, so spaces, newlines and quotes need no unquoting)
decoded as UTF-8 with ``surrogateescape``, then shown with invalid bytes as ``\\xNN`` escapes
(:func:`scanner.display.display_path`, as in every mode).
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Sequence

from scanner.display import display_path
from scanner.errors import LeakstopError
from scanner.models import Chunk, CommitInfo, Finding

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
NULL_SHA = "0" * 40
SUBMODULE_MODE = "160000"
# A (added), C (copied), M (modified), R (renamed), T (type changed). Renames are detected (-M)
# so that moving a file reports only the lines the move changed, not the whole file.
DIFF_FILTER = "--diff-filter=ACMRT"
_HUNK = re.compile(rb"^@@+ (?:-\d+(?:,\d+)? )+\+(\d+)(?:,(\d+))? @@")
_COMMON = ["--no-color", "--no-ext-diff", "-M", "--no-textconv", "--no-abbrev", DIFF_FILTER]
BINARY_SNIFF = 8192


@dataclass(frozen=True)
class FileChange:
    """One changed file: post-image mode and blob, path, and the added line numbers."""

    mode: str
    blob: str
    path: str
    added: Optional[frozenset[int]]  # None: unknown, report the whole file
    binary: bool = False


@dataclass
class DiffStats:
    scanned: int = 0
    bytes: int = 0
    commits: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    notes: list[str] = field(default_factory=list)


def decode_path(raw: bytes) -> str:
    """Paths keep undecodable bytes (surrogateescape) so they round-trip to git unchanged."""
    return raw.decode("utf-8", "surrogateescape")


# -- parsing ---------------------------------------------------------------------------------
def parse_raw(data: bytes, pos: int = 0) -> tuple[list[tuple[str, str, str]], int]:
    """Parse ``--raw -z`` records from ``pos``: [(new mode, new blob, path)] and the end offset.

    A record is ``:oldmode newmode oldsha newsha STATUS\\0path\\0``; renames and copies (status
    R or C plus a score) carry two paths, old then new, and the new one is kept.
    """
    out = []
    n = len(data)
    while pos < n and data[pos : pos + 1] == b":":
        end = data.index(b"\0", pos)
        meta = data[pos + 1 : end].split(b" ")
        pend = data.index(b"\0", end + 1)
        if meta[4][:1] in (b"R", b"C"):
            pstart, pend = pend + 1, data.index(b"\0", pend + 1)
        else:
            pstart = end + 1
        out.append((meta[1].decode(), meta[3].decode(), decode_path(data[pstart:pend])))
        pos = pend + 1
    return out, pos


def parse_patch(text: bytes) -> list[tuple[frozenset[int], bool]]:
    """Split a ``-p -U0`` patch into per-file (added line numbers, is binary), in output order.

    A file section starts at a ``diff --git`` line; patch body lines always start with one of
    ``+ - space \\``, so a header line cannot be confused with content.
    """
    files: list[tuple[set[int], bool]] = []
    cur: Optional[set[int]] = None
    binary = False
    for line in text.split(b"\n"):
        if line.startswith(b"diff --git ") or line.startswith(b"diff --cc "):
            if cur is not None:
                files.append((cur, binary))
            cur, binary = set(), False
        elif cur is None:
            continue
        elif line.startswith(b"@@"):
            m = _HUNK.match(line)
            if m:
                start = int(m.group(1))
                count = 1 if m.group(2) is None else int(m.group(2))
                cur.update(range(start, start + count))
        elif line.startswith(b"Binary files ") or line.startswith(b"GIT binary patch"):
            binary = True
    if cur is not None:
        files.append((cur, binary))
    return [(frozenset(s), b) for s, b in files]


def pair(raw: list[tuple[str, str, str]], patch: list[tuple[frozenset[int], bool]]) -> list[FileChange]:
    """Zip raw records with patch sections (git emits both in the same order)."""
    if len(raw) != len(patch):
        # Should not happen; scanning whole files over-reports rather than misses a leak.
        return [FileChange(mode, blob, path, None) for mode, blob, path in raw]
    return [FileChange(m, b, p, lines, binary) for (m, b, p), (lines, binary) in zip(raw, patch)]


# -- reading blobs ---------------------------------------------------------------------------
class BlobReader:
    """One ``git cat-file --batch`` process; blobs over the size limit are skipped unread."""

    def __init__(self, repo: Path | str) -> None:
        self._proc: Optional[subprocess.Popen] = None
        self._repo = str(repo)

    def read(self, sha: str, limit: int) -> tuple[str, Optional[bytes]]:
        """("ok", data) or ("missing"|"too large", None)."""
        if self._proc is None:
            self._proc = subprocess.Popen(
                ["git", "-C", self._repo, "cat-file", "--batch"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin and stdout
        stdin.write(sha.encode() + b"\n")
        stdin.flush()
        parts = stdout.readline().split()
        if len(parts) != 3:
            return "missing", None
        size = int(parts[2])
        if size > limit:
            left = size + 1
            while left:  # drain without keeping it
                left -= len(stdout.read(min(left, 1 << 20)) or b"x" * left)
            return "too large", None
        data = stdout.read(size)
        stdout.read(1)
        return "ok", data

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.stdin:
                self._proc.stdin.close()
            self._proc.wait()
            self._proc = None


def _chunks(
    changes: Sequence[FileChange], reader: BlobReader, limit: int, stats: DiffStats,
    commit: Optional[CommitInfo] = None,
) -> Iterator[Chunk]:
    for ch in changes:
        where = display_path(ch.path)
        if ch.mode == SUBMODULE_MODE:
            stats.skipped["submodule"] += 1
            stats.notes.append(f"{where}: submodule skipped (scan it in its own repository)")
            continue
        if ch.binary:
            stats.skipped["binary"] += 1
            continue
        if ch.added is not None and not ch.added:
            continue  # a mode-only change or only deletions: nothing added
        status, data = reader.read(ch.blob, limit)
        if data is None:
            stats.skipped[status] += 1
            continue
        if b"\0" in data[:BINARY_SNIFF]:
            stats.skipped["binary"] += 1
            continue
        stats.scanned += 1
        stats.bytes += len(data)
        yield Chunk(path=where, data=data, lines=ch.added, commit=commit, blob=ch.blob)


# -- sources ---------------------------------------------------------------------------------
def _git(repo: Path | str, args: Sequence[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise LeakstopError("git is not installed or not on PATH") from None


def _fatal(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    msg = next((m for m in lines if m.startswith(("fatal:", "error:"))), lines[0] if lines else "git failed")
    return msg.removeprefix("fatal: ").removeprefix("error: ")


def _not_repo(repo: Path | str, proc: subprocess.CompletedProcess) -> None:
    msg = _fatal(proc)
    if "not a git repository" in msg:
        raise LeakstopError(f"{repo}: not a git repository")


class StagedSource:
    """What ``git commit`` would record: the index content of each added/changed file, reporting
    only added lines (numbered in the staged file). Works before the first commit too."""

    def __init__(self, repo: Path | str = ".", max_file_size: int = 10 * 1024 * 1024) -> None:
        self.repo = repo
        self.max_file_size = max_file_size
        self.stats = DiffStats()

    def changes(self) -> list[FileChange]:
        # No HEAD yet (unborn branch): git diff --cached compares with the empty tree itself.
        proc = _git(self.repo, ["diff", "--cached", "--raw", "-p", "-U0", "-z", *_COMMON])
        if proc.returncode != 0:
            # Outside a repository git diff turns into --no-index and rejects --cached; ask git
            # only now, so the hook's normal path stays at two processes.
            check = _git(self.repo, ["rev-parse", "--git-dir"])
            if check.returncode != 0:
                _not_repo(self.repo, check)
            raise LeakstopError(f"git diff --cached: {_fatal(proc)}")
        out = proc.stdout
        raw, pos = parse_raw(out)
        return pair(raw, parse_patch(out[pos + 1 :]))  # a NUL separates raw records from the patch

    def __iter__(self) -> Iterator[Chunk]:
        reader = BlobReader(self.repo)
        try:
            yield from _chunks(self.changes(), reader, self.max_file_size, self.stats)
        finally:
            reader.close()


@dataclass(frozen=True)
class Range:
    """Resolved revisions for ``git log``: e.g. ["<head>", "^<base>"], and how it was named."""

    revs: tuple[str, ...]
    label: str
    single: bool = False


class RangeSource:
    """The commits of a range (oldest first), each file's added lines in its post-image blob.

    Merge commits contribute no diff of their own by default: the commits they bring in are
    scanned one by one (as ``git log -p`` does). ``merges=True`` also scans each merge's diff
    against its first parent, which catches secrets typed into a conflict resolution but also
    re-reports what the merged branch brought in (attributed to the merge).
    A value found at the same path and line by several commits is reported once, at the first.
    """

    def __init__(
        self, repo: Path | str, spec: str, max_file_size: int = 10 * 1024 * 1024, merges: bool = False
    ) -> None:
        self.repo = repo
        self.spec = spec
        self.max_file_size = max_file_size
        self.merges = merges
        self.stats = DiffStats()
        self.range = resolve_range(repo, spec)

    def _log(self, extra: Sequence[str]) -> bytes:
        merge_opt = ["--diff-merges=first-parent"] if self.merges else []
        walk = ["--no-walk"] if self.range.single else []
        proc = _git(self.repo, ["log", "--reverse", "--root", *walk, *merge_opt, *_COMMON, *extra, *self.range.revs, "--"])
        if proc.returncode != 0:
            raise LeakstopError(f"git log {self.range.label}: {_fatal(proc)}")
        return proc.stdout

    def commits(self) -> list[tuple[CommitInfo, list[FileChange]]]:
        # Two passes over the range, not one per commit: NUL-separated raw records (exact
        # paths), then the patch (hunk headers), paired by commit and by file order.
        raw_out = self._log(["-z", "--raw", "--format=%x01%H%x00%an%x00%ae%x00%aI%x00"])
        patch_out = self._log(["-p", "-U0", "--format=%x01%H"])
        patches: dict[str, list[tuple[frozenset[int], bool]]] = {}
        for part in patch_out.split(b"\n\x01"):
            part = part[1:] if part.startswith(b"\x01") else part
            if not part:
                continue
            sha, _, body = part.partition(b"\n")
            patches[sha.decode()] = parse_patch(body)
        result = []
        for rec in raw_out.split(b"\x01")[1:]:
            fields = rec.split(b"\0", 4)
            if len(fields) < 5:
                continue
            sha, name, email, date = (f.decode("utf-8", "replace") for f in fields[:4])
            body = fields[4].lstrip(b"\n\0")
            raw, _ = parse_raw(body)
            info = CommitInfo(sha=sha, author=name, email=email, date=date)
            result.append((info, pair(raw, patches.get(sha, []))))
        return result

    def __iter__(self) -> Iterator[Chunk]:
        reader = BlobReader(self.repo)
        try:
            for info, changes in self.commits():
                self.stats.commits += 1
                yield from _chunks(changes, reader, self.max_file_size, self.stats, commit=info)
        finally:
            reader.close()


def first_occurrences(findings: Sequence[Finding]) -> list[Finding]:
    """Across a range, the same value at the same path and line (e.g. a line re-added by a later
    commit's whitespace change) is reported once: at the first commit, which findings arrive in."""
    seen: set[tuple[str, str, int]] = set()
    out = []
    for f in findings:
        key = (f.fingerprint, f.path, f.line)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def toplevel(repo: Path | str) -> Path:
    proc = _git(repo, ["rev-parse", "--show-toplevel"])
    if proc.returncode != 0:
        _not_repo(repo, proc)
        raise LeakstopError(f"{repo}: {_fatal(proc)}")
    return Path(proc.stdout.decode("utf-8", "surrogateescape").rstrip("\n"))


def _is_shallow(repo: Path | str) -> bool:
    proc = _git(repo, ["rev-parse", "--is-shallow-repository"])
    return proc.stdout.strip() == b"true"


def _commit(repo: Path | str, rev: str, role: str) -> str:
    """The full sha of ``rev`` as a commit, or a one-line error saying why not."""
    if rev.startswith("-"):
        raise LeakstopError(f"invalid revision '{rev}'")
    proc = _git(repo, ["rev-parse", "--verify", "-q", "--end-of-options", f"{rev}^{{commit}}"])
    if proc.returncode == 0:
        return proc.stdout.decode().strip()
    if _git(repo, ["rev-parse", "-q", "--verify", "HEAD"]).returncode != 0:
        head = _git(repo, ["symbolic-ref", "-q", "--short", "HEAD"]).stdout.decode().strip() or "HEAD"
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
    proc = _git(repo, ["rev-parse", "--git-dir"])
    if proc.returncode != 0:
        _not_repo(repo, proc)
        raise LeakstopError(f"{repo}: {_fatal(proc)}")
    spec = spec.strip()
    if not spec or spec.count("..") > 1 or "...." in spec:
        raise LeakstopError(f"invalid range '{spec}' (use BASE..HEAD, BASE...HEAD or one commit)")
    if "..." in spec:
        base, head = spec.split("...", 1)
        b, h = _commit(repo, base or "HEAD", "base"), _commit(repo, head or "HEAD", "head")
        mb = _git(repo, ["merge-base", b, h])
        if mb.returncode != 0:
            raise LeakstopError(f"'{base}' and '{head}' have no common ancestor")
        return Range((h, "^" + mb.stdout.decode().strip()), spec)
    if ".." in spec:
        base, head = spec.split("..", 1)
        h = _commit(repo, head or "HEAD", "head")
        if base.strip("0") == "" and len(base) == 40:
            return Range((h,), spec)
        b = _commit(repo, base or "HEAD", "base")
        return Range((h, "^" + b), spec)
    return Range((_commit(repo, spec, "commit"),), spec, single=True)
