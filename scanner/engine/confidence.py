"""How sure leakstop is that a finding is a live credential: ``high``, ``medium`` or ``low``.

Each signal is a small pure function of one finding's :class:`Evidence` returning a weight (0 when
it does not apply); ``SIGNALS`` lists them, and a finding's score is the sum of its signals'
weights. Scan-wide signals (``SCAN_SIGNALS``) look at every finding of a scan at once: the same
value in many test or documentation files is a fixture. :func:`level` turns a score into a level
(``HIGH`` and ``MEDIUM`` are the thresholds); ``--min-confidence`` (default ``medium``) decides
what is reported and what fails the run. The README's "Confidence" section lists every signal
with its weight; tests/engine/test_confidence.py checks that table against this registry.

Signals are computed only for findings (a handful per scan), never per byte scanned.
"""

from __future__ import annotations

import collections
import functools
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Sequence

from scanner.engine import checksums
from scanner.engine.entropy import random_looking, shannon, spelled, word_like  # noqa: F401 (signals read them here)
from scanner.lazyregex import lazy
from scanner.errors import LeakstopError
from scanner.models import Finding, Identity
from scanner.rules import Rule, literal_prefix_length

LEVELS = ("low", "medium", "high")
RANK = {name: i for i, name in enumerate(LEVELS)}
DEFAULT_MIN = "medium"
HIGH, MEDIUM = 3, 0  # score >= HIGH: high; >= MEDIUM: medium; below: low


def level(score: int) -> str:
    return "high" if score >= HIGH else "medium" if score >= MEDIUM else "low"


# -- what the signals look at -------------------------------------------------------------------

# Directories and file names where values are examples more often than credentials: tests,
# fixtures, samples, documentation.
EXAMPLE_DIRS = frozenset({
    "test", "tests", "testing", "spec", "specs", "__tests__", "testdata", "test_data", "test-data", "e2e",
    "fixtures", "fixture", "__fixtures__", "mocks", "mock", "__mocks__", "__snapshots__",
    "examples", "example", "samples", "sample", "demo", "demos", "docs", "doc", "documentation",
})
# Searched (not matched) so that no two repeats can take the same characters (see scanner.redos).
_EXAMPLE_FILE = lazy(
    r"(?i)^test_.|.[_.-](?:tests?|spec)\.[^.]+$|^(?:conftest\.py|readme|changelog)(?:\.|$)"
    r"|.\.(?:md|markdown|mdx|rst|adoc|asciidoc)$|.\.(?:example|sample|template|dist)(?:\.[^.]+)?$"
    r"|(?:^|[._-])(?:examples?|samples?)(?:[._-]|$)"
)
_EXAMPLE_CLASS_FILE = lazy(r"^.+(?:Test|Tests|Spec|IT)\.(?:java|kt|scala|groovy|cs|swift|php)$")
_MINIFIED_FILE = lazy(r"(?i)[.-]min\.(?:js|css|mjs)$")
MINIFIED_LINE = 1000  # characters: a line this long is generated code, not written by hand

# Words that make up placeholder and fixture values (test-secret, supersecret, password123).
FIXTURE_WORDS = tuple(sorted({
    "test", "testing", "example", "sample", "demo", "dummy", "fake", "mock", "foo", "bar", "baz", "qux",
    "secret", "password", "passwd", "pass", "changeme", "admin", "root", "user", "username", "guest",
    "default", "hunter", "letmein", "qwerty", "super", "my", "your", "some", "key", "token", "api",
    "value", "here", "insert", "placeholder", "abc", "xyz", "hello", "world", "welcome",
}, key=len, reverse=True))
PLACEHOLDER_SHARE = 0.5  # of a value's letters covered by fixture words

# A key that names a credential outright; key/token/auth/id are weaker (a cache key, a lexer
# token, an auth flag). A rule's id is read as words (``1password`` is a provider, not a password).
_STRONG_NAME = lazy(
    r"(?i)pass(?:wd|word|phrase)|pwd|secret|private[_-]?key|api[_-]?key|apikey|access[_-]?key|credential"
)
# Values chosen by people rather than generated: words are normal there (hunter2, Winter2024!).
_HUMAN_SECRET = lazy(r"(?i)pass(?:wd|word|phrase)?|pwd|login")
# Domains reserved for documentation (RFC 2606): credentials for them are examples.
_RESERVED_HOST = lazy(
    rb"^@(?:[\w-]+\.)*(?:example\.(?:com|net|org)|[\w-]+\.(?:example|test|invalid))(?![\w.-])", re.I
)

@dataclass(frozen=True)
class Evidence:
    """One finding as the signals see it: its rule, value, key name, path, and the line around it."""

    rule: Rule
    value: bytes
    path: str
    key: Optional[str] = None
    line_length: int = 0
    before: bytes = b""  # the value's line before it (the engine passes up to 256 bytes)
    after: bytes = b""  # the value's line after it (a URL's host), likewise

    @functools.cached_property
    def plain(self) -> bytes:
        """The part of the value a person chose: the password of ``user:password`` userinfo and
        of HTTP Basic credentials (decoded); otherwise the value itself."""
        return checksums.decoded(self.rule.id, self.value) or self.value

    @functools.cached_property
    def verdict(self) -> Optional[tuple[str, bool]]:
        return checksums.verdict(self.rule.id, self.value, self.rule.generic)

    @functools.cached_property
    def word_like(self) -> bool:
        return spelled(self.plain)

    @functools.cached_property
    def random(self) -> bool:
        """Random characters: not even one word in it (password123 is a word and digits)."""
        return (random_looking(self.plain) and not word_like(self.plain, min_words=1)
                and placeholder_share(self.plain) < PLACEHOLDER_SHARE)

    @functools.cached_property
    def human_secret(self) -> bool:
        """A password (chosen by a person), by its key, its rule, or a value that holds one."""
        # The rule counts whatever the key: a URI's password is one under DATABASE_URL too.
        if self.rule.id in checksums.DECODERS or any(map(_HUMAN_SECRET.match, _id_words(self.rule))):
            return True
        return bool(self.key and _HUMAN_SECRET.search(self.key))

    @functools.cached_property
    def example_path(self) -> bool:
        return is_example_path(self.path)


_NON_SECRET_NAME = lazy(
    rb"(?i:(?:checksum|hash|digest|sha\d*|md5|etag|uuid|guid|fingerprint|nonce)s?$|(?:^|[_.-])ids?$)|[a-z]Ids?$"
)
_FIELD = lazy(rb"([A-Za-z_][\w.-]*)[\"']?\s*(?:=>|:=|[:=])\s*[\"'`]?$")


def field_name(before: bytes) -> bytes:
    """The name a value is assigned to, read from the text just before it (``"etag": "``)."""
    m = _FIELD.search(before[-NAME_REACH:])
    return m.group(1) if m else b""


NAME_REACH = 80
_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
BLOB_RUN = 16  # base64 characters beside a value at a line's edge that make it part of a blob


def inside_base64(before: bytes, after: bytes) -> bool:
    """Is a value (with ``before``/``after`` its line's text on either side) inside base64 data?
    Between two base64 characters with a ``+`` (or ``=`` padding) beside it, or at one end of a
    line that is otherwise one base64 run."""
    after = after.rstrip(b"\r")
    b, a = before[-1:], after[:1]
    if (b and b[0] not in _B64) or (a and a[0] not in _B64 and a != b"="):
        return False  # a quote, an "=" or a space beside it: the value stands on its own
    if b and a:
        return b == b"+" or a in (b"+", b"=")  # "/" alone is as likely a URL path: /bot<token>/
    rest = before.lstrip() if b else after.rstrip().rstrip(b"=")
    return len(rest) >= BLOB_RUN and all(c in _B64 for c in rest)


def placeholder_share(text: bytes) -> float:
    """How much of the value's letters are fixture words (test, secret, password, foo, ...)."""
    lowered = text.lower()
    letters = [i for i, c in enumerate(lowered) if 97 <= c <= 122]
    if len(letters) < 3:
        return 0.0
    marked = bytearray(len(lowered))
    for word in FIXTURE_WORDS:
        w = word.encode()
        at = lowered.find(w)
        while at >= 0:
            if not any(marked[at : at + len(w)]):
                marked[at : at + len(w)] = b"\x01" * len(w)
            at = lowered.find(w, at + 1)
    return sum(marked[i] for i in letters) / len(letters)


def is_example_path(path: str) -> bool:
    """A test, fixture, sample or documentation file (by its directories or its name)."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    return (
        any(p.lower() in EXAMPLE_DIRS for p in parts[:-1])
        or bool(_EXAMPLE_FILE.search(name) or _EXAMPLE_CLASS_FILE.match(name))
    )


def _id_words(rule: Rule) -> list[str]:
    return rule.id.split("-")


@functools.lru_cache(maxsize=8192)
def _prefix(regex: str) -> int:
    return literal_prefix_length(regex)


# -- the signals ---------------------------------------------------------------------------------


def checksum_valid(e: Evidence) -> int:
    """The provider's checksum verifies (GitHub, npm, Grafana service account, age)."""
    return 3 if e.verdict == (checksums.CHECKSUM, True) else 0


def _made_up(e: Evidence, there: int, elsewhere: int) -> int:
    """The weight of a sign that a value was made up (a checksum or structure that fails, a
    vendor's documented sample): in a test, fixture or documentation file it settles the matter;
    elsewhere it only lowers the finding, because a check judges only the variants of a format it
    knows and a value edited by hand must still be looked at where it would be used."""
    return there if e.example_path else elsewhere


def checksum_invalid(e: Evidence) -> int:
    """The format carries a checksum and it does not verify: the provider never issued this
    value. Outweighs every other signal in tests and docs; elsewhere keeps it below ``high``."""
    return _made_up(e, -10, -1) if e.verdict == (checksums.CHECKSUM, False) else 0


def structure_valid(e: Evidence) -> int:
    """The value decodes as its format says (JWT JSON header with ``alg``, PEM body DER, AWS key
    id with an account number, JSON payload of Sentry/1Password/Grafana Cloud tokens)."""
    return 1 if e.verdict == (checksums.STRUCTURE, True) else 0


def structure_invalid(e: Evidence) -> int:
    """It claims a decodable structure (``eyJ`` = ``{"``) that does not decode: a mangled example."""
    return _made_up(e, -4, -1) if e.verdict == (checksums.STRUCTURE, False) else 0


def prefixed(rule: Rule) -> bool:
    """A provider rule whose values start with the provider's literal prefix (ghp_, AKIA, sk_live_)."""
    return not rule.generic and _prefix(rule.regex) >= 2


def token_format(e: Evidence) -> int:
    """A provider rule whose value starts with the provider's literal prefix (ghp_, AKIA, sk_live_)."""
    return 2 if prefixed(e.rule) else 0


def named_format(e: Evidence) -> int:
    """A provider rule without a literal prefix: a value shape plus the provider's name or a
    structure around it (keyword-context rules, URL userinfo, Basic headers)."""
    return 1 if not e.rule.generic and not prefixed(e.rule) else 0


def random_value(e: Evidence) -> int:
    """Entropy and character mix of random characters (and not made of words)."""
    return 1 if e.random else 0


def word_like_value(e: Evidence) -> int:
    """A machine-generated kind of secret (a token, a key) whose value is made of words or
    identifier parts: code (``FlowEntryToken``, ``kafka:GetClusterPolicy``), not a credential.
    Passwords are chosen by people and are not judged by this, nor are values with a provider's
    prefix (the prefix is the evidence; made-up bodies are caught by checksums)."""
    if e.human_secret or prefixed(e.rule):
        return 0
    return -3 if e.word_like else 0


def credential_name(e: Evidence) -> int:
    """Assigned to a name that says credential outright (password, secret, api_key, private_key),
    rather than key/token/auth."""
    if e.key:
        return 1 if _STRONG_NAME.search(e.key) else 0
    # Without a key, a generic rule's id names what it looks for (generic-password-xml); a
    # provider rule's format signal already says what it is.
    return 1 if e.rule.generic and any(_STRONG_NAME.match(w) for w in _id_words(e.rule)) else 0


def placeholder_like(e: Evidence) -> int:
    """Made of fixture words: nothing else (test-secret, supersecret, ``user:pass``): -3; half or
    more of its letters (password123, a weak but possibly real password): -1."""
    share = placeholder_share(e.plain)
    if share >= 1.0 and not any(48 <= c <= 57 for c in e.plain):
        return -3
    return -1 if share >= PLACEHOLDER_SHARE else 0


def example_location(e: Evidence) -> int:
    """In a test, fixture, sample or documentation file, and not random: fixture-like. A random
    value there keeps its confidence (people commit live keys in tests)."""
    return -2 if e.example_path and not e.random else 0


def encoded_blob(e: Evidence) -> int:
    """Part of a longer run of base64 (an e-mail attachment, an image or font inlined in SVG or
    CSS): a token's prefix occurring by chance inside encoded data."""
    return -4 if inside_base64(e.before, e.after) else 0


def reserved_domain(e: Evidence) -> int:
    """Credentials for a host reserved for documentation (example.com, *.test, *.invalid)."""
    return -2 if _RESERVED_HOST.match(e.after) else 0


def non_secret_name(e: Evidence) -> int:
    """Assigned to a field that names a digest or an identifier (checksum, hash, etag, uuid,
    ...Id): such fields hold public values that look random. A provider's prefixed token is
    judged by its format instead (``aws_access_key_id = AKIA…``), and a provider rule that names
    the field itself, or reports an id, has decided the field holds a credential."""
    if prefixed(e.rule) or (not e.rule.generic and (e.key or "id" in _id_words(e.rule))):
        return 0  # the rule itself chose that name, or it reports an id (wolfram-app-id)
    name = e.key.encode() if e.key else field_name(e.before)
    return -3 if _NON_SECRET_NAME.search(name) else 0


def minified(e: Evidence) -> int:
    """A generic (entropy/keyword) hit in minified or generated code, where random-looking
    strings are identifiers and hashes."""
    if not e.rule.generic:
        return 0
    return -3 if e.line_length >= MINIFIED_LINE or _MINIFIED_FILE.search(e.path) else 0


def documented_example(e: Evidence) -> int:
    """A vendor's documented example (jwt.io's sample token claims, with any signature)."""
    return _made_up(e, -5, -2) if checksums.documented_example(e.rule.id, e.value, e.rule.generic) else 0


SIGNALS: dict[str, Callable[[Evidence], int]] = {
    "checksum_valid": checksum_valid,
    "checksum_invalid": checksum_invalid,
    "structure_valid": structure_valid,
    "structure_invalid": structure_invalid,
    "token_format": token_format,
    "named_format": named_format,
    "random_value": random_value,
    "word_like": word_like_value,
    "credential_name": credential_name,
    "placeholder_like": placeholder_like,
    "example_location": example_location,
    "encoded_blob": encoded_blob,
    "non_secret_name": non_secret_name,
    "reserved_domain": reserved_domain,
    "minified": minified,
    "documented_example": documented_example,
}


def assess(e: Evidence) -> dict[str, int]:
    """The signals that apply to one finding, by name, with their weights."""
    out = {}
    for name, signal in SIGNALS.items():
        weight = signal(e)
        if weight:
            out[name] = weight
    return out


# -- scan-wide signals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrences:
    """Where one value occurs across a scan's findings, in example (test/docs) files."""

    example_files: int
    example_locations: int


SHARED_FILES, SHARED_LOCATIONS = 2, 3


def shared_fixture(o: Occurrences) -> int:
    """The same value in 2+ test/docs files, or at 3+ places in them: a fixture or a documented
    example, wherever else it also occurs."""
    return -3 if o.example_files >= SHARED_FILES or o.example_locations >= SHARED_LOCATIONS else 0


SCAN_SIGNALS: dict[str, Callable[[Occurrences], int]] = {
    "shared_fixture": shared_fixture,
}


def occurrence_paths(f: Finding) -> Sequence[str]:
    """Every path the finding's value was seen at: a history finding lists them (``path_list``)."""
    listed = f.extra.get("path_list")
    return listed if isinstance(listed, list) and listed else [f.path]


def rescore(findings: Iterable[Finding]) -> list[Finding]:
    """Apply the scan-wide signals (recomputed, so calling it again changes nothing) and set each
    finding's level from its signals."""
    findings = list(findings)
    for group in _by_value(findings):
        locations = [(p, f.line) for f in group for p in occurrence_paths(f) if is_example_path(p)]
        seen = Occurrences(len({p for p, _ in set(locations)}), len(set(locations)))
        for f in group:
            signals = {k: v for k, v in f.signals.items() if k not in SCAN_SIGNALS}
            for name, signal in SCAN_SIGNALS.items():
                weight = signal(seen)
                if weight:
                    signals[name] = weight
            f.signals = signals
            f.confidence = level(sum(signals.values()))
    return findings


def _by_value(findings: list[Finding]) -> Iterable[list[Finding]]:
    """The findings grouped by value: by value hash (else fingerprint), as identified. A finding
    the engine left unidentified (below its reporting floor) is grouped by the value it holds,
    with the identified findings holding the same value, whose hash is the one it would have: the
    same groups as if every finding had been identified, without stretching a weak value."""
    groups: dict[str | bytes, list[Finding]] = collections.defaultdict(list)
    named: dict[bytes, str] = {}
    if not all(f.identified for f in findings):
        # An identified finding without its value (history, saved state) could hold one of theirs
        # unseen: such lists are never mixed with deferred findings, and must not start to be.
        if any(not f.secret for f in findings):
            raise LeakstopError("internal error: findings without their values cannot be grouped with "
                                "unidentified ones")
        named = {f.secret: f.secret_hash or f.fingerprint for f in findings if f.identified}
    for f in findings:
        key: str | bytes = (f.secret_hash or f.fingerprint) if f.identified else named.get(f.secret, f.secret)
        groups[key].append(f)
    return groups.values()


def at_least(findings: Iterable[Finding], minimum: str) -> tuple[list[Finding], int]:
    """The findings at ``minimum`` confidence or above, and how many were below it."""
    floor = RANK[minimum]
    kept, below = [], 0
    for f in findings:
        if RANK.get(f.confidence, RANK["medium"]) >= floor:
            kept.append(f)
        else:
            below += 1
    return kept, below


def judge(findings: Iterable[Finding], minimum: str = DEFAULT_MIN,
          identity: Optional[Identity] = None) -> tuple[list[Finding], int]:
    """Scan-wide signals, then the findings at ``minimum`` or above (and how many were not).

    What is reported is decided here, so here the kept findings that an engine left unidentified
    (``Engine(defer_below=...)``) are identified under ``identity`` (the engine's): whatever the
    scan-wide signals did to their levels, no reported finding has an empty fingerprint."""
    kept, below = at_least(rescore(findings), minimum)
    for f in kept:
        if not f.identified:
            if identity is None:
                raise LeakstopError("internal error: a reported finding was left unidentified and no identity "
                                    "was given to identify it")
            identity.identify(f)
    return kept, below
