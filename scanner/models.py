"""Records that flow through the pipeline: chunks in, findings out."""

from __future__ import annotations

import bisect
import hashlib
import hmac
import math
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Iterable, Optional, overload

from scanner.display import display_path
from scanner.errors import LeakstopError
from scanner.lazyregex import lazy

if TYPE_CHECKING:  # rules import models; models only name the type
    from scanner.rules import Rule


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    author: str
    email: str
    date: str  # ISO 8601


@dataclass(frozen=True)
class Chunk:
    """Text to scan and where it came from.

    ``data`` is the whole file (or blob) so context-aware detectors see its structure; when
    ``lines`` is set, only findings on those 1-based line numbers are reported (the added lines
    of a diff). ``binary``: ``data`` holds a binary file's printable runs
    (:mod:`scanner.sources.textify`), scanned with provider-specific rules only.

    A window of a file too large to hold (:mod:`scanner.sources.windows`) says where it starts
    (``first_line``, ``first_column``: numbers of ``data[0]``; ``lines`` are then numbered from
    ``first_line`` as 1) and reports only matches starting before ``own_end``.
    """

    path: str
    data: bytes
    lines: Optional[frozenset[int]] = None
    commit: Optional[CommitInfo] = None
    blob: Optional[str] = None
    binary: bool = False
    first_line: int = 1
    first_column: int = 1
    own_end: Optional[int] = None


@dataclass(frozen=True)
class Match:
    """A located value before filtering: byte offsets into the chunk's data, and the rule (and
    the key name) that located it. Detectors and the engine's regex pass both produce these."""

    rule: "Rule"
    start: int
    end: int
    key: Optional[str] = None


def mask(value: str) -> str:
    """The only form a value is ever shown in: at most a quarter of it, never more than four
    characters, then an ellipsis (a 6-character password shows 1 character, a 3-character one none)."""
    return value[: min(4, len(value) // 4)] + "…"


# -- identities -------------------------------------------------------------------------------
# A value carrying less information than it takes to search for it offline is first stretched
# with scrypt at the cost below (about 10 ms and 4 MiB per value), so each guess costs the same.
#
# How much a value carries is estimated twice. Its Shannon bits (length x bits per character) are
# what a value spelled from few characters, or from words, is worth: under GUESSABLE_BITS it is
# stretched. But the Shannon bits of a short string are capped by its length (16 characters: 64
# bits at most), so scheme 1 stretched every random key under about 27 characters, and a file of
# many distinct keys cost 10 ms each (minutes per megabyte). From scheme 2 on, a value of random
# characters is worth length x log2 of the alphabet it spans (a 16-character base62 key: 95 bits):
# from RANDOM_BITS on it is past any offline search at HMAC speed and is hashed directly. Random
# means: Shannon entropy near the maximum, no word (letter pairs of words), and (but in hex) no run
# of four digits or character three times in a row (Winter2024!, P@ssw0rd1234, aaaa… stay stretched).
GUESSABLE_BITS = 128
RANDOM_BITS = 80
SCRYPT_COST = {"n": 1 << 12, "r": 8, "p": 1}
_MEMO_ENTRIES = 65536
# Identity schemes: 1 stretched by Shannon bits alone; 2 (current) also judges random values by
# their alphabet. Persisted identities that must outlive an upgrade record theirs (baselines).
SCHEME = 2
_HUMAN_PATTERN = lazy(rb"[0-9]{4}|(.)\1\1")


def guessable(value: bytes, scheme: int = SCHEME) -> bool:
    """Could the value be found by brute force (a human password, a short key)?"""
    from scanner.engine.entropy import alphabet_size, random_looking, shannon, word_like

    if len(value) * shannon(value) >= GUESSABLE_BITS:
        return False
    alphabet = alphabet_size(value)
    if scheme < 2 or len(value) * math.log2(max(alphabet, 2)) < RANDOM_BITS:
        return True
    if not random_looking(value) or word_like(value, min_words=1):
        return True
    return alphabet != 16 and bool(_HUMAN_PATTERN.search(value))  # hex digits run in fours by chance


@dataclass(frozen=True)
class Identity:
    """The key every persisted identity of a value is computed under: report fingerprints, value
    hashes in remediation plans, journals and history state, baseline entries.

    ``fingerprint``/``value_hash`` are HMAC-SHA256 under ``key`` of the value, stretched first
    with scrypt (salted by the key) when the value is :func:`guessable`, so that neither a
    precomputed table nor a fast dictionary attack confirms a weak password. Values and what they
    stretch to are remembered for the life of the object (a history audit meets the same value in many
    versions). Built once per command (:mod:`scanner.identity` resolves the key) and passed down;
    it pickles without its memo.
    """

    key: bytes = field(repr=False)
    source: str = "ephemeral"  # where the key came from: env, config, repository, user, baseline, ephemeral
    scheme: int = SCHEME  # which values are stretched (see guessable); older baselines keep theirs
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def ephemeral(cls) -> "Identity":
        """A random key for this process only: identities that need not outlive it."""
        import secrets  # here: a scan with a persistent key (the hook's) never needs it

        return cls(secrets.token_bytes(32), "ephemeral")

    def __reduce__(self):
        return (Identity, (self.key, self.source, self.scheme))

    @property
    def key_id(self) -> str:
        """Names the key in persisted state (a hash of it, never the key)."""
        return hashlib.sha256(b"leakstop key id\0" + self.key).hexdigest()[:16]

    def subkey(self, purpose: str) -> bytes:
        """A key for another use of the same secret (e.g. idempotency tokens), independent of it."""
        return hmac.new(self.key, b"leakstop subkey\0" + purpose.encode(), hashlib.sha256).digest()

    def _stretched(self, value: bytes) -> bytes:
        # Remembered whether stretched or not: judging guessable (entropy, word and pattern
        # tests) cost most of an identity, and a value is identified twice per finding
        # (fingerprint, value hash) and again in each version of its file a history meets.
        got = self._memo.get(value)
        if got is None:
            if not guessable(value, self.scheme):
                got = b"f" + value
            else:
                salt = hmac.new(self.key, b"leakstop scrypt salt", hashlib.sha256).digest()
                got = b"s" + hashlib.scrypt(value, salt=salt, dklen=32, maxmem=1 << 26, **SCRYPT_COST)
            if len(self._memo) >= _MEMO_ENTRIES:
                self._memo.clear()
            self._memo[value] = got
        return got

    def digest(self, rule_id: str, value: bytes) -> str:
        """Rule id + value, keyed and (for guessable values) stretched: 64 hex digits."""
        msg = b"fingerprint\0" + rule_id.encode() + b"\0" + self._stretched(value)
        return hmac.new(self.key, msg, hashlib.sha256).hexdigest()

    def fingerprint(self, rule_id: str, value: bytes) -> str:
        """Stable identity of a finding: rule id + value, never a line number (32 hex digits)."""
        return self.digest(rule_id, value)[:32]

    def value_hash(self, value: bytes) -> str:
        """Identity of a value whatever rule found it (remediation plans and journals)."""
        return hmac.new(self.key, b"value\0" + self._stretched(value), hashlib.sha256).hexdigest()

    def identify(self, finding: "Finding") -> None:
        """Set the finding's ``fingerprint`` and ``secret_hash`` from the value it holds. The
        engine calls this when it makes a finding, or leaves it to the step that decides what is
        reported (:func:`scanner.engine.confidence.judge`) for findings that cannot be reported
        by their own signals: a weak value costs its stretch only when its finding is shown."""
        if not finding.secret:
            raise LeakstopError("internal error: a finding without its value in memory cannot be identified")
        finding.fingerprint = self.fingerprint(finding.rule_id, finding.secret)
        finding.secret_hash = self.value_hash(finding.secret)


# -- redaction --------------------------------------------------------------------------------
# A run of token characters ('_', '-', '.', '/' and the rest separate runs, so key names and path
# components are judged one word group at a time).
_RUN = lazy(r"[A-Za-z0-9+=]{16,}")
# Identifier pieces: camelCase words, ACRONYMS, numbers; in a random string most are 1-2 long.
_PIECE = lazy(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+|.")
_HEX = lazy(r"[0-9a-f]+|[0-9A-F]+")
TOKEN_RUN = 20  # characters: shorter runs are judged by their pieces alone


def token_like(run: str) -> bool:
    """Is this run of 16+ token characters random rather than words? Calibrated on every
    identifier and path segment of the rails, requests and site-packages trees against random
    base62/base64/hex/base32 strings: hex with digits and letters always is; otherwise it needs
    two character classes, 3+ bits of entropy per character and either 30 % of it in 1-2
    character pieces (``a8Fk3Q``, not ``UprightFocalLength35mm``) or, without lower case, few
    vowels (``KPHW5C2FPXNH``, not ``HTTP2SERVER``)."""
    classes = any(c.islower() for c in run) + any(c.isupper() for c in run) + any(c.isdigit() for c in run)
    if classes < 2:
        return False
    if _HEX.fullmatch(run):
        return True
    from scanner.engine.entropy import shannon, word_like

    if shannon(run.encode()) < 3.0:
        return False
    if sum(len(p) for p in _PIECE.findall(run) if len(p) <= 2) >= 0.3 * len(run):
        return True
    letters = [c for c in run.lower() if c.isalpha()]
    if not any(c.islower() for c in run) and sum(c in "aeiou" for c in letters) < 0.25 * len(letters):
        return True
    # A long run of all three classes whose letters spell no words: random, though chance gave
    # it long pieces (1.4% of random 36-character base62 runs failed the tests above).
    return (classes == 3 and len(run) >= TOKEN_RUN and shannon(run.encode()) >= 3.5
            and not word_like(run.encode(), min_words=1))


class Redactor:
    """Masks, inside any text derived from scanned content (a key name, a path, a diff), the
    detected values it was built with and any high-entropy run (:func:`token_like`). A value
    shorter than 12 characters is masked only where it stands alone (not inside a longer word:
    a password ``dev`` leaves ``devices/`` alone), unless ``anywhere``."""

    def __init__(self, known: Iterable[bytes | str] = (), anywhere: bool = False) -> None:
        self._values = sorted({v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in known} - {""},
                              key=len, reverse=True)
        self._anywhere = anywhere
        self._patterns: dict[tuple[str, ...], re.Pattern] = {}  # by the values a text holds
        self._by_len: dict[int, set[str]] = {}
        self._lengths: list[int] = []

    # Text in, text out; None (an absent key name, say) passes through.
    @overload
    def __call__(self, text: str) -> str: ...
    @overload
    def __call__(self, text: None) -> None: ...
    def __call__(self, text: Optional[str]) -> Optional[str]:
        if not text:
            return text
        if self._values:
            text = self._known(text)
        return _RUN.sub(lambda m: mask(m.group()) if token_like(m.group()) else m.group(), text)

    def _known(self, text: str) -> str:
        if len(self._values) <= 64:  # one regex: linear in the text, for any length of text
            # Of the values the text holds (usually none: nothing to compile). Compiling costs
            # a value's length in Python-level parsing, and a history audit's values (key blocks
            # among them) meet every path they were ever at.
            present = tuple(v for v in self._values if v in text)
            if not present:
                return text
            pattern = self._patterns.get(present)
            if pattern is None:
                if len(self._patterns) >= 256:
                    self._patterns.clear()
                alts = [re.escape(v) if self._anywhere or len(v) >= 12 else rf"(?<![^\W_]){re.escape(v)}(?![^\W_])"
                        for v in present]
                pattern = self._patterns[present] = re.compile("|".join(alts))
            return pattern.sub(lambda m: mask(m.group()), text)
        # Many values (one file with thousands of findings): look up each substring of each length
        # a value has, longest first, from the longest that fits: a short key name costs its own
        # length squared at most, not its length times the number of value lengths in the file.
        if not self._by_len:
            for v in self._values:
                self._by_len.setdefault(len(v), set()).add(v)
            self._lengths = sorted(self._by_len)
        lengths = self._lengths
        out, i, n = [], 0, len(text)
        while i < n:
            for k in range(bisect.bisect_right(lengths, n - i) - 1, -1, -1):
                ln = lengths[k]
                part = text[i : i + ln]
                if part in self._by_len[ln] and (self._anywhere or ln >= 12 or _alone(text, i, i + ln)):
                    out.append(mask(part))
                    i += ln
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


def _alone(text: str, a: int, b: int) -> bool:
    return not (a > 0 and text[a - 1].isalnum()) and not (b < len(text) and text[b].isalnum())


def redact(text: Optional[str], known: Iterable[bytes | str] = ()) -> Optional[str]:
    """``text`` with every known detected value and every high-entropy run masked."""
    return Redactor(known)(text)


def _redact_extra(extra: dict, red: Redactor) -> dict:
    """History fields: the paths in them are scanned-text-derived, commit metadata is not."""
    out = {}
    for k, v in extra.items():
        if k == "path_list":
            v = [red(p) for p in v]
        elif isinstance(v, dict) and "path" in v:
            v = {**v, "path": red(v["path"])}
        out[k] = v
    return out


@dataclass
class Finding:
    rule_id: str
    provider: str
    description: str
    severity: str
    category: str
    path: str
    line: int
    column: int
    end_column: int
    masked: str
    fingerprint: str
    secret_hash: str
    key: Optional[str] = None  # the variable / config key the value was assigned to, when known
    commit: Optional[CommitInfo] = None
    # History audits fill these in (see scanner.sources.history).
    extra: dict = field(default_factory=dict)
    # How sure the finding is (scanner.engine.confidence): its level and the signals behind it.
    confidence: str = "medium"
    signals: dict = field(default_factory=dict)
    # The raw value stays in memory for remediation only; reporters never serialise it.
    secret: bytes = field(default=b"", repr=False, compare=False)
    # The baseline's keyed hash of the value, computed where the value was in memory (history
    # workers drop the value), so a baseline can still match; never serialised in reports.
    baseline_hash: str = field(default="", repr=False, compare=False)
    # ``--verify``: {"status": verified|invalid|unknown|error, "detail": ...} (scanner.verify);
    # the detail never holds the value.
    verification: Optional[dict] = None

    @property
    def identified(self) -> bool:
        """Whether ``fingerprint`` and ``secret_hash`` are set: an engine told a reporting floor
        leaves them empty on findings below it until they are judged (Identity.identify)."""
        return bool(self.fingerprint)

    def to_dict(self) -> dict:
        d = {
            "rule_id": self.rule_id,
            "provider": self.provider,
            "description": self.description,
            "severity": self.severity,
            "category": self.category,
            "path": display_path(self.path),
            "line": self.line,
            "column": self.column,
            "end_column": self.end_column,
            "masked": self.masked,
            "fingerprint": self.fingerprint,
            "confidence": self.confidence,
        }
        if self.signals:
            d["confidence_signals"] = dict(self.signals)
        if self.key:
            d["key"] = self.key
        if self.commit:
            d["commit"] = {
                "sha": self.commit.sha,
                "author": self.commit.author,
                "email": self.commit.email,
                "date": self.commit.date,
            }
        d.update(self.extra)
        if self.verification is not None:
            d["verification"] = dict(self.verification)
        return d

    def redacted(self, red: Redactor) -> "Finding":
        """A copy to show: path, key and history paths with values and random runs masked."""
        return replace(self, path=red(self.path) or self.path, key=red(self.key),
                       extra=_redact_extra(self.extra, red) if self.extra else self.extra)


@dataclass(frozen=True)
class Notice:
    """A warning about the scan itself, anchored to a repository file: not a secret, and not
    counted in the exit code (e.g. a pull request that changes the configuration the gate
    applies). Reports that review tools show (SARIF, GitHub annotations, JSON) carry it."""

    kind: str  # e.g. "settings-change"
    path: str
    message: str
    identity: str  # stable id for code scanning (no value, no line)
