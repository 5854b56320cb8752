"""Files and directories (and ``-`` for stdin) as chunks.

A directory walk honours ``.gitignore`` files (nested ones too, relative to their own folder),
``--exclude`` globs and the allowlist's paths, and skips files over the size limit, counting each
skip by reason. UTF-16/32 text is decoded and binary files are scanned for their printable text
(:mod:`scanner.sources.textify`), counted by kind.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

from scanner.display import display_path
from scanner.errors import LeakstopError
from scanner.globs import PathPatterns
from scanner.models import Chunk
from scanner.sources.archives import Limits, expand
from scanner.sources.git import find_work_tree
from scanner.sources.base import Plain, ScanStats
from scanner.sources.textify import BINARY, textify
from scanner.sources.windows import stream_chunks

@dataclass(frozen=True)
class FileRef:
    path: str  # to open ("-" for stdin)
    display: str  # as reported
    explicit: bool  # named on the command line: errors are fatal, ignores do not apply
    link: bool = False  # a symbolic link met in a walk: its target text is scanned, not followed
    regular: bool = False  # a walk met it as a regular file (no stat needed before opening it)


class _Ignore:
    """The stack of .gitignore specs in force for one directory.

    Each entry is (walk_prefix, rel_prefix, spec): a walked path starting with ``walk_prefix`` is
    matched as ``rel_prefix + rest`` (string slicing: os.path.relpath per file costs more than
    reading the file).
    """

    def __init__(self, specs: tuple = ()) -> None:
        self.specs = specs

    def child(self, directory: str, walk_prefix: str | None = None, rel_prefix: str = "",
              named: Sequence[str] = ()) -> "_Ignore":
        """Add ``directory``'s .gitignore. ``named``: the directory named on the command line and
        its parents up to ``directory`` (as ``a/``, ``a/b/``); a pattern that ignores one of them
        is dropped, since a named path is scanned (patterns matching entries below it still apply)."""
        gi = os.path.join(directory, ".gitignore")
        try:
            with open(gi, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            return self
        prefix = walk_prefix if walk_prefix is not None else directory.rstrip("/") + "/"
        spec = PathPatterns(lines)
        if named:
            spec = spec.keeping(lambda p: not (p.include and any(p.match_file(d) for d in named)))
        return _Ignore(self.specs + ((prefix, rel_prefix, spec),))

    def ignored(self, path: str, is_dir: bool) -> bool:
        # As in git, the deepest .gitignore with a matching pattern decides (so a nested
        # "!keep.log" re-includes what a parent's "*.log" excluded).
        for walk_prefix, rel_prefix, spec in reversed(self.specs):
            rel = rel_prefix + path[len(walk_prefix):]
            if os.sep != "/":
                rel = rel.replace(os.sep, "/")
            verdict = spec.check(rel + "/" if is_dir else rel)
            if verdict is not None:
                return verdict
        return False


class FileSource(Plain):
    """Files and directories: a unit is a file to read (:class:`FileRef`), its chunk the whole file
    (or, named and over the size limit, its windows)."""


    def __init__(
        self,
        paths: Sequence[str],
        max_file_size: int,
        exclude: Sequence[str] = (),
        use_gitignore: bool = True,
        stdin_name: str = "<stdin>",
    ) -> None:
        self.paths = list(paths) or ["."]
        self.max_file_size = max_file_size
        self.use_gitignore = use_gitignore
        self.stdin_name = stdin_name
        self.stats = ScanStats("files")
        self.parallel = "-" not in self.paths  # stdin is read once, here
        self._exclude = PathPatterns(exclude) if exclude else None
        for p in self.paths:
            if p == "-":
                continue
            try:
                os.lstat(p)
            except FileNotFoundError:
                raise LeakstopError(f"{p}: no such file or directory") from None
            except OSError as exc:  # a name too long, a parent that is not searchable
                raise LeakstopError(f"{p}: {exc.strerror}") from None

    def units(self) -> Iterator[FileRef]:
        """What to read, in order: the walk, without reading any file."""
        for p in self.paths:
            if p == "-":
                yield FileRef("-", self.stdin_name, True)
            elif os.path.isdir(p):
                yield from self._walk(p)
            else:
                # Files named explicitly (pre-commit passes them) are scanned even if ignored.
                yield FileRef(p, p, True)

    def load(self, ref: FileRef) -> Iterator[Chunk]:
        """Read one file: its chunk, or (for a named file over the size limit) its windows;
        nothing (counted in stats) when it is skipped."""
        if ref.path == "-":
            stdin = sys.stdin.buffer
            data = stdin.read(self.max_file_size + 1)
            if len(data) <= self.max_file_size:
                yield from self._emit(ref.display, data)
            else:
                yield from self._stream(ref.display, _prepend(data, stdin.read))
            return
        if ref.link:
            # What git stores for a link (and diff and history scan) is its target text.
            try:
                target = os.readlink(os.fsencode(ref.path))
            except OSError as exc:
                self.stats.cannot_read(ref.display, exc)
                return
            yield from self._emit(ref.display, target)
            return
        yield from self._file(ref.path, ref.explicit, ref.display, ref.regular)

    def _excluded(self, display: str, is_dir: bool) -> bool:
        if self._exclude is None:
            return False
        rel = display[2:] if display.startswith("./") else display
        return self._exclude.match(rel + ("/" if is_dir else ""))

    def _walk(self, root: str) -> Iterator[FileRef]:
        ignore = _Ignore()
        if self.use_gitignore:
            # .gitignore files above the starting directory, up to the repository root, apply too.
            root = root.rstrip("/") or "/"
            real_root = Path(root).resolve()
            top = find_work_tree(real_root)
            if top is not None:
                ancestors = [d for d in real_root.parents if d == top or top in d.parents]
                for d in reversed(ancestors):
                    rel = os.path.relpath(real_root, d).replace(os.sep, "/")
                    parts = rel.split("/")
                    named = ["/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
                    ignore = ignore.child(str(d), walk_prefix=root.rstrip("/") + "/", rel_prefix=rel + "/",
                                          named=named)
        stack = [(root, ignore)]
        while stack:
            directory, ign = stack.pop()
            if self.use_gitignore:
                ign = ign.child(directory)
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name, reverse=True)
            except OSError as exc:  # permission denied, a path too long for the system
                self.stats.cannot_read(directory, exc)
                continue
            subdirs = []
            for entry in reversed(entries):
                path = entry.path
                display = path[2:] if path.startswith("./") and root == "." else path
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError as exc:
                    self.stats.cannot_read(display, exc)
                    continue
                if is_dir and entry.name == ".git":
                    continue
                if self._excluded(display, is_dir):
                    self.stats.skipped["excluded"] += 1
                    continue
                if self.use_gitignore and ign.ignored(path, is_dir):
                    self.stats.skipped["gitignored"] += 1  # a directory counts once
                    continue
                if is_dir:
                    subdirs.append((path, ign))
                else:
                    yield FileRef(path, display, False, link=entry.is_symlink(),
                                  regular=entry.is_file(follow_symlinks=False))
            stack.extend(reversed(subdirs))

    def _file(self, path: str, explicit: bool, display: Optional[str] = None, regular: bool = False
              ) -> Iterator[Chunk]:
        """One file's chunk (or, named and over the size limit, its windows), or nothing (counted).
        A file a walk met as regular is opened at once: one open, fstat and read (a stat by name
        and a buffered file object cost as much again on a tree of small files); anything else
        is stat'ed first, so a device or pipe is never opened."""
        display = display or path
        if not regular:
            try:
                st = os.stat(path)
            except OSError as exc:
                self._unreadable(path, display, explicit, exc)
                return
            if not stat.S_ISREG(st.st_mode):
                self.stats.skipped["not a regular file"] += 1
                return
        try:
            # O_NONBLOCK: had the file become a FIFO since the walk, opening it would wait forever.
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            self._unreadable(path, display, explicit, exc)
            return
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                self.stats.skipped["not a regular file"] += 1
                return
            if st.st_size > self.max_file_size:
                if explicit:
                    # Named on the command line (the leakstop-files hook passes names): scanned,
                    # in windows, never skipped.
                    with os.fdopen(fd, "rb", closefd=False) as fh:
                        yield from self._stream(display, fh.read)
                else:
                    self.stats.skip_large(display_path(display))
                return
            data = _read_all(fd, st.st_size)
        except OSError as exc:
            self._unreadable(path, display, explicit, exc)
            return
        finally:
            os.close(fd)
        yield from self._emit(display, data)

    def _unreadable(self, path: str, display: str, explicit: bool, exc: OSError) -> None:
        """A file named on the command line that cannot be read is an error; one met in a walk
        is counted and reported."""
        if explicit:
            raise LeakstopError(f"{path}: {exc.strerror}") from None
        self.stats.cannot_read(display, exc)

    def _emit(self, display: str, data: bytes) -> Iterator[Chunk]:
        # An archive's members are scanned (``a.zip!conf/app.env``), not its compressed bytes.
        expanded = False
        for name, body, member in expand(display, data, Limits(self.max_file_size), self.stats.skip):
            expanded |= member
            text, kind = textify(body)
            self.stats.count(kind, len(body))
            yield Chunk(path=name.replace(os.sep, "/"), data=text, binary=kind == BINARY)
        if expanded:
            self.stats.decoded["archive"] += 1

    def _stream(self, display: str, read: Callable[[int], bytes]) -> Iterator[Chunk]:
        """A named file (or stdin) over the size limit, window by window (bounded memory)."""
        counted = [0]

        def reading(n: int) -> bytes:
            got = read(n)
            counted[0] += len(got)
            return got

        kind, chunks = stream_chunks(reading, display.replace(os.sep, "/"))
        yield from chunks
        self.stats.count(kind, counted[0])
        self.stats.stream(display_path(display))


def _read_all(fd: int, size: int) -> bytes:
    """The rest of an open file: ``size`` bytes in one read, and whatever it grew by since."""
    parts = []
    while got := os.read(fd, max(size, 1 << 16)):
        parts.append(got)
        size = 1 << 16
    return b"".join(parts)


def _prepend(first: bytes, read: Callable[[int], bytes]) -> Callable[[int], bytes]:
    """``read`` with ``first`` (already read) returned before the rest."""
    pending = [first]
    return lambda n: pending.pop() if pending else read(n)


def as_posix(path: Path) -> str:
    return str(path).replace(os.sep, "/")
