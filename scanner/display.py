"""Text that leaves the process: file names and terminal output that can always be encoded.

File names are bytes on POSIX and in git; Python holds undecodable bytes as lone surrogates
(``surrogateescape``) so a name still opens the file it came from. Such a string cannot be
encoded as UTF-8, so every report shows a name through :func:`display_path`: each byte that is not
valid UTF-8 becomes a ``\\xNN`` escape (``caf\\xe9.py``), the same in every format and every mode.
A terminal that cannot encode a character (``PYTHONIOENCODING=ascii``) gets ``...`` for ``…`` and
a backslash escape for anything else, never an exception.
"""

from __future__ import annotations

import codecs
import sys

_ERRORS = "leakstop-display"
# Characters the reports use on purpose, and what a terminal that lacks them shows instead.
_FALLBACK = {"…": "...", "→": "->", "─": "-", "►": ">"}


def display_path(path: str) -> str:
    """A file name as reports show it: valid UTF-8, undecodable bytes as ``\\xNN`` escapes."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        pass
    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate surrogateescape did not make (e.g. from JSON input)
        return path.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def display_bytes(path: bytes) -> str:
    """A git path (bytes) as reports show it: the same as :func:`display_path` of its decoding."""
    return path.decode("utf-8", "backslashreplace")


def _degrade(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: what a stream that cannot encode a character writes instead."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start:exc.end]:
        code = ord(ch)
        if ch in _FALLBACK:
            out.append(_FALLBACK[ch])
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable byte held by surrogateescape
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out), exc.end


codecs.register_error(_ERRORS, _degrade)


def safe_streams() -> None:
    """Make stdout and stderr degrade instead of raising on characters they cannot encode."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            reconfigure(errors=_ERRORS)
        except (ValueError, OSError):  # a detached or closed stream: nothing to protect
            pass


def utf8(text: str) -> bytes:
    """Text of a machine-readable report (JSON, SARIF, HTML) as UTF-8, whatever it holds: a
    surrogate that escaped :func:`display_path` becomes a ``\\udcNN`` escape, valid in JSON."""
    return text.encode("utf-8", "backslashreplace")
