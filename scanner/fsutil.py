"""Atomic file writes: every file leakstop writes (reports, baselines, caches, journals, rewritten
source) is replaced whole or not at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Optional

from scanner.errors import LeakstopError


def atomic_write(path: Path, data: bytes, mode: Optional[int] = None, parents: bool = False) -> None:
    """Temporary file in the same directory, fsync, rename: a reader sees old or new, never half.

    A path that is not a regular file (``-o /dev/null``, ``/dev/stdout``, a named pipe) is written
    in place: renaming over it would replace the device or pipe with a plain file. The folder
    must exist (a mistyped ``-o`` is an error, as with most tools) unless ``parents``, for the
    folders leakstop owns (cache, journal, state). Temporary files left by a killed leakstop
    (``.NAME.leakstop-PID.tmp`` of a PID no longer running) are removed first."""
    path = Path(path)
    if parents:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LeakstopError(f"{path}: cannot write: {_parent_problem(path) or exc.strerror}") from None
    else:
        check_parent(path)
    if _is_special(path):
        try:
            with open(path, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise LeakstopError(f"{path}: cannot write: {exc.strerror}") from None
        return
    remove_stale_temps(path)
    tmp = path.with_name(_temp_name(path.name, os.getpid()))
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise LeakstopError(f"{path}: cannot write: {exc.strerror}") from None


def check_parent(path: Path) -> None:
    """A one-line error when ``path``'s folder does not exist or is a file."""
    problem = _parent_problem(Path(path))
    if problem:
        raise LeakstopError(f"{path}: cannot write: {problem}")


def _parent_problem(path: Path) -> Optional[str]:
    parent = path.parent
    if os.path.isdir(parent):
        return None
    for up in (parent, *parent.parents):  # the nearest existing ancestor says what is wrong
        if os.path.lexists(up):
            if not os.path.isdir(up):
                return f"{up} is a file, not a directory"
            break
    return f"directory {parent} does not exist"


_TEMP_SUFFIX = ".tmp"


def _temp_prefix(name: str) -> str:
    return f".{name}.leakstop-"


def _temp_name(name: str, pid: int) -> str:
    return f"{_temp_prefix(name)}{pid}{_TEMP_SUFFIX}"


def remove_stale_temps(path: Path) -> None:
    """Remove this file's temporaries (leakstop's own names only) whose process is gone: a
    ``kill -9`` between write and rename leaves one, which nothing else would clean."""
    prefix, suffix = _temp_prefix(path.name), _TEMP_SUFFIX
    try:
        names = [e.name for e in os.scandir(path.parent) if e.name.startswith(prefix) and e.name.endswith(suffix)]
    except OSError:
        return
    for name in names:
        pid = name[len(prefix):-len(suffix)]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            try:
                os.unlink(path.parent / name)
            except OSError:
                pass


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's process, alive
        return True
    return True


def _is_special(path: Path) -> bool:
    """An existing file that is neither regular nor a directory (character device, FIFO, socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def read_json(path: Path) -> object:
    """Parse a JSON file. Raises OSError when it cannot be read and ValueError when it is not JSON,
    including nesting too deep for the parser (RecursionError) and bytes that are not UTF-8."""
    return parse_json(Path(path).read_bytes())


def parse_json(data: bytes) -> object:
    """JSON from bytes; ValueError when they are not UTF-8 JSON or nest too deeply."""
    import json

    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError:
        raise ValueError("nested too deeply") from None


def write_new(path: Path, data: bytes, mode: int = 0o600) -> bool:
    """Create ``path`` with ``data`` (and ``mode``) unless it exists; False when it did. Atomic
    like :func:`atomic_write`: the content is complete before the name appears (hard link of a
    finished temporary file), so two processes racing to create it agree on one content."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.leakstop-{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    except OSError as exc:
        raise LeakstopError(f"{path}: cannot write: {exc.strerror}") from None
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
