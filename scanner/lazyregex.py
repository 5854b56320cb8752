"""Module-level regexes compiled on first use.

A module-level ``re.compile`` runs when its module is imported, whether or not the pattern is ever
used: the pre-commit hook imports modules that hold ~75 patterns and uses ~20 of them, and
compiling the rest cost it ~5 ms of its ~100 ms. ``lazy(...)`` stands in for ``re.compile(...)``
there: the pattern is compiled by the first use of one of its methods or attributes, after
which those are the compiled pattern's own (bound methods kept on the instance, so a call costs
what it costs on a compiled pattern). ``.pattern`` is known without compiling.

It is not an ``re.Pattern`` (``isinstance`` says no, and it cannot be passed to ``re.sub``):
use it through its methods.
"""

from __future__ import annotations

import re
from typing import Any, AnyStr

# What a first use copies from the compiled pattern onto the instance.
_COPIED = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split", "scanner",
           "flags", "groups", "groupindex")


class LazyPattern:
    def __init__(self, pattern: str | bytes, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags

    def __getattr__(self, name: str) -> Any:
        # Called only for what is not on the instance yet: the first use of anything but .pattern.
        compiled = re.compile(self.pattern, self._flags)
        self.__dict__.update((n, getattr(compiled, n)) for n in _COPIED)
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy({self.pattern!r})"


def lazy(pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """``re.compile(pattern, flags)``, done on first use (see the module's docstring)."""
    return LazyPattern(pattern, flags)  # type: ignore[return-value]  # used as a Pattern: same methods
