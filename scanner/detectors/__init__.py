"""Context-aware detectors: values assigned to credential-like keys in files whose structure we
understand (Dockerfiles, env files, config files). Chosen by file name; each yields
:class:`scanner.engine.Match` records like the regex rules do, naming the key.

Registry: ``DETECTORS`` maps a detector name to a function ``(chunk, rules) -> Iterable[Match]``.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

DETECTORS: dict[str, Callable[..., Iterable]] = {}


def detect(chunk, rules: Sequence) -> Iterable:
    for fn in DETECTORS.values():
        yield from fn(chunk, rules)
