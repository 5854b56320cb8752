"""Rules are data: YAML packs under rules/, validated against their own examples.

A pack is a mapping with one key, ``rules``, holding a list of rule mappings (see README, "Rule
format"). Regexes are Python ``re`` syntax applied to bytes (ASCII semantics, matching the fast
engine's), with exactly one named group ``secret``; they must not use look-arounds or
back-references so the multi-pattern engine can compile them exactly.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from scanner.errors import LeakstopError
from scanner.lazyregex import lazy
from scanner.redos import hazard, search_probe

SEVERITIES = ("critical", "high", "medium", "low")
CATEGORIES = (
    "cloud",
    "database",
    "api-keys",
    "vcs",
    "ci-cd",
    "payment",
    "messaging",
    "monitoring",
    "ai",
    "auth",
    "crypto-keys",
    "package-registry",
    "generic",
)
REQUIRED = ("id", "name", "provider", "regex", "keywords", "severity", "rotation", "examples", "negative_examples")
OPTIONAL = ("description", "min_entropy", "category", "skip_filters", "generic", "detector", "example_path", "prefilter", "multiline")
# A context rule (``detector: NAME``) is reported only by that context detector (scanner.detectors);
# the engine leaves it out of the regex pass, and its ``regex`` checks each candidate value.
_ID_RE = lazy(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
_FORBIDDEN = (
    (lazy(r"\(\?<?[=!]"), "look-arounds are not supported by the multi-pattern engine"),
    (lazy(r"\\[1-9]|\(\?P=\w+\)"), "back-references are not supported by the multi-pattern engine"),
)


# A character class followed by ``\b`` at the value's end: ``\b`` needs a word character on one
# side, so a value whose last character is ``-``, ``+``, ``/`` or ``=`` (1 in 64 base64 tokens)
# fails the match, or is cut short to where a boundary happens to fall.
_CLASS_THEN_BOUNDARY = lazy(r"(\[(?:\\.|[^\]\\])+\])(?:\{[0-9,]+\}|[+*])\)?\\b")


def boundary_gap(regex: str) -> str:
    """Why ``regex`` misses values that end in a non-word character, or "" when it does not."""
    for m in _CLASS_THEN_BOUNDARY.finditer(regex):
        try:
            cls = re.compile(m.group(1))
        except re.error:
            continue
        odd = [c for c in "-+/=.~" if cls.fullmatch(c)]
        if odd:
            return (
                f"{m.group(0)!r} ends in \\b, so a value ending in {' '.join(odd)} is missed; "
                f"end it with (?:[^...]|$) instead"
            )
    return ""


@dataclass(frozen=True)
class Rule:
    """One detection rule. ``generic`` rules (entropy/assignment detectors) yield to specific ones."""

    id: str
    name: str
    provider: str
    regex: str
    keywords: tuple[str, ...]
    severity: str
    rotation: str
    examples: tuple[str, ...]
    negative_examples: tuple[str, ...]
    description: str = ""
    category: str = "api-keys"
    min_entropy: float = 0.0
    skip_filters: tuple[str, ...] = ()
    generic: bool = False
    detector: str = ""  # name of the context detector that reports this rule, if any
    example_path: str = ""  # file name the examples are checked as (e.g. Dockerfile)
    # A cheaper pattern for the multi-pattern pass only (a superset of ``regex``'s matches), for
    # rules whose full regex is slow or too large for Hyperscan to compile (multi-line keys).
    prefilter: str = ""
    # Matches span many lines (key blocks): confirmed over the whole buffer, not around hits.
    multiline: bool = False
    source: str = ""  # the file the rule came from
    _compiled: Any = field(default=None, repr=False, compare=False)

    @property
    def pattern(self) -> "re.Pattern[bytes]":
        # Compiled lazily and memoised on the frozen instance: most rules never fire in a scan.
        if self._compiled is None:
            object.__setattr__(self, "_compiled", re.compile(self.regex.encode()))
        return self._compiled

    @property
    def value_probe(self) -> "Optional[re.Pattern[bytes]]":
        """The ``secret`` group's own pattern: a window where it finds nothing cannot hold a
        match, and it runs in C loops where the full pattern backtracks in the interpreter."""
        if "_probe" not in self.__dict__:
            flags = "(?i)" if self.regex.startswith("(?i)") else ""
            probe = None
            # Best: what follows the key name through the value ("= 'abc…'"): far rarer in code
            # than the value's shape alone ("16 word characters").
            # A probe never starts inside an unbounded repeat ("[ \t]*=..."): a search would
            # try it from every character of a run of blanks, to the run's end each time. The
            # start a match may skip is dropped (search_probe finds a match where it did).
            for sub in (tail_text(self.regex), group_text(self.regex, "secret")):
                if not sub:
                    continue
                try:
                    probe = search_probe((flags + sub).encode())
                except re.error:
                    continue
                if probe is not None:
                    break
            object.__setattr__(self, "_probe", probe)
        return self.__dict__["_probe"]

    @property
    def summary(self) -> str:
        return self.description or self.name

    def __getstate__(self) -> dict:
        # No __setstate__: pickle then fills __dict__ in C, which a frozen dataclass allows (a
        # Python-level loop over 800 cached rules cost more than the rest of unpickling).
        state = dict(self.__dict__)
        state["_compiled"] = None
        state.pop("_probe", None)
        state.pop("_windowed", None)
        state.pop("_keyword_set", None)
        state.pop("_reach", None)
        return state


@dataclass(frozen=True)
class _Shape:
    """A regex's groups as (start, end, depth) of the whole ``(...)`` text, by name for named
    ones, and whether it has a top-level ``|``."""

    named: dict[str, tuple[int, int, int]]
    top_level_alternative: bool


def _shape(regex: str) -> Optional[_Shape]:
    """Parentheses matched with escapes and character classes respected; None if unbalanced."""
    named: dict[str, tuple[int, int, int]] = {}
    opened: list[int] = []
    alternative = False
    k, in_class = 0, False
    while k < len(regex):
        c = regex[k]
        if c == "\\":
            k += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if regex[k + 1 : k + 2] == "^":
                k += 1
            if regex[k + 1 : k + 2] == "]":
                k += 1
        elif c == "(":
            opened.append(k)
        elif c == ")":
            if not opened:
                return None
            start = opened.pop()
            if regex.startswith("(?P<", start):
                name = regex[start + 4 : regex.index(">", start)]
                named.setdefault(name, (start, k + 1, len(opened)))
        elif c == "|" and not opened:
            alternative = True
        k += 1
    return None if opened else _Shape(named, alternative)


def group_text(regex: str, name: str) -> Optional[str]:
    """The source text inside ``(?P<name>...)``; None when absent."""
    shape = _shape(regex)
    span = shape.named.get(name) if shape else None
    return regex[span[0] + len(f"(?P<{name}>") : span[1] - 1] if span else None


def tail_text(regex: str) -> Optional[str]:
    """The source text from the end of ``(?P<key>...)`` through the end of ``(?P<secret>...)``,
    when the pattern is one top-level sequence with the key before the secret: then every match
    of the whole pattern holds a match of this part. None otherwise (a top-level ``|``, a
    backreference, groups nested or out of order)."""
    if "(?P=" in regex or re.search(r"\\[1-9]", regex):
        return None
    shape = _shape(regex)
    if shape is None or shape.top_level_alternative:
        return None
    key, secret = shape.named.get("key"), shape.named.get("secret")
    if key is None or secret is None or key[2] or secret[2] or key[1] > secret[0]:
        return None  # missing, nested (not necessarily part of every match) or out of order
    return regex[key[1] : secret[1]]


# A token glued to an identifier (TOKEN_ghp_…, x_AKIA…, MY_sk_live_…) has a word character, "_",
# before it, where a pattern's leading \b does not match. A rule whose secret starts with a
# literal prefix (ghp_, AKIA, sk_live_: what makes the token recognisable) accepts a "_" there as
# well; a letter or digit still does not (xghp_… is another word). Rules whose secret starts
# with a character class ([A-Za-z0-9]{76}AZDO) have no prefix to anchor on and keep \b.
_GLUE_HEAD = lazy(r"^((?:\(\?[aiLmsux]+\))?)\\b\(\?P<secret>")
GLUE_BOUNDARY = r"(?:\b|_)"
MIN_GLUE_PREFIX = 2  # literal characters every match starts with


def glue_tolerant(regex: str) -> str:
    """``regex`` with a leading ``\\b(?P<secret>PREFIX`` widened to also match after ``_``."""
    m = _GLUE_HEAD.match(regex)
    if not m or _prefix_length(regex[m.end() :]) < MIN_GLUE_PREFIX:
        return regex
    return m.group(1) + GLUE_BOUNDARY + regex[m.end() - len("(?P<secret>") :]


def _prefix_length(pattern: str) -> int:
    """How many literal characters every match of ``pattern`` starts with: of a leading literal
    run, or the shortest over the alternatives of a leading ``(?:a|b|…)``."""
    if pattern.startswith("(?:"):
        inner = _group_body(pattern)
        if inner is None:
            return 0
        return min(_literal_run(alt) for alt in _top_level_split(inner))
    return _literal_run(pattern)


def literal_prefix_length(regex: str) -> int:
    """How many literal characters every value of a rule starts with (``ghp_`` = 4, ``AKIA`` or
    ``A3T`` = 3): a provider's token prefix, or 0 when the value starts with a character class."""
    return _prefix_length(group_text(regex, "secret") or "")


def _group_body(pattern: str) -> Optional[str]:
    """The text inside a leading ``(?:...)``."""
    depth, k = 0, 0
    while k < len(pattern):
        c = pattern[k]
        if c == "\\":
            k += 2
            continue
        if c == "[":
            close = pattern.find("]", k + 2)
            if close < 0:
                return None
            k = close + 1
            continue
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0:
            return pattern[3:k]
        k += 1
    return None


def _top_level_split(text: str) -> list[str]:
    parts, depth, start, k = [], 0, 0, 0
    while k < len(text):
        c = text[k]
        if c == "\\":
            k += 2
            continue
        depth += {"(": 1, ")": -1}.get(c, 0)
        if c == "|" and depth == 0:
            parts.append(text[start:k])
            start = k + 1
        k += 1
    return parts + [text[start:]]


def _literal_run(pattern: str) -> int:
    """Literal characters at the start of ``pattern`` (``\\.`` counts; a character followed by
    a quantifier does not, since it may repeat or be absent)."""
    n, k = 0, 0
    while k < len(pattern):
        c = pattern[k]
        if c == "\\" and k + 1 < len(pattern) and not pattern[k + 1].isalnum():
            step = 2
        elif c.isalnum() or c in "_-~:/!@#%&=,;'\"<> ":
            step = 1
        else:
            break
        if pattern[k + step : k + step + 1] in ("?", "*", "+", "{"):
            break
        n, k = n + 1, k + step
    return n


def compile_pattern(regex: str, where: str) -> "re.Pattern[bytes]":
    """A user's pattern compiled as the engine uses it (bytes); any failure is a one-line error:
    besides re.error, ``re`` raises OverflowError for a huge repeat count (a{99999999999}),
    RecursionError for deep nesting and the encoder an error for lone surrogates."""
    try:
        return re.compile(regex.encode())
    except (re.error, OverflowError, RecursionError, UnicodeEncodeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LeakstopError(f"{where}: {detail}") from None


def _err(where: str, msg: str) -> LeakstopError:
    return LeakstopError(f"{where}: {msg}")


def _as_str_list(value: Any, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(where, f"'{key}' must be a list of strings")
    return tuple(value)


def parse_rule(raw: Any, where: str) -> Rule:
    """Build a Rule from one YAML mapping, rejecting unknown keys and invalid values."""
    if not isinstance(raw, dict):
        raise _err(where, "a rule must be a mapping")
    rid = raw.get("id", "?")
    where = f"{where}: rule '{rid}'"
    unknown = sorted(set(raw) - set(REQUIRED) - set(OPTIONAL), key=str)  # YAML keys need not be strings
    if unknown:
        raise _err(where, f"unknown key '{unknown[0]}'")
    for key in REQUIRED:
        if key not in raw or raw[key] in (None, "", []):
            raise _err(where, f"missing required key '{key}'")
    for key in ("id", "name", "provider", "regex", "severity", "rotation"):
        if not isinstance(raw[key], str):
            raise _err(where, f"'{key}' must be a string")
    if not _ID_RE.match(raw["id"]):
        raise _err(where, "'id' must be lower-case kebab-case")
    if raw["severity"] not in SEVERITIES:
        raise _err(where, f"'severity' must be one of {', '.join(SEVERITIES)}")
    category = raw.get("category", "api-keys")
    if category not in CATEGORIES:
        raise _err(where, f"'category' must be one of {', '.join(CATEGORIES)}")
    regex = raw["regex"]
    for bad, why in _FORBIDDEN:
        if bad.search(regex):
            raise _err(where, f"'regex': {why}")
    compiled = compile_pattern(regex, f"{where}: 'regex' does not compile")
    if "secret" not in compiled.groupindex:
        raise _err(where, "'regex' needs a named group (?P<secret>...)")
    cut = boundary_gap(regex)
    if cut:
        raise _err(where, f"'regex': {cut}")
    slow = hazard(regex)
    if slow:
        raise _err(where, f"'regex' can backtrack catastrophically: {slow} (make each repeat end unambiguously)")
    min_entropy = raw.get("min_entropy", 0.0)
    if not isinstance(min_entropy, (int, float)) or not 0 <= min_entropy <= 8:
        raise _err(where, "'min_entropy' must be a number between 0 and 8")
    generic = raw.get("generic", False)
    multiline = raw.get("multiline", False)
    if not isinstance(generic, bool) or not isinstance(multiline, bool):
        raise _err(where, "'generic' and 'multiline' must be true or false")
    prefilter = raw.get("prefilter", "")
    if not isinstance(prefilter, str):
        raise _err(where, "'prefilter' must be a string")
    if prefilter:
        for bad, why in _FORBIDDEN:
            if bad.search(prefilter):
                raise _err(where, f"'prefilter': {why}")
        compile_pattern(prefilter, f"{where}: 'prefilter' does not compile")
    keywords = _as_str_list(raw["keywords"], where, "keywords")
    if any(not k for k in keywords):
        raise _err(where, "'keywords' must not contain empty strings")
    detector = raw.get("detector", "")
    example_path = raw.get("example_path", "")
    if not isinstance(detector, str) or not isinstance(example_path, str):
        raise _err(where, "'detector' and 'example_path' must be strings")
    if detector:
        from scanner.detectors import DETECTORS

        if detector not in DETECTORS:
            raise _err(where, f"'detector': unknown detector '{detector}' (known: {', '.join(sorted(DETECTORS))})")
    glued = glue_tolerant(regex)
    if glued != regex:
        regex, compiled = glued, re.compile(glued.encode())
    rule = Rule(
        id=raw["id"],
        name=raw["name"],
        provider=raw["provider"],
        regex=regex,
        keywords=tuple(k.lower() for k in keywords),
        severity=raw["severity"],
        rotation=raw["rotation"].strip(),
        examples=_as_str_list(raw["examples"], where, "examples"),
        negative_examples=_as_str_list(raw["negative_examples"], where, "negative_examples"),
        description=str(raw.get("description", "") or ""),
        category=category,
        min_entropy=float(min_entropy),
        skip_filters=_as_str_list(raw.get("skip_filters", []), where, "skip_filters"),
        generic=generic,
        prefilter=prefilter,
        multiline=multiline,
        detector=detector,
        example_path=example_path,
        source=where.split(":")[0],
    )
    object.__setattr__(rule, "_compiled", compiled)
    return rule


EXAMPLE_LEFT_OUT = "(example not copied)"


def without_examples(data: bytes) -> bytes:
    """A rule pack's bytes with every example replaced by a placeholder (as many as there were):
    what a copy needs for scanning, when the examples may be real-looking values (a pack read from
    a commit is copied under the cache directory). Bytes that are not a pack are returned as
    they are (loading them reports the error)."""
    import yaml

    try:
        doc = yaml.safe_load(data)
    except (yaml.YAMLError, RecursionError):
        return data
    rules = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(rules, list):
        return data
    for raw in rules:
        for key in ("examples", "negative_examples"):
            value = raw.get(key) if isinstance(raw, dict) else None
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                raw[key] = [EXAMPLE_LEFT_OUT] * len(value)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode("utf-8")


def load_pack(path: Path) -> list[Rule]:
    """Parse one rule pack file."""
    import yaml  # imported here: the cached path never needs YAML

    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as exc:
        raise LeakstopError(f"{path}: cannot read rule file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise LeakstopError(f"{path}: a rule file must be UTF-8 text") from None
    except RecursionError:
        raise LeakstopError(f"{path}: invalid YAML (nested too deeply)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        pos = f" (line {mark.line + 1})" if mark else ""
        raise LeakstopError(f"{path}: invalid YAML{pos}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise LeakstopError(f"{path}: a rule file must be a mapping with a 'rules' list")
    extra = sorted(set(doc) - {"rules"}, key=str)
    if extra:
        raise LeakstopError(f"{path}: unknown key '{extra[0]}'")
    return [parse_rule(r, str(path)) for r in doc["rules"]]


def builtin_rules_dir() -> Path:
    """rules/ of a source checkout, else the copy shipped in the wheel."""
    here = Path(__file__).resolve().parent
    checkout = here.parent / "rules"
    if checkout.is_dir():
        return checkout
    return here / "rulepacks"


def rule_files(extra: Sequence[Path] = (), builtin: bool = True) -> list[Path]:
    files = sorted(builtin_rules_dir().glob("*.yaml")) if builtin else []
    return files + [Path(p) for p in extra]


def load_rules(files: Iterable[Path]) -> list[Rule]:
    """Load every pack; rule ids must be unique across packs."""
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in files:
        for rule in load_pack(Path(path)):
            if rule.id in seen:
                raise LeakstopError(f"{path}: rule id '{rule.id}' is already defined in {seen[rule.id]}")
            seen[rule.id] = str(path)
            rules.append(rule)
    return rules


# Part of the parsed-rules cache key: bump it when what cached_rules keeps changes, so a cache
# written by older code is not read (one from before examples were dropped still held them).
RULES_CACHE_FORMAT = "2"


def cached_rules(files: Sequence[Path]) -> list[Rule]:
    """:func:`load_rules` of ``files`` from the on-disk cache (parsing the YAML of 800 rules costs
    ~0.5 s, reading the cache a few ms), keyed by the files' digest. A rule file's examples can
    be real-looking values: what is cached keeps only what scanning needs (``rules check`` reads
    the files themselves)."""
    from scanner.engine.backends import cache_dir, load_cached

    def build() -> list[Rule]:
        return [replace(r, examples=(), negative_examples=()) for r in load_rules(files)]

    return list(load_cached(f"{files_digest(files)}-{RULES_CACHE_FORMAT}", build, cache_dir()))  # type: ignore[call-overload]


def files_digest(files: Iterable[Path]) -> str:
    """Hash of the rule files' names and bytes: the key of the compiled-database cache."""
    h = hashlib.sha256()
    # The parser's own source is part of the key: a cached rule from older code is not reused.
    h.update(Path(__file__).read_bytes())
    for path in files:
        h.update(str(path).encode() + b"\0")
        try:
            h.update(Path(path).read_bytes())
        except OSError as exc:
            raise LeakstopError(f"{path}: cannot read rule file: {exc.strerror}") from None
        h.update(b"\0")
    return h.hexdigest()
