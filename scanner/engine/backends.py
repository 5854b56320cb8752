"""Multi-pattern backends: which rules may match a buffer.

A backend answers one question fast -- "which rules could match here?" -- and the engine then
confirms each candidate with the rule's precise ``re`` pattern to extract the secret group. Both
backends implement :class:`Backend`; they are listed in the plain-dict registry ``BACKENDS``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from pathlib import Path
from typing import Any, Callable, Collection, Protocol, Sequence

from scanner.errors import LeakstopError
from scanner.rules import Rule


class Backend(Protocol):
    name: str
    located: frozenset[int]  # the rules whose every match end candidates() reports

    def candidates(self, data: bytes) -> dict[int, list[int]]:
        """Indexes of rules that may match ``data`` (a superset of those that do), each with the
        end offsets of its multi-pattern matches: for a rule in ``located`` every one (a superset
        of the offsets where its expression matches, ascending), for the others nothing to go by."""
        ...


def to_hyperscan(rule: Rule) -> bytes:
    """The rule's expression for the multi-pattern pass: its ``prefilter`` if it has one, else its
    regex with Python's named groups made plain (equivalent for matching)."""
    return _NAMED_GROUP.sub("(", rule.prefilter or rule.regex).encode()


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


class KeywordBackend:
    """Fallback without Hyperscan: a rule is a candidate when one of its keywords occurs."""

    name = "keywords"
    located: frozenset[int] = frozenset()  # a keyword says nothing about where a match ends

    def __init__(self, rules: Sequence[Rule], cache_dir: Path | None = None, located: Collection[int] = ()) -> None:
        self._always = {i for i, r in enumerate(rules) if not r.keywords}
        self._by_keyword: dict[bytes, list[int]] = {}
        for i, rule in enumerate(rules):
            for kw in rule.keywords:
                self._by_keyword.setdefault(kw.encode(), []).append(i)

    def candidates(self, data: bytes) -> dict[int, list[int]]:
        lowered = data.lower()
        out = set(self._always)
        for kw, idxs in self._by_keyword.items():
            if kw in lowered:
                out.update(idxs)
        return {i: [] for i in out}


class HyperscanBackend:
    """All rules in one Hyperscan block-mode database, one pass per buffer.

    Patterns that Hyperscan cannot compile exactly are compiled in prefilter mode (a superset
    of matches), which is still correct because every hit is confirmed with ``re``. A pattern is
    single-match, but for the few ``located`` rules: the engine needs to know which rules fired,
    not where (reporting every end offset of every rule made the database take minutes to
    compile and the scan 10x slower). A located rule's ends tell the engine which of its keyword
    windows can hold a match: for the generic rules, whose keywords (token, auth, pass) are
    words of ordinary code, a few in ten on the rails tree.
    """

    name = "hyperscan"

    def __init__(self, rules: Sequence[Rule], cache_dir: Path | None, located: Collection[int] = ()) -> None:
        import hyperscan

        self._hs = hyperscan
        self.located = frozenset(located)
        exprs = [to_hyperscan(r) for r in rules]
        single = hyperscan.HS_FLAG_ALLOWEMPTY | hyperscan.HS_FLAG_SINGLEMATCH
        flags = [hyperscan.HS_FLAG_ALLOWEMPTY if i in self.located else single for i in range(len(exprs))]
        marks = [b"located:" + b",".join(b"%d" % i for i in sorted(self.located))] if self.located else []
        self.db = _cached_database("hs", exprs + marks, lambda: self._compile(rules, exprs, flags), cache_dir)
        self.scratch = hyperscan.Scratch(self.db)

    def _compile(self, rules: Sequence[Rule], exprs: list[bytes], flags: list[int]):
        try:
            return _compile_each(self._hs, exprs, flags)
        except ValueError as e:
            from scanner.errors import LeakstopError

            raise LeakstopError(f"rule '{rules[int(str(e))].id}': regex cannot be compiled by Hyperscan") from None

    def candidates(self, data: bytes) -> dict[int, list[int]]:
        hits: dict[int, list[int]] = {}

        def on_match(idx: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            ends = hits.get(idx)
            if ends is None:
                hits[idx] = [to]
            else:  # a located rule (the others report once)
                ends.append(to)

        self.db.scan(data, match_event_handler=on_match, scratch=self.scratch)
        return hits


# Part of every cache key: bump it when the compile flags change, so an old database is not reused.
DB_FORMAT = b"2"


def _cached_database(kind: str, key_parts: Sequence[bytes], compile: Callable[[], Any], cache_dir: Path | None):
    """A Hyperscan block-mode database from the on-disk cache (keyed by its kind, what its
    expressions are made from, the format and the Hyperscan version), else compiled and cached."""
    import hyperscan

    key = hashlib.sha256(
        b"\0".join([kind.encode(), DB_FORMAT, str(getattr(hyperscan, "__version__", "")).encode(), *key_parts])
    ).hexdigest()
    cache = cache_dir / f"{kind}-{key}.db" if cache_dir else None
    raw = _cache_read(cache)
    if raw is not None:
        try:
            return hyperscan.loadb(raw, hyperscan.HS_MODE_BLOCK)
        except Exception:  # a corrupt or foreign cache entry is rebuilt, not fatal
            pass
    db = compile()
    if cache:
        _cache_write(cache, hyperscan.dumpb(db))
    return db


def _compile_each(hs, exprs: list[bytes], flags: Sequence[int]):
    """A database of ``exprs`` (with their ``flags``), each exact where Hyperscan can compile it
    and in prefilter mode (a superset of its matches, confirmed with ``re`` anyway) where not.
    ValueError(index) names an expression that compiles neither way."""
    flags = list(flags)
    try:
        return _compile_db(hs, exprs, flags)
    except hs.error:
        pass
    # Hyperscan does not say which expression failed: find them one by one (rare, and the result
    # is cached).
    for i, expr in enumerate(exprs):
        for extra in (0, hs.HS_FLAG_PREFILTER):
            try:
                _compile_db(hs, [expr], [flags[i] | extra])
            except hs.error:
                continue
            flags[i] |= extra
            break
        else:
            raise ValueError(str(i))
    return _compile_db(hs, exprs, flags)


def _compile_db(hs, exprs: list[bytes], flags: list[int]):
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs), flags=flags)
    return db


def _cache_read(path: Path | None) -> bytes | None:
    """A cache entry's bytes, or None when absent or unreadable (another user's home, a file
    where the cache directory should be): the cache is an optimisation, never an error."""
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def _cache_write(path: Path, data: bytes) -> None:
    from scanner.errors import LeakstopError
    from scanner.fsutil import atomic_write

    try:
        atomic_write(path, data, parents=True)
    except LeakstopError:
        pass  # the cache is an optimisation; a read-only home must not break a scan


class KeywordLocator:
    """Every occurrence of every rule keyword in one pass (case-insensitive literals in one
    Hyperscan database); the engine confirms rules only around them."""

    def __init__(self, keywords: Sequence[str], cache_dir: Path | None) -> None:
        import hyperscan

        self._hs = hyperscan
        self.keywords = list(keywords)

        def compile():
            exprs = [b"".join(b"\\x%02x" % c for c in kw.encode()) for kw in self.keywords]
            return _compile_db(hyperscan, exprs, [hyperscan.HS_FLAG_CASELESS] * len(exprs))

        # Keyed by the keywords: their expressions (every byte escaped) are built only to compile,
        # not on every run (~2 ms for 1,500 keywords).
        self.db = _cached_database("kw", [kw.encode() for kw in self.keywords], compile, cache_dir)
        self.scratch = hyperscan.Scratch(self.db)

    def occurs(self, data: bytes) -> bool:
        """Whether any keyword occurs in ``data``: the scan stops at the first."""
        try:
            self.db.scan(data, match_event_handler=_stop, scratch=self.scratch)
        except self._hs.ScanTerminated:
            return True
        return False

    def locate(self, data: bytes) -> dict[str, list[int]]:
        """keyword -> start offsets (ascending)."""
        found: dict[int, list[int]] = {}

        def on_match(idx: int, _from: int, end: int, _flags: int, _ctx: object) -> None:
            found.setdefault(idx, []).append(end)

        self.db.scan(data, match_event_handler=on_match, scratch=self.scratch)
        kws = self.keywords
        return {kws[i]: [e - len(kws[i]) for e in ends] for i, ends in found.items()}


def _stop(*_match: object) -> bool:
    return True  # a handler's true result ends the scan (hyperscan raises ScanTerminated)


class EndLocator:
    """Where the matches of a few rules end, in one Hyperscan pass: for rules keyed on a
    character or two (a quote, ``-u``, ``sk``), whose keywords occur everywhere, the engine
    confirms them before each end (as far back as the rule's longest match) instead of over the
    whole buffer. Every end offset is reported (no single-match flag): slow to compile for
    hundreds of rules, cheap for these few."""

    def __init__(self, rules: dict[int, Rule], cache_dir: Path | None) -> None:
        import hyperscan

        self._ids = list(rules)
        self.ids = frozenset(self._ids)
        exprs = [to_hyperscan(rules[i]) for i in self._ids]
        self.db = _cached_database("ends", exprs, lambda: _compile_each(hyperscan, exprs, [0] * len(exprs)), cache_dir)
        self.scratch = hyperscan.Scratch(self.db)

    def ends(self, data: bytes) -> dict[int, list[int]]:
        """rule index -> end offsets of its matches (ascending)."""
        found: dict[int, list[int]] = {}

        def on_match(i: int, _from: int, end: int, _flags: int, _ctx: object) -> None:
            found.setdefault(self._ids[i], []).append(end)

        self.db.scan(data, match_event_handler=on_match, scratch=self.scratch)
        return found


def make_locator(keywords: Sequence[str], cache_dir: Path | None):
    """A KeywordLocator, or None without Hyperscan (the engine then searches each keyword)."""
    try:
        return KeywordLocator(keywords, cache_dir) if keywords else None
    except ImportError:
        return None


def make_end_locator(rules: dict[int, Rule], cache_dir: Path | None):
    """An EndLocator for ``rules`` (by index), or None without Hyperscan or rules, or when one of
    them cannot be compiled (the engine then confirms them over the whole buffer, as before)."""
    try:
        return EndLocator(rules, cache_dir) if rules else None
    except (ImportError, ValueError):
        return None


BACKENDS: dict[str, Callable[..., Backend]] = {
    "hyperscan": HyperscanBackend,
    "keywords": KeywordBackend,
}


def make_backend(name: str, rules: Sequence[Rule], cache_dir: Path | None, located: Collection[int] = ()) -> Backend:
    """``auto`` prefers Hyperscan and falls back to keywords when it cannot be imported."""
    if name == "auto":
        try:
            import hyperscan  # noqa: F401
        except ImportError:
            name = "keywords"
        else:
            name = "hyperscan"
    if name not in BACKENDS:
        raise LeakstopError(f"unknown engine backend '{name}' (choose from auto, {', '.join(BACKENDS)})")
    if not rules:  # nothing to compile
        name = "keywords"
    return BACKENDS[name](rules, cache_dir, located)


def cache_dir() -> Path | None:
    env = os.environ.get("LEAKSTOP_CACHE_DIR")
    if env == "":
        return None
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "leakstop"


def load_cached(key: str, build: Callable[[], object], directory: Path | None) -> object:
    """Pickle cache for parsed rules (YAML parsing 300 rules costs more than the scan)."""
    path = directory / f"rules-{key}.pickle" if directory else None
    raw = _cache_read(path)
    if raw is not None:
        try:
            return pickle.loads(raw)
        except Exception:
            pass
    value = build()
    if path:
        _cache_write(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    return value
