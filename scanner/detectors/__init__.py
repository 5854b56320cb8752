"""Context-aware detectors: values assigned to credential-like keys in files whose structure we
understand (Dockerfiles, env files, compose files, config files, Kubernetes and Terraform).
Chosen by file name; each yields :class:`scanner.engine.Match` records like the regex rules do,
naming the key.

Registry: ``DETECTORS`` maps a detector name to a function ``(chunk, emitter) -> Iterable[Match]``;
:func:`detect` (called by the engine with its rules) builds the :class:`Emitter`, which reports
only rules present in the scan whose ``detector`` field is set (see rules/context.yaml), so
``disabled_rules`` works for context rules like for any other. Each function returns at once for
file names it does not handle, so the cost on other files is a few string tests.

Offsets: detectors decode the file as Latin-1, so a character index is a byte index.
"""

from __future__ import annotations

import posixpath
from typing import Callable, Iterable, Iterator, Optional, Sequence

# Files leakstop and detect-secrets write themselves: hashes, not secrets.
SKIP_NAMES = frozenset({".leakstop-baseline.json", ".secrets.baseline"})


class Emitter:
    """Builds matches for the context rules that are active in this scan."""

    def __init__(self, rules: Sequence) -> None:
        self.by_id = {r.id: r for r in rules if getattr(r, "detector", "")}

    def __bool__(self) -> bool:
        return bool(self.by_id)

    def match(self, rule_id: str, text: str, start: int, end: int, key: Optional[str]):
        """A match for ``text[start:end]`` under ``rule_id``, or None when the rule is not active
        or the value does not fit the rule's own regex."""
        from scanner.engine import Match

        rule = self.by_id.get(rule_id)
        if rule is None or start >= end:
            return None
        if rule.value_regex and not rule.value_pattern.search(text[start:end].encode("latin-1")):
            return None
        return Match(rule, start, end, key)


_last: list = [None, None]  # (rules list, Emitter): the engine passes the same list every time


def emitter(rules: Sequence) -> Emitter:
    if _last[0] is not rules:
        _last[0], _last[1] = rules, Emitter(rules)
    return _last[1]


def basename(path: str) -> str:
    return posixpath.basename(path.replace("\\", "/"))


def _registry() -> dict[str, Callable[..., Iterable]]:
    from scanner.detectors import compose, config, dockerfile, envfile, kubernetes, terraform

    return {
        "dockerfile": dockerfile.detect,
        "build-args": dockerfile.detect_build_args,
        "compose": compose.detect,
        "envfile": envfile.detect,
        "config": config.detect,
        "kubernetes": kubernetes.detect,
        "terraform": terraform.detect,
    }


DETECTORS: dict[str, Callable[..., Iterable]] = _registry()


def detect(chunk, rules: Sequence) -> Iterator:
    if basename(chunk.path) in SKIP_NAMES:
        return
    em = emitter(rules)
    if not em:
        return
    for fn in DETECTORS.values():
        yield from fn(chunk, em)
