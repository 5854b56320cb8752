"""gitignore-style path patterns (``.gitignore`` files, ``--exclude``, the allowlist's paths):
pathspec's ``GitIgnoreSpec`` behind a one-regex test of whether any pattern matches at all.

pathspec tries each pattern's regex in turn, so a path costs one search per pattern; in a walk
nearly every path matches none of them (on the rails tree, 12 searches per path for 0.5% of
paths ignored: 40% of the walk's CPU). All patterns joined into one alternation answer "none
matches" in a single search; only a path that some pattern matches is judged by pathspec, whose
rules (the last matching pattern decides, negation, directory marks) stay its own.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Optional

# A pattern's regex names the group that marks a directory match; joined, the names would clash
# (the joined regex only answers whether any pattern matches: no group is read).
_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


class PathPatterns:
    """Patterns in gitignore syntax, matched against /-separated paths relative to their base."""

    def __init__(self, lines: Iterable[str] = (), spec: Any = None) -> None:
        """From lines in gitignore syntax, or around an already built GitIgnoreSpec."""
        if spec is None:
            import pathspec  # here: a scan with no .gitignore, exclude or allowlist never imports it

            spec = pathspec.GitIgnoreSpec.from_lines(list(lines), backend="simple")
        self.spec, self._any = spec, _any_of(spec.patterns)

    def keeping(self, keep: Callable[[Any], bool]) -> "PathPatterns":
        """These patterns but those ``keep`` refuses (it is given each pathspec pattern)."""
        import pathspec

        return PathPatterns(spec=pathspec.GitIgnoreSpec([p for p in self.spec.patterns if keep(p)], backend="simple"))

    def check(self, path: str) -> Optional[bool]:
        """True: the path is matched (ignored, excluded); False: re-included by a negated
        pattern; None: no pattern matches. A directory is passed with a trailing slash."""
        if self._any is not None and self._any.search(_normal(path)) is None:
            return None
        return self.spec.check_file(path).include

    def match(self, path: str) -> bool:
        return bool(self.check(path))


def _normal(path: str) -> str:
    """The path as pathspec matches it (util.normalize_file on POSIX: no leading / or ./)."""
    if path.startswith("/"):
        return path[1:]
    return path[2:] if path.startswith("./") else path


def _any_of(patterns: list) -> Optional[re.Pattern]:
    """One regex that matches where any of ``patterns`` does, or None when they cannot be joined
    (then every path is judged by pathspec: slower, never wrong)."""
    regexes = [p.regex for p in patterns if p.include is not None and getattr(p, "regex", None) is not None]
    if len(regexes) != sum(p.include is not None for p in patterns):
        return None  # a pattern without a regex: nothing to join
    if not regexes:
        return re.compile(r"(?!)")  # only comments and blank lines: nothing matches
    if len({r.flags for r in regexes}) != 1 or any(isinstance(r.pattern, bytes) or "(?P=" in r.pattern
                                                   for r in regexes):
        return None
    try:
        return re.compile("|".join(f"(?:{_NAMED_GROUP.sub('(?:', r.pattern)})" for r in regexes), regexes[0].flags)
    except re.error:
        return None
