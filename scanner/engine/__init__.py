"""The engine: chunks in, findings out.

One multi-pattern pass (Hyperscan, or the keyword fallback) says which rules may match; each
candidate rule's precise ``re`` pattern then extracts the secret group; entropy thresholds,
false-positive filters, inline allow pragmas and the configured allowlist decide what is
reported. Context-aware detectors (Dockerfiles, env and config files) add findings for values
assigned to credential-like keys.
"""

from __future__ import annotations

import bisect
import collections
import functools
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Mapping, Optional, Sequence

from scanner.config import Config
from scanner.detectors import Emitter, detect, supersedes_generic, wanted
from scanner.engine import confidence, delta, encoded
from scanner.engine.backends import (Backend, EndLocator, KeywordBackend, cache_dir, make_backend, make_end_locator,
                                     make_locator)
from scanner.engine.entropy import shannon
from scanner.engine.filters import Candidate, Line, is_false_positive
from scanner.engine.lines import Lines as _Lines
from scanner.spans import Spans
from scanner.errors import LeakstopError
from scanner.globs import PathPatterns
from scanner.models import Chunk, Finding, Identity, Match, Redactor, mask
from scanner.rules import Rule, cached_rules, parse_rule, rule_files

if TYPE_CHECKING:
    from scanner.engine import context

# Same-line annotations that suppress a finding; the last two keep detect-secrets' and
# gitleaks' annotations working for repositories migrating to leakstop.
ALLOW_PRAGMAS = (b"leakstop:allow", b"pragma: allowlist secret", b"gitleaks:allow")


@dataclass(frozen=True)
class Version:
    """A scanned version of a file, kept so that the next version of its path can be scanned as
    a delta (:meth:`Engine.scan_version`): its bytes and its kept line-local regex matches."""

    data: bytes
    matches: tuple[Match, ...]
    # Whether the version holds none of the multi-line rules' keywords (None: not known, as after
    # a whole scan): see Engine._multiline_free.
    multiline_free: Optional[bool] = None


def load_ruleset(config: Config) -> list[Rule]:
    """Built-in packs + configured packs + inline rules, minus disabled ones (cached on disk)."""
    rules = cached_rules(rule_files(config.rule_files))
    defined = {r.id: r.source for r in rules}
    where = str(config.source or "config")
    for raw in config.inline_rules:
        rule = parse_rule(raw, where)
        if rule.id in defined:
            # Silently replacing (or shadowing) a built-in would change what every scan reports;
            # disabling it is explicit (disabled_rules) and a new rule takes its own id.
            raise LeakstopError(
                f"{where}: 'rules': rule id '{rule.id}' is already defined in {defined[rule.id]} "
                "(give the rule its own id; disabled_rules turns a built-in off)"
            )
        defined[rule.id] = where
        rules.append(rule)
    known = set(defined)
    unknown = sorted(config.disabled_rules - known)
    if unknown:
        where = f"{config.source}: " if config.source else ""
        raise LeakstopError(f"{where}'disabled_rules': unknown rule id '{unknown[0]}'")
    return [r for r in rules if r.id not in config.disabled_rules]


class Engine:
    def __init__(self, config: Config, rules: Optional[Sequence[Rule]] = None, backend: Optional[str] = None,
                 identity: Optional[Identity] = None, defer_below: Optional[str] = None):
        self.config = config
        # Fingerprints and value hashes are keyed (scanner.identity resolves a command's key); a
        # run-only key when none is given, so nothing persisted can be confirmed offline.
        self.identity = identity or Identity.ephemeral()
        # ``defer_below`` (the reporting floor, a confidence level): findings whose own signals
        # put them below it are left unidentified, since a weak value's identity costs a scrypt
        # stretch (~10 ms) and most such findings are test fixtures that are only counted. Scan-
        # wide signals only lower a level today, but confidence.judge identifies whatever it
        # keeps, so nothing depends on that. Only for runs whose findings reach judge() with
        # their values in memory (scanner.commands.common.judging_engine: scan, diff, image);
        # history workers drop values and group by fingerprint, so they identify everything.
        self._identify_from = confidence.RANK[defer_below] if defer_below is not None else -1
        self.rules: list[Rule] = list(rules) if rules is not None else load_ruleset(config)
        if not self.rules:
            raise LeakstopError("no rules to scan with (all disabled?)")
        # Context rules are reported by their detectors, not by the regex pass.
        self.scan_rules = [r for r in self.rules if not r.detector]
        windowed = [_windowed(r) for r in self.scan_rules]  # asked once per rule here (~800)
        # The generic rules' keywords (token, auth, pass) are words of ordinary code: of their
        # keyword windows only those near where their multi-pattern expression matched are
        # confirmed (_windows), a few in ten on the rails tree.
        located = [i for i, (r, w) in enumerate(zip(self.scan_rules, windowed)) if w and r.generic]
        self.backend: Backend = make_backend(backend or config.backend, self.scan_rules, cache_dir(), located)
        self._memo: dict = {}  # see _confirm
        self._assessed: dict = {}  # see _assess
        self._locators: tuple = (None, None)
        if self.backend.name == "hyperscan":
            # Two keyword passes, each made only for a buffer where one of its rules is a
            # candidate: the generic rules' few keywords (secret, token, pass), wanted in most
            # buffers, and the providers' (pat, oci, test_), whose hits are nearly all inside
            # words no candidate rule wants (path, association, test_helper): on the rails tree
            # 70 % of all keyword hits, each a call into Python.
            self._locators = tuple(
                make_locator(sorted({kw for r, w in zip(self.scan_rules, windowed) if w and r.generic == generic
                                     for kw in r.keywords}), cache_dir())
                for generic in (True, False)
            )
        self._multiline: Optional[tuple] = None  # see _multiline_candidates
        self._parsers: Optional[context.Parsers] = None  # grammars for syntax confirmation, on first use
        self._emitter = Emitter(self.rules)
        self._allow_regexes = [re.compile(rx.encode()) for rx in config.allowlist.regexes]
        self._stopwords = [s.encode() for s in config.allowlist.stopwords]
        self._allow_paths = PathPatterns(config.allowlist.paths) if config.allowlist.paths else None

    @property
    def work(self) -> Optional[collections.Counter]:
        """Bytes looked at (and detector lines judged), by kind of work, when set to a Counter:
        how the linear-time check (tests/engine/test_linear.py) measures cost without a clock.
        The detectors count into the same Counter (through the emitter). Nothing else reads it."""
        return self._emitter.work

    @work.setter
    def work(self, counter: Optional[collections.Counter]) -> None:
        self._emitter.work = counter

    def forget(self) -> None:
        """Drop what scans remembered (confirmed windows, detector lines): the next scan does all
        its work, as the first one did (tests that count work or compare with a fresh scan)."""
        self._memo.clear()
        self._assessed.clear()
        self._emitter.forget()

    # -- matching -------------------------------------------------------------------------
    def matches(self, chunk: Chunk) -> Iterator[Match]:
        """Every located value before filtering: regex rules, then context detectors."""
        targets, skip_generic = self._detectors_for(chunk)
        self._tally("prefilter", len(chunk.data))
        yield from self._regex(chunk.data, self.backend.candidates(chunk.data), skip_generic)
        self._tally("detectors", len(chunk.data) * len(targets))
        yield from detect(chunk, self._emitter, targets)

    def _detectors_for(self, chunk: Chunk) -> tuple[list[str], bool]:
        """The context detectors wanted for this file (by name) and whether they stand in for the
        generic rules: in a file whose structure a detector understands (Dockerfile, env, config),
        the detector judges key = value pairs; the line-oriented generic regexes would only add
        noise there (CloudFormation !Ref, ansible !vault, locale strings)."""
        if chunk.binary:  # strings of compiled code: tokens by their shape, nothing generic
            return [], True
        targets = wanted(chunk) if self._emitter else []
        return targets, bool(targets) and supersedes_generic(chunk)

    def _regex(self, data: bytes, candidates: Mapping[int, list[int]], skip_generic: bool) -> Iterator[Match]:
        """Confirm the candidate rules (indexes into ``scan_rules``, with what the backend says
        of where their matches end) in ``data``."""
        index: Optional[_KeywordIndex] = None
        located = self.backend.located
        for idx in sorted(candidates):
            rule = self.scan_rules[idx]
            if skip_generic and rule.generic:
                continue
            if index is None and not rule.multiline:
                index = _KeywordIndex(data, self._locators, self._end_locator)
            last = -1  # windows may overlap: a match is reported once, as one finditer would
            ends = candidates[idx] if idx in located else None
            for pos, endpos in _windows(rule, idx, data, index, ends):
                for start, end, key in self._confirm(rule, idx, data, pos, endpos):
                    if start >= last:
                        last = end
                        yield Match(rule, start, end, key)

    def _end_locator(self) -> Optional[EndLocator]:
        """Rules keyed on a character or two are confirmed before their matches' ends instead
        (backends.EndLocator), built when the first of them is a candidate: choosing them parses
        each one's regex (_reach, ~2 ms), which a pre-commit change rarely needs."""
        return self._built_end_locator

    @functools.cached_property
    def _built_end_locator(self) -> Optional[EndLocator]:
        if self.backend.name != "hyperscan":
            return None
        located = {i: r for i, r in enumerate(self.scan_rules) if not (r.multiline or _windowed(r)) and _reach(r)}
        return make_end_locator(located, cache_dir())

    def _confirm(self, rule: Rule, idx: int, data: bytes, pos: int, endpos: int) -> list[tuple[int, int, Optional[str]]]:
        """The rule's matches in ``data[pos:endpos]`` as (start, end, key) of the secret.

        Remembered by window content: a history audit sees the same lines in version after
        version of a file, and a window's result depends only on its bytes, the byte before it
        (for ``\\b``) and whether it ends the buffer, except when a match runs past its end
        (then the rest of the buffer counts, and the result is not remembered)."""
        if self.work is not None:
            self.work["confirm"] += endpos - pos
        memo_key = None
        if endpos - pos <= MEMO_WINDOW:
            memo_key = (idx, data[pos - 1 if pos else 0 : endpos], pos == 0, endpos == len(data))
        cached = self._memo.get(memo_key) if memo_key else None
        if cached is not None:
            return [(pos + s, pos + e, k) for s, e, k in cached]
        out: list[tuple[int, int, Optional[str]]] = []
        cacheable = True
        probe = rule.value_probe
        if probe is None or probe.search(data, pos, endpos) is not None:
            has_key = "key" in rule.pattern.groupindex
            for m in rule.pattern.finditer(data, pos, endpos):
                if m.end() == endpos < len(data) and data[endpos : endpos + 1] != b"\n":
                    # Cut at the window's edge: what does the pattern match without the cut?
                    cacheable = False
                    start = m.start()
                    whole = rule.pattern.match(data, start, min(start + REMATCH_REACH, len(data)))
                    if self.work is not None:
                        self.work["rematch"] += (whole.end() if whole else endpos) - start
                    if whole is None:
                        continue
                    m = whole
                start, end = m.span("secret")
                if start < 0 or start == end:
                    continue
                key = None
                if has_key and m.group("key"):
                    key = m.group("key").decode("utf-8", "replace")
                out.append((start, end, key))
        if cacheable and memo_key:
            if len(self._memo) >= MEMO_ENTRIES:
                self._memo.clear()
            self._memo[memo_key] = [(s - pos, e - pos, k) for s, e, k in out]
        return out

    def _assess(self, e: confidence.Evidence) -> dict[str, int]:
        """confidence.assess, remembered by what it reads: a history audit meets the same value
        on the same line of the same file in version after version (the signals cost more than
        the rest of a finding)."""
        memo_key = (e.rule.id, e.value, e.path, e.key, e.line_length, e.before, e.after)
        signals = self._assessed.get(memo_key)
        if signals is None:
            signals = confidence.assess(e)
            if len(self._assessed) >= MEMO_ENTRIES:
                self._assessed.clear()
            self._assessed[memo_key] = signals
        return dict(signals)

    # -- the pipeline -----------------------------------------------------------------------
    def scan(self, chunk: Chunk, depth: int = 0) -> list[Finding]:
        if self._ignored(chunk.path):
            return []
        found = self._findings(chunk, self._kept(chunk, self.matches(chunk)))
        if not chunk.binary or depth:
            found += self._decoded(chunk, depth)
        return found

    def _decoded(self, chunk: Chunk, depth: int) -> list[Finding]:
        """Findings in the encoded runs of ``chunk`` (scanner.engine.encoded), placed on the run."""
        if depth >= encoded.MAX_DEPTH:
            return []
        out: list[Finding] = []
        lines = None
        for run in encoded.runs(chunk.data):
            inner = self.scan(Chunk(path=chunk.path, data=run.decoded, binary=True), depth + 1)
            if not inner:
                continue
            lines = lines or _Lines(chunk.data)
            lines.seek(run.start)
            line, col = lines.number, lines.column(run.start)
            if chunk.lines is not None and line not in chunk.lines:
                continue
            if chunk.own_end is not None and run.start >= chunk.own_end:
                continue
            if line == 1:
                col += chunk.first_column - 1
            width = len(chunk.data[run.start : run.end].decode("utf-8", "replace"))
            for f in inner:
                how = f"{run.how}+{f.extra['decoded']}" if "decoded" in f.extra else run.how
                out.append(replace(f, line=line + chunk.first_line - 1, column=col, end_column=col + width,
                                   extra={**f.extra, "decoded": how}))
        return out

    def scan_version(self, chunk: Chunk, prev: Optional[Version] = None) -> tuple[list[Finding], Optional[Version]]:
        """:meth:`scan` for one version of a file, given ``prev``, another version of the same path
        scanned by this engine: only the lines that differ are scanned (:mod:`scanner.engine.delta`),
        what ``prev`` found elsewhere is carried over. Returns the findings and the ``prev`` for
        the next version of the path.

        Multi-line rules (key blocks, manifests) and the context detectors always see the whole
        file: they are the rules whose matches do not depend on one line and its neighbours."""
        if self._ignored(chunk.path):
            return [], None
        data = chunk.data
        targets, skip_generic = self._detectors_for(chunk)
        changes = delta.compare(data, prev.data) if prev is not None and chunk.lines is None else None
        local = self._carry(prev, data, changes) if prev is not None and changes is not None else None
        if local is None:  # first version seen, or too much changed: the whole file
            kept = self._kept(chunk, self._regex(data, self.backend.candidates(data), skip_generic))
            local = [m for m in kept if not m.rule.multiline]
            others = [m for m in kept if m.rule.multiline]
            free: Optional[bool] = None
        else:
            assert changes is not None and prev is not None  # (carried over only from a comparison)
            fresh = []
            for a, b in changes.regions:
                part = data[a:b]
                cands = {i: e for i, e in self.backend.candidates(part).items() if not self.scan_rules[i].multiline}
                for m in self._regex(part, cands, skip_generic):
                    if changes.is_dirty(m.start + a, m.end + a):
                        fresh.append(Match(m.rule, m.start + a, m.end + a, m.key))
            local += self._kept(chunk, fresh)
            free = self._multiline_free(data, prev, changes)
            others = [] if free else self._kept(chunk, self._regex(data, self._multiline_candidates(data), skip_generic))
        others += self._kept(chunk, detect(chunk, self._emitter, targets))
        return self._findings(chunk, local + others), Version(data, tuple(local), free)

    def _carry(self, prev: Version, data: bytes, changes: delta.Changes) -> Optional[list[Match]]:
        """``prev``'s line-local matches that are in ``data`` too, outside the dirty spans (whose
        matches a scan finds); None when locating them would cost more than a scan."""
        old = prev.data
        out: dict[tuple[str, int, int], Match] = {}
        moved: dict[tuple[int, int], list[Match]] = {}  # matches on the middle lines, by line span

        def put(m: Match, start: int, end: int) -> None:
            if not changes.is_dirty(start, end):
                out[(m.rule.id, start, end)] = Match(m.rule, start, end, m.key)

        for m in prev.matches:
            if m.end <= changes.start:  # in the common prefix
                put(m, m.start, m.end)
            elif m.start > changes.old_end:  # in the common suffix
                put(m, m.start + changes.shift, m.end + changes.shift)
            else:
                moved.setdefault(delta.line_span(old, m.start, m.end), []).append(m)
        if len(moved) > CARRY_LINES:
            return None
        for (a, b), ms in moved.items():
            hits = delta.occurrences(data, old[a:b], changes.start, changes.end, CARRY_TRIES)
            if hits is None:
                return None
            for p in hits:
                if not delta.same_neighbours(old, a, b, data, p, p + b - a):
                    if changes.is_dirty(p, p + b - a):
                        continue  # a scan finds whatever is there
                    return None  # moved among other lines: only a scan can tell what matches now
                for m in ms:
                    put(m, p + m.start - a, p + m.end - a)
        return list(out.values())

    def _multiline_free(self, data: bytes, prev: Version, changes: delta.Changes) -> Optional[bool]:
        """Whether ``data``, a delta of ``prev``, holds none of the multi-line rules' keywords, so
        that none of those rules can match it (a rule matches only where one of its keywords
        occurs: the keywords backend relies on it for every rule) and their pass over the whole
        file is skipped. A keyword lies on one line; a line outside the changed regions is one
        of ``prev``'s lines; so when ``prev`` held no keyword, only the regions need looking at.
        Not known for ``prev`` (a whole scan): the whole of ``data`` is looked at, once per path.
        On rails' history the multi-line pass read 3.6 GB, ten times what the regions hold."""
        has = self._multiline_keyword_test
        if has is None or prev.multiline_free is False:
            return False
        if prev.multiline_free is None:
            return not has(data)
        return not any(has(data[a:b]) for a, b in changes.regions)

    @functools.cached_property
    def _multiline_keyword_test(self) -> Optional[Callable[[bytes], bool]]:
        """Whether bytes hold a keyword of a multi-line rule; None when the skip is not sound."""
        rules = [r for r in self.scan_rules if r.multiline]
        keywords = sorted({k.lower() for r in rules for k in r.keywords})
        if not rules or any(not r.keywords for r in rules) or any("\n" in k for k in keywords):
            return None  # a rule without keywords, or one spanning lines: never skipped
        locator = make_locator(keywords, cache_dir()) if self.backend.name == "hyperscan" else None
        if locator is not None:
            return locator.occurs
        plain = KeywordBackend(rules)  # without Hyperscan: the keywords backend's own test
        return lambda data: bool(plain.candidates(data))

    def _multiline_candidates(self, data: bytes) -> dict[int, list[int]]:
        """Which multi-line rules may match ``data`` (indexes into ``scan_rules``): one pass of a
        small database of just those rules, built on first use. (None of them is located.)"""
        if self._multiline is None:
            idxs = [i for i, r in enumerate(self.scan_rules) if r.multiline]
            backend = make_backend(self.backend.name, [self.scan_rules[i] for i in idxs], cache_dir()) if idxs else None
            self._multiline = (idxs, backend)
        idxs, backend = self._multiline
        return {idxs[i]: [] for i in backend.candidates(data)} if backend is not None else {}

    def _ignored(self, path: str) -> bool:
        # No file is exempt by its name (a baseline or a lockfile can hold a pasted token): the
        # filters judge values, and a baseline's salts and hashes are digests by shape.
        return self._allow_paths is not None and self._allow_paths.match(path)

    def _kept(self, chunk: Chunk, matches: Iterable[Match]) -> list[Match]:
        """The matches that pass the filters (and, for a diff, lie on changed lines), in offset
        order. Lines are visited in order, each once, however many matches it holds."""
        ordered = sorted(matches, key=_start)
        if not ordered:  # most passes over most versions of a file in a history audit
            return []
        data = chunk.data
        lines = _Lines(data)
        out = []
        line, allowed = Line(b""), False
        syntax: Optional[context.Syntax] = None  # parsed on the first generic candidate
        for match in ordered:
            if lines.seek(match.start):
                line = Line(data[lines.start : lines.end])
                allowed = any(p in line.text for p in ALLOW_PRAGMAS)
                if self.work is not None:
                    self.work["lines"] += len(line.text)
            if allowed or chunk.lines is not None and _added_line(chunk, match, lines.number, lines.start) is None:
                continue
            if self.work is not None:
                self.work["filters"] += match.end - match.start
            if not self._keep(match, data[match.start : match.end], line, match.start - lines.start, chunk.path):
                continue
            if match.rule.generic and not match.rule.detector:
                # Last, and only for what the cheap filters left: the syntax around the value.
                if syntax is None:
                    syntax = self._syntax(chunk.path, data)
                if not syntax.confirms(match.start, match.end, match.key):
                    continue
            out.append(match)
        self._tally("line search", lines.examined)
        return out

    def _syntax(self, path: str, data: bytes) -> context.Syntax:
        """The syntax judge for one file. Its module (and the key detectors it reads) is imported
        here: most pre-commit changes hold no generic candidate and never pay for it."""
        from scanner.engine import context

        if self._parsers is None:
            self._parsers = context.Parsers()
        return context.Syntax(path, data, self._parsers, self._tally)

    def _findings(self, chunk: Chunk, kept: list[Match]) -> list[Finding]:
        if not kept:
            return []
        data = chunk.data
        findings = []
        lines = _Lines(data)
        self._tally("dedupe", len(kept))
        kept = _dedupe(kept)  # in offset order
        # A key name can hold another finding's value (`token-ghp_…: value`): keys are shown
        # with every value found in the chunk, and any random-looking run, masked.
        redact = Redactor(data[m.start : m.end] for m in kept) if any(m.key for m in kept) else None
        ident = self.identity
        for match in kept:
            if chunk.own_end is not None and match.start >= chunk.own_end:
                break  # the next window's (see scanner.sources.windows)
            lines.seek(match.start)
            value = data[match.start : match.end]
            text = value.decode("utf-8", "replace")
            line, width = lines.number, len(text)
            if chunk.lines is not None and line not in chunk.lines:
                # A value spanning lines, on a line the change added but not its first (a key
                # body typed into an existing BEGIN/END block): point at the first added line.
                line, line_start = _added_line(chunk, match, line, lines.start)  # type: ignore[misc]
                width = len(data[line_start : match.end].split(b"\n", 1)[0].decode("utf-8", "replace"))
                col = 1
            else:
                col = lines.column(match.start)
            if line == 1:  # a window may start mid-line
                col += chunk.first_column - 1
            line += chunk.first_line - 1
            rule = match.rule
            signals = self._assess(confidence.Evidence(
                rule, value, chunk.path, match.key, line_length=lines.end - lines.start,
                before=data[max(lines.start, match.start - AROUND_VALUE) : match.start],
                after=data[match.end : min(lines.end, match.end + AROUND_VALUE)],
            ))
            found = Finding(
                rule_id=rule.id,
                provider=rule.provider,
                description=rule.summary,
                severity=rule.severity,
                category=rule.category,
                path=chunk.path,
                line=line,
                column=col,
                end_column=col + width,
                masked=mask(text),
                fingerprint="",  # set below, or by confidence.judge (see defer_below)
                secret_hash="",
                key=redact(match.key) if redact and match.key else match.key,
                commit=chunk.commit,
                secret=value,
                confidence=confidence.level(sum(signals.values())),
                signals=signals,
            )
            if confidence.RANK[found.confidence] >= self._identify_from:
                ident.identify(found)
            findings.append(found)
        self._tally("line search", lines.examined)
        return findings

    def _tally(self, kind: str, n: int) -> None:
        if self.work is not None:
            self.work[kind] += n

    def _keep(self, match: Match, value: bytes, line: Line, at: int, path: str) -> bool:
        rule = match.rule
        if rule.min_entropy and shannon(value) < rule.min_entropy:
            return False
        if is_false_positive(Candidate(rule, value, line, path, match.key, at)):
            return False
        lowered = value.lower()
        if any(s in lowered for s in self._stopwords):
            return False
        return not any(rx.search(value) for rx in self._allow_regexes)

    def scan_all(self, chunks: Iterable[Chunk]) -> Iterator[Finding]:
        for chunk in chunks:
            yield from self.scan(chunk)


# What the confidence signals see of a value's line on either side of it (a URL's host after its
# userinfo, the base64 run around a token inside encoded data).
AROUND_VALUE = 256
# Confirmed windows remembered per engine (a few tens of MB at most).
MEMO_ENTRIES, MEMO_WINDOW = 100_000, 4096
MIN_KEYWORD = 3
# Carrying matches over to a new version: past this many distinct moved lines holding matches, or
# this many look-alike hits while locating one, the new version is scanned whole instead.
CARRY_LINES, CARRY_TRIES = 64, 256

# How far around a keyword a match can reach on one long line: key names are bounded ({0,40})
# before the keyword; separators and values (up to a few hundred characters) after it.
WINDOW_BEFORE, WINDOW_AFTER = 160, 640
# No regex call looks at more than this: windows merge up to it, and a buffer is confirmed in
# tiles of it (overlapping by a keyword window) where keywords are everywhere or too short to
# place windows. One attempt of a regex costs at most its window, however long the file or line.
# (Larger than MEMO_WINDOW: tiles are not remembered, their content rarely recurs.)
MAX_WINDOW = 8192
TILE_OVERLAP = WINDOW_BEFORE + WINDOW_AFTER
# How far a match cut at a window's edge is followed (no one-line token is this long).
REMATCH_REACH = 65536
# Rules whose longest match is this long or longer (or unbounded) are not located by their ends.
MAX_REACH = 4096


class _KeywordIndex:
    """Where each keyword occurs in one buffer (case-insensitively): found once for all rules,
    which share keywords (secret, token, auth), in one Hyperscan pass when available."""

    def __init__(self, data: bytes, locators: tuple = (None, None),
                 end_locator: Optional[Callable[[], Optional[EndLocator]]] = None) -> None:
        self.data = data
        self.budget = len(data) // 64 + 32  # past this many occurrences, scan everything
        self._locators = locators  # (generic rules' keywords, other rules'): see Engine.__init__
        self._end_locator = end_locator  # gives the EndLocator (built on first use), or None
        self._found: list[Optional[dict[str, list[int]]]] = [None, None]
        self._ends: Optional[dict[int, list[int]]] = None
        self._located: frozenset[int] = frozenset()
        self._lowered: Optional[bytes] = None

    def ends(self, idx: int) -> Optional[list[int]]:
        """Ascending end offsets of rule ``idx``'s matches (see backends.EndLocator), or None when
        it is not located that way or matches nearly everywhere."""
        if self._ends is None:
            locator = self._end_locator() if self._end_locator is not None else None
            if locator is None:
                return None
            self._ends, self._located = locator.ends(self.data), locator.ids
        found = self._ends.get(idx)
        if found is None:
            return [] if idx in self._located else None
        return None if len(found) > self.budget else found

    def hits(self, rule: Rule) -> Optional[list[int]]:
        """Sorted offsets of the rule's keywords, or None when they are everywhere."""
        which = 0 if rule.generic else 1
        locator = self._locators[which]
        if locator is not None:
            found = self._found[which]
            if found is None:
                found = self._found[which] = locator.locate(self.data)
            if len(found) < len(rule.keywords):  # usually: few keywords occur in one buffer
                kws = _keyword_set(rule)
                lists = [pos for kw, pos in found.items() if kw in kws]
            else:
                lists = [found[kw] for kw in rule.keywords if kw in found]
        else:
            if self._lowered is None:
                self._lowered = self.data.lower()
            lists = [[m.start() for m in _literal(kw).finditer(self._lowered)] for kw in rule.keywords]
        if sum(map(len, lists)) > self.budget:
            return None
        out = [p for pos in lists for p in pos] if len(lists) > 1 else list(lists[0]) if lists else []
        out.sort()
        return out


def _keyword_set(rule: Rule) -> frozenset[str]:
    return _derived(rule, "_keyword_set", lambda: frozenset(rule.keywords))


def _derived(rule: Rule, name: str, compute):
    """A value computed from a (frozen) rule once and kept on it; Rule.__getstate__ drops it."""
    known = rule.__dict__.get(name)
    if known is None:
        known = compute()
        object.__setattr__(rule, name, known)
    return known


def _windowed(rule: Rule) -> bool:
    """Can the rule be confirmed around its keywords? Not when a match spans many lines, nor when
    a keyword is a character or two (``"``, ``.``, ``ac``): those occur everywhere."""
    return _derived(
        rule, "_windowed",
        lambda: not rule.multiline and bool(rule.keywords) and min(map(len, rule.keywords)) >= MIN_KEYWORD,
    )


@functools.lru_cache(maxsize=4096)
def _literal(keyword: str) -> "re.Pattern[bytes]":
    return re.compile(re.escape(keyword.encode()))


def _start(m: Match) -> int:
    return m.start


def _tiles(n: int) -> Iterator[tuple[int, int]]:
    """[0, n) in windows of MAX_WINDOW bytes, each overlapping the last by TILE_OVERLAP."""
    a = 0
    while True:
        yield a, min(a + MAX_WINDOW, n)
        if a + MAX_WINDOW >= n:
            return
        a += MAX_WINDOW - TILE_OVERLAP


def _reach(rule: Rule) -> int:
    """The longest match of the rule's regex in bytes, or 0 when unbounded (``.*``, ``+``)."""

    def longest() -> int:
        try:
            import re._parser as parser  # Python 3.11+
        except ImportError:  # pragma: no cover
            import sre_parse as parser
        top = parser.parse(rule.regex).getwidth()[1]
        return top if top < MAX_REACH else 0

    return _derived(rule, "_reach", longest)


def _merged(spans: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Spans (ends never decreasing) joined where they overlap, each window up to MAX_WINDOW."""
    cur_a = cur_b = -1
    for a, b in spans:
        if a <= cur_b and b - cur_a <= MAX_WINDOW:
            cur_b = max(cur_b, b)
            continue
        if cur_b >= 0:
            yield cur_a, cur_b
        cur_a, cur_b = a, b
    if cur_b >= 0:
        yield cur_a, cur_b


def _end_windows(data: bytes, ends: list[int], reach: int) -> Iterator[tuple[int, int]]:
    """Windows that hold every match ending at one of ``ends``: from ``reach`` bytes before each
    end to the end, merged up to MAX_WINDOW."""
    return _merged((max(e - reach, 0), e) for e in ends)


def _windows(rule: Rule, idx: int, data: bytes, index: Optional[_KeywordIndex],
             ends: Optional[list[int]] = None) -> Iterator[tuple[int, int]]:
    """Where to confirm ``rule`` with ``re``: around each occurrence of one of its keywords, from
    its line's start (at most WINDOW_BEFORE back) to the end of the next line (``<password>\n
    value``; at most WINDOW_AFTER on), merged up to MAX_WINDOW; tiles of the buffer when a keyword
    is everywhere or the rule's keywords are too short; the whole buffer for ``multiline`` rules
    (key blocks, anchored on their BEGIN lines).

    A rule's keywords occur in (or, for a value on the next line, just before) every match; that
    is also the fallback engine's contract. Whole-buffer confirmation of the keyword-anchored and
    generic rules ran at ~2 MB/s (their patterns backtrack at every byte); on keyword lines it
    costs what those lines cost. ``finditer(data, pos, endpos)`` still sees the bytes before
    ``pos`` for ``\\b``; a match that ends at a window's edge inside a line is re-matched without
    the cut (a long base64 line must not yield a token cut in half).

    With ``ends`` (every offset where the rule's multi-pattern expression, its prefilter or its
    regex, ends a match: backends.Backend.located) a keyword window is confirmed only when one of
    them lies in it or less than the rule's longest match after it (a tile likewise). The
    expression matches inside every match of the rule (rulecheck holds each prefilter to that),
    so a match starting in the window puts an end there: between its start and its end.
    """
    n = len(data)
    if rule.multiline:
        yield 0, n
        return
    if not _windowed(rule):
        ends = index.ends(idx) if index is not None else None
        yield from _tiles(n) if ends is None else _end_windows(data, ends, _reach(rule))
        return
    reach = _reach(rule) if ends is not None else 0

    def near(spans: Iterable[tuple[int, int]]) -> Iterable[tuple[int, int]]:
        return (s for s in spans if _ends_between(ends, s[0], s[1] + reach)) if ends is not None and reach else spans

    hits = index.hits(rule) if index is not None else None
    if hits is None:
        yield from near(_tiles(n))
        return
    yield from _merged(near(_keyword_spans(data, hits)))


def _ends_between(ends: list[int], a: int, b: int) -> bool:
    """Whether one of ``ends`` (ascending) lies in [a, b]."""
    k = bisect.bisect_left(ends, a)
    return k < len(ends) and ends[k] <= b


def _keyword_spans(data: bytes, hits: list[int]) -> Iterator[tuple[int, int]]:
    """The span around each keyword hit (ascending), but for hits inside the span before: the
    ends never decrease, so that span is the window they would join."""
    n, last = len(data), -1
    for h in hits:
        if h < last:
            continue
        # From the newline before the line (patterns may anchor on it: ``(?:^|\n)``), or a little
        # before the keyword on a long line (minified code) ...
        a = max(data.rfind(b"\n", max(h - WINDOW_BEFORE, 0), h), 0, h - WINDOW_BEFORE)
        # ... to the end of the next line, or a little after the keyword (a match cut short
        # there is re-checked against the whole buffer by the caller). Each search stops there:
        # on a long line, searching to its ends for every keyword costs the line's length each.
        b = min(h + WINDOW_AFTER, n)
        nl = data.find(b"\n", h, b)
        if nl >= 0:
            nl = data.find(b"\n", nl + 1, b)
            b = b if nl < 0 else nl
        last = b
        yield a, b


def _added_line(chunk: Chunk, match: Match, line: int, start: int) -> Optional[tuple[int, int]]:
    """The first line of ``match`` that the change added, as (line number, offset of its start),
    or None: a value counts as added when any of its lines is (a multi-line value included).
    ``line`` and ``start`` are those of the line the match starts on."""
    data, lines = chunk.data, chunk.lines
    assert lines is not None
    last = line + data.count(b"\n", match.start, max(match.start, match.end - 1))
    while True:
        if line in lines:
            return line, start
        if line >= last:
            return None
        line, start = line + 1, data.index(b"\n", start) + 1


def _dedupe(kept: list[Match]) -> list[Match]:
    """One finding per value location. Specific rules beat generic ones (then longer spans, then
    the rule whose provider the key names, then rule order); two specific rules clash only on the
    very same span. The winner keeps the key name a loser knew (a context detector's
    ``DB_PASSWORD``), which remediation needs.

    A match is judged in O(log k) plus its own length, never against every winner: a file can
    hold tens of thousands of matches."""
    ranked = sorted(kept, key=_rank)
    out: list[Match] = []
    same: dict[tuple[int, int], int] = {}  # span -> index in out
    generic = []
    for m in ranked:
        if m.rule.generic:
            generic.append(m)
            continue
        i = same.setdefault((m.start, m.end), len(out))
        if i == len(out):
            out.append(m)
        elif out[i].key is None and m.key:
            out[i] = replace(out[i], key=m.key)
    if generic:
        _add_generic(generic, out)
    out.sort(key=_start)
    return out


def _rank(m: Match) -> tuple:
    """Specific before generic, longer spans first, then position. On the very same span, a rule
    whose provider the key names (a JWT in ``HYGRAPH_TOKEN`` for hygraph-token) goes before a
    format-only rule (jwt) or one whose key names another service: it knows whose credential
    it is, and its rotation guidance is the one that applies; then a rule that knows the value by
    its literal prefix (``sk_live_``) before one that knows it by the structure around it (an
    ``Authorization: Bearer`` header holding a Stripe key is the Stripe key); then any provider's
    rule before a rule that knows only the syntax around the value (generic-* providers: a token
    as the default of an environment lookup is the provider's token)."""
    return (m.rule.generic, -(m.end - m.start), m.start, not (m.key and m.rule.provider in m.key.lower()),
            not confidence.prefixed(m.rule), m.rule.provider.startswith("generic-"))


def _add_generic(generic: list[Match], out: list[Match]) -> None:
    """Add to ``out`` (the specific winners) each generic match, in rank order, that overlaps no
    winner so far. A loser gives its key to the winner it clashes with, when that one has none:
    the specific winner overlapping it that reaches furthest, else the generic winner holding the
    first byte they share."""
    specific = Spans((w.start, w.end) for w in out)
    base = min(m.start for m in generic)
    size = max(m.end for m in generic) - base
    covered, keyless, head = bytearray(size), bytearray(size), bytearray(size)  # generic winners'
    at: dict[int, int] = {}  # start -> index in out, of the generic winners
    for m in generic:
        w = specific.overlapping(m.start, m.end)
        s, e = m.start - base, m.end - base
        p = covered.find(1, s, e) if w is None else -1
        if w is None and p < 0:
            at[m.start] = len(out)
            out.append(m)
            covered[s:e] = b"\x01" * (e - s)
            head[s] = 1
            if m.key is None:
                keyless[s:e] = b"\x01" * (e - s)
            continue
        if not m.key:
            continue
        if w is None:
            if not keyless[p]:
                continue
            w = at[base + head.rfind(1, 0, p + 1)]
            keyless[out[w].start - base : out[w].end - base] = bytes(out[w].end - out[w].start)
        if out[w].key is None:
            out[w] = replace(out[w], key=m.key)
