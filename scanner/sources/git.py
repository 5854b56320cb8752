"""The git plumbing every git source shares: one way to run git, one ``git cat-file --batch``
reader, and repository discovery (the work tree, its git directories, what kind of repository).

No gitpython (importing it costs more than the pre-commit hook's whole scan): repository
discovery, refs and commit metadata come from the same plumbing that reads the objects.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Mapping, Optional, Sequence

from scanner.errors import LeakstopError

_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


# -- running git --------------------------------------------------------------------------------


def git(repo: Path | str, args: Sequence[str | bytes], pre: Sequence[str] = (), input: Optional[bytes] = None,
        env: Optional[Mapping[str, str]] = None, timeout: Optional[float] = None) -> subprocess.CompletedProcess:
    """Run ``git -C repo [pre] args`` and return the finished process, whatever its exit code
    (``pre``: options before the subcommand, e.g. ``--literal-pathspecs``)."""
    try:
        return subprocess.run(["git", "-C", str(repo), *pre, *args], input=input, capture_output=True, check=False,
                              env=None if env is None else dict(env), timeout=timeout)
    except FileNotFoundError:
        raise LeakstopError("git is not installed or not on PATH") from None


def start_git(repo: Path | str, args: Sequence[str]) -> subprocess.Popen:
    """``git -C repo args`` started and left running: :func:`finish_git` takes its result, and what
    git does meanwhile overlaps the caller's own work."""
    try:
        return subprocess.Popen(["git", "-C", str(repo), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise LeakstopError("git is not installed or not on PATH") from None


def finish_git(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    """The finished process of :func:`start_git`, as :func:`git` returns it."""
    out, err = proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def failure(proc: subprocess.CompletedProcess) -> str:
    """The line of git's stderr that says why it failed, without its ``fatal:`` prefix."""
    err = proc.stderr if isinstance(proc.stderr, bytes) else (proc.stderr or "").encode()
    lines = err.decode("utf-8", "replace").strip().splitlines()
    msg = next((m for m in lines if m.startswith(("fatal:", "error:"))), lines[0] if lines else "failed")
    return msg.removeprefix("fatal: ").removeprefix("error: ")


def run_git(repo: Path | str, args: Sequence[str], check: bool = True, input: Optional[bytes] = None) -> bytes:
    """git's output; with ``check``, a failure becomes a one-line LeakstopError."""
    proc = git(repo, args, input=input)
    if check and proc.returncode != 0:
        raise LeakstopError(f"git {' '.join(args[:2])}: {failure(proc)}")
    return proc.stdout


def grow_pipe(stream: IO[bytes]) -> None:
    """Fewer context switches between git and us on a big read; best effort (Linux only)."""
    try:
        fcntl.fcntl(stream.fileno(), _F_SETPIPE_SZ, 1 << 20)
    except OSError:
        pass


# -- reading objects ----------------------------------------------------------------------------


class CatFile:
    """One long-lived ``git cat-file --batch`` process (never one ``git show`` per object).

    Two ways to use it. One object at a time: :meth:`read` (the diff sources; a blob over the
    limit can be streamed in pieces with :meth:`piece`). Pipelined (the history workers):
    :meth:`request` names many objects, one thread keeps naming while another takes the answers
    in order with :meth:`next`, so git never waits for the scanner nor the other way.

    Both ways, names reach git when requested and git writes each answer as it has it (no
    ``--buffer``): an answer never waits in a buffer for more names. So the history's parent can
    give a worker only a few batches at a time, and git answers all of them. (With ``--buffer``
    and a 1 MB buffer of names, requests' workers got their first blob only when its whole log
    had been read, and answers held by git would wait for names the parent holds back.)
    """

    def __init__(self, repo: Path | str, pipelined: bool = False) -> None:
        self._repo = str(repo)
        self._pipelined = pipelined
        self._proc: Optional[subprocess.Popen] = None
        self._left = 0  # bytes of the current object not read yet (and its trailing newline)
        if pipelined:  # started here, not by whichever of the two threads comes first
            self._start()

    def _start(self) -> subprocess.Popen:
        if self._proc is None:
            try:
                self._proc = subprocess.Popen(
                    ["git", "-C", self._repo, "cat-file", "--batch"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                    bufsize=(1 << 20) if self._pipelined else -1,
                )
            except FileNotFoundError:
                raise LeakstopError("git is not installed or not on PATH") from None
            if self._pipelined:
                assert self._proc.stdout is not None
                grow_pipe(self._proc.stdout)
        return self._proc

    def start(self) -> None:
        """Start git now (it is otherwise started by the first request): its start-up then
        overlaps the caller's work."""
        self._start()

    def request(self, names: Sequence[str]) -> None:
        """Name objects whose answers :meth:`next` returns, in this order."""
        stdin = self._start().stdin
        assert stdin is not None
        stdin.write(b"".join(name.encode() + b"\n" for name in names))
        stdin.flush()

    def end_requests(self) -> None:
        """No more names: git finishes the ones pending and exits."""
        stdin = self._start().stdin
        if stdin is not None:
            stdin.close()

    def next(self, limit: int, stream: bool = False) -> tuple[str, Optional[bytes], int]:
        """The answer to the next name requested: (status, data, size). status is "ok" (data
        read), "missing", "not a blob", "too large" (skipped unread), "stream" (over the limit
        and ``stream``: its bytes come from :meth:`piece`), or "end" (git closed its output)."""
        self._skip_rest()
        stdout = self._start().stdout
        assert stdout is not None
        header = stdout.readline()
        if not header:
            return "end", None, 0
        parts = header.split()
        if len(parts) != 3:  # "<name> missing" / "ambiguous"
            return "missing", None, 0
        size = int(parts[2])
        self._left = size + 1
        if parts[1] != b"blob":  # e.g. a "rev:path" naming a directory
            self._skip_rest()
            return "not a blob", None, size
        if size > limit:
            if stream:
                return "stream", None, size
            self._skip_rest()
            return "too large", None, size
        data = stdout.read(size)
        stdout.read(1)  # the newline after the content
        self._left = 0
        return "ok", data, size

    def read(self, name: str, limit: int, stream: bool = False) -> tuple[str, Optional[bytes]]:
        """One blob: ("ok", data), ("missing"|"too large", None), or with ``stream`` ("stream",
        None) for a blob over the limit, whose bytes come from :meth:`piece` (the rest is
        skipped at the next read). Not a blob counts as missing."""
        self.request([name])
        status, data, _ = self.next(limit, stream)
        return ("missing" if status in ("not a blob", "end") else status), data

    def piece(self, n: int) -> bytes:
        """Up to ``n`` more bytes of the blob being streamed; b"" at its end."""
        if self._left <= 1:
            self._skip_rest()
            return b""
        assert self._proc is not None and self._proc.stdout
        got = self._proc.stdout.read(min(n, self._left - 1, 1 << 20)) or b""
        self._left = self._left - len(got) if got else 0
        return got

    def _skip_rest(self) -> None:
        """Drain what is left of the current object (and its newline) without keeping it."""
        while self._left > 0:
            assert self._proc is not None and self._proc.stdout
            got = self._proc.stdout.read(min(self._left, 1 << 20))
            self._left = self._left - len(got) if got else 0

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.stdin and not self._proc.stdin.closed:
                try:
                    self._proc.stdin.close()
                except BrokenPipeError:
                    pass
            self._proc.wait()
            self._proc = None

    def __enter__(self) -> "CatFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- repository discovery -----------------------------------------------------------------------


def find_work_tree(start: Path) -> Optional[Path]:
    """The enclosing git work tree, found by walking up (no subprocess: the hook must be fast)."""
    start = start.resolve()
    for d in (start, *start.parents):
        if os.path.exists(d / ".git"):  # os.path: an unsearchable parent is "no", not an error
            return d
    return None


def work_tree_git_dir(top: Path) -> Optional[Path]:
    """The git directory of the work tree at ``top``: ``.git``, or where a linked work tree's or
    a submodule's ``.git`` file points (``gitdir: <path>``); None when it cannot tell."""
    dot = top / ".git"
    if os.path.isdir(dot):
        return dot
    try:
        text = dot.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("gitdir:"):
        return None
    gitdir = Path(text[len("gitdir:"):].strip())
    return gitdir if gitdir.is_absolute() else top / gitdir


def common_git_dir(start: Path) -> Optional[Path]:
    """The git directory shared by all work trees of the repository holding ``start`` (found
    without running git: the hook must stay fast)."""
    try:
        root = find_work_tree(start if os.path.isdir(start) else start.parent)
    except OSError:  # a name too long, a loop: no repository to speak of
        return None
    if root is None:
        return None
    gitdir = work_tree_git_dir(root)
    if gitdir is None or gitdir == root / ".git":
        return gitdir
    try:
        common = (gitdir / "commondir").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return gitdir
    return (gitdir / common).resolve()


def not_a_repository(repo: Path | str, proc: subprocess.CompletedProcess) -> None:
    """Raise the one-line "not a git repository" error when that is why git failed."""
    if "not a git repository" in failure(proc):
        raise LeakstopError(f"{repo}: not a git repository")


def toplevel(repo: Path | str) -> Path:
    """The top of the work tree holding ``repo`` (asks git), or a one-line error."""
    proc = git(repo, ["rev-parse", "--show-toplevel"])
    if proc.returncode != 0:
        not_a_repository(repo, proc)
        raise LeakstopError(f"{repo}: {failure(proc)}")
    return Path(proc.stdout.decode("utf-8", "surrogateescape").rstrip("\n"))


def toplevel_or_none(repo: Path | str) -> Optional[Path]:
    """:func:`toplevel`, or None outside a work tree (a bare repository, no repository, no git)."""
    try:
        return toplevel(repo)
    except LeakstopError:
        return None


@dataclass(frozen=True)
class RepoInfo:
    git_dir: Path
    bare: bool
    shallow: bool
    head: Optional[str]  # None when HEAD is unborn
    head_ref: Optional[str]  # e.g. refs/heads/main; None when detached


def open_repo(path: Path | str) -> RepoInfo:
    """Check that ``path`` is a git repository (work tree or bare) and describe it."""
    p = Path(path)
    if not os.path.exists(p):
        raise LeakstopError(f"{path}: no such directory")
    if not os.path.isdir(p):
        raise LeakstopError(f"{path}: not a directory")
    proc = git(p, ["rev-parse", "--absolute-git-dir", "--is-bare-repository", "--is-shallow-repository"])
    if proc.returncode != 0:
        raise LeakstopError(f"{path}: not a git repository")
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    git_dir, bare, shallow = Path(lines[0]), lines[1] == "true", lines[2] == "true"
    head = run_git(p, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], check=False).strip().decode() or None
    head_ref = run_git(p, ["symbolic-ref", "--quiet", "HEAD"], check=False).strip().decode() or None
    return RepoInfo(git_dir, bare, shallow, head, head_ref)
