"""One progress bar for every long-running command: on stderr, when asked (``--progress``) or
when stderr is a terminal; in the latter case only once the work has lasted a moment, so a
pre-commit run or a small scan never shows one."""

from __future__ import annotations

import sys
from typing import Optional

# Unasked, a bar appears only after this long: short runs stay silent even on a terminal.
DELAY_SECONDS = 1.0


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def bar_delay(flag: Optional[bool], quiet: bool = False, stream=None) -> Optional[float]:
    """When to show the bar: None for never; 0 when ``--progress`` asked for it; otherwise
    :data:`DELAY_SECONDS` when ``stream`` (stderr) is a terminal and the command is not quiet."""
    if flag is not None:
        return 0.0 if flag else None
    return DELAY_SECONDS if not quiet and (stream or sys.stderr).isatty() else None


def progress_bar(delay: Optional[float], unit: str, desc: str):
    """A tqdm bar with an unknown total (walks are lazy) on stderr, erased when done (the summary
    line follows it), or an object that ignores updates when ``delay`` is None."""
    if delay is None:
        return _Silent()
    from tqdm import tqdm

    return tqdm(total=None, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True, leave=False, delay=delay)
