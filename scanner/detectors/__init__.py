"""Context-aware detectors: values assigned to credential-like keys in files whose structure we
understand (Dockerfiles, env files, compose files, config files, Kubernetes and Terraform).
Chosen by file name; each yields :class:`scanner.models.Match` records like the regex rules do,
naming the key.

Registry: ``DETECTORS`` maps a detector name to a file-name test and a function
``(chunk, emitter) -> Iterable[Match]``;
the engine builds one :class:`Emitter` per scan and passes it to :func:`detect`; it reports
only rules present in the scan whose ``detector`` field is set (see rules/context.yaml), so
``disabled_rules`` works for context rules like for any other. Each function returns at once for
file names it does not handle, so the cost on other files is a few string tests.

Offsets: detectors decode the file as Latin-1, so a character index is a byte index.
"""

from __future__ import annotations

from scanner.models import Match

import collections
import functools
import importlib
from typing import Callable, Iterable, Iterator, Optional, Sequence

from scanner.detectors import names



class Emitter:
    """Builds matches for the context rules that are active in this scan."""

    def __init__(self, rules: Sequence) -> None:
        self.by_id = {r.id: r for r in rules if getattr(r, "detector", "")}
        self._memo: dict = {}  # see remembered
        self._nothing: dict[str, set[str]] = {}  # see nothing_in
        self._chars = 0  # what both hold, see _count
        # Work done, by kind, when set to a Counter (the engine's ``work``: tests count with it).
        self.work: Optional[collections.Counter] = None

    def __bool__(self) -> bool:
        return bool(self.by_id)

    def match(self, rule_id: str, text: str, start: int, end: int, key: Optional[str]):
        """A match for ``text[start:end]`` under ``rule_id``, or None when the rule is not active
        or the value does not fit the rule's own regex."""
        rule = self.by_id.get(rule_id)
        if rule is None or start >= end:
            return None
        if not rule.pattern.search(text[start:end].encode("latin-1")):
            return None
        return Match(rule, start, end, key)

    def remembered(self, key: tuple, compute: Callable[[], tuple]) -> tuple:
        """``compute()``, remembered under ``key`` (whose last item is the text it depends on) for
        the rest of this scan: a history audit meets the same lines in version after version of a
        file. The rules are this emitter's, so a result holds for every later scan it serves.
        Long texts are not remembered (they rarely recur), and the memory is bounded."""
        if len(key[-1]) > MEMO_TEXT:
            return compute()
        found = self._memo.get(key)
        if found is None:
            found = compute()
            self._count(len(key[-1]))
            self._memo[key] = found
        return found

    def nothing_in(self, kind: str) -> set[str]:
        """The texts known to hold nothing for ``kind`` (a detector's name for what it judges, say
        its lines): skipped in bulk, so that a history audit pays for a file's new lines only.
        Texts are added with :meth:`holds_nothing`."""
        return self._nothing.setdefault(kind, set())

    def holds_nothing(self, kind: str, text: str) -> None:
        if len(text) <= MEMO_TEXT:
            self._count(len(text))
            self.nothing_in(kind).add(text)

    def _count(self, chars: int) -> None:
        """Account for one more remembered text; past MEMO_CHARS, start afresh."""
        self._chars += chars + MEMO_OVERHEAD
        if self._chars > MEMO_CHARS:
            self.forget()

    def forget(self) -> None:
        self._memo.clear()
        self._nothing.clear()
        self._chars = 0


# Emitter.remembered and nothing_in: texts of at most MEMO_TEXT characters, at most MEMO_CHARS
# characters in all (counting MEMO_OVERHEAD for each text's entry): tens of MB at most.
MEMO_TEXT, MEMO_CHARS, MEMO_OVERHEAD = 4096, 24 << 20, 128


# name -> (does it want a file of this name?, does it want these bytes? (None: always),
# "module:function"). The name tests are cheap and remembered per path (a history audit sees the
# same paths version after version), and not asked at all of a name names.unwanted rules out
# (a name test must want only what that allows); a detector module is imported only when a file
# it wants turns up.
DETECTORS: dict[str, tuple[Callable[[str], bool], Optional[Callable[[bytes], bool]], str]] = {
    "dockerfile": (names.wants_dockerfile, None, "scanner.detectors.dockerfile:detect"),
    "build-args": (names.wants_build_args, lambda d: b"--build-arg" in d, "scanner.detectors.dockerfile:detect_build_args"),
    "commands": (names.wants_commands, None, "scanner.detectors.commands:detect"),
    "compose": (names.wants_compose, None, "scanner.detectors.compose:detect"),
    "envfile": (names.wants_envfile, None, "scanner.detectors.envfile:detect"),
    "config": (lambda p: bool(names.config_kind(p)), None, "scanner.detectors.config:detect"),
    "kubernetes": (names.may_be_kubernetes, names.is_kubernetes_secret, "scanner.detectors.kubernetes:detect"),
    "terraform": (names.wants_terraform, None, "scanner.detectors.terraform:detect"),
    "keyfile": (lambda p: bool(names.key_file_rule(p)), None, "scanner.detectors.keyfile:detect"),
    "passwdfile": (lambda p: bool(names.password_file_kind(p)), None, "scanner.detectors.passwdfile:detect"),
}
_loaded: dict[str, Callable[..., Iterable]] = {}


def _function(target: str) -> Callable[..., Iterable]:
    fn = _loaded.get(target)
    if fn is None:
        module, attr = target.split(":")
        fn = _loaded[target] = getattr(importlib.import_module(module), attr)
    return fn


@functools.lru_cache(maxsize=8192)
def _by_name(path: str) -> tuple[tuple[Optional[Callable[[bytes], bool]], str], ...]:
    if names.unwanted(path):  # most source files, told by their extension
        return ()
    return tuple((wants_data, target) for wants_name, wants_data, target in DETECTORS.values() if wants_name(path))


def wanted(chunk) -> list[str]:
    """The detectors (as "module:function") that handle this file; usually none."""
    return [target for wants_data, target in _by_name(chunk.path) if wants_data is None or wants_data(chunk.data)]


def supersedes_generic(chunk) -> bool:
    """Do the detectors, rather than the generic regex rules, judge assignments in this file?"""
    return names.structured(chunk.path)


def detect(chunk, em: Emitter, targets: Optional[Sequence[str]] = None) -> Iterator:
    if not em:
        return
    for target in wanted(chunk) if targets is None else targets:
        yield from _function(target)(chunk, em)
