"""The one user-facing error type; the CLI's top-level handler maps it to an exit code."""

from __future__ import annotations

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


def describe_bug(exc: BaseException) -> str:
    """An unexpected exception as its type and the place in leakstop it was raised, never its
    message: a message can quote scanned text (``int('<value>')``), and no value may be output."""
    import os
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}scanner{os.sep}" in f.filename] or frames
    where = ""
    if ours:
        f = ours[-1]
        where = f" at {'/'.join(f.filename.split(os.sep)[-2:])}:{f.lineno}"
    detail = f" [{exc.strerror}]" if isinstance(exc, OSError) and exc.strerror else ""
    return f"{type(exc).__name__}{detail}{where}"


class LeakstopError(Exception):
    """A problem the user can act on: printed as one line, exit code 2, never a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message
