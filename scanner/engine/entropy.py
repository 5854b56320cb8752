"""How random a value reads: Shannon entropy in bits per character, the alphabet its characters
span, and whether it is spelled from words (letter pairs of words and identifiers)."""

from __future__ import annotations

import math
import re
from collections import Counter


def shannon(value: bytes) -> float:
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


# Letter pairs common in words and identifiers: the 181 most frequent pairs inside the letter runs
# (camelCase parts, words) of the Python standard library's source, comments and docstrings
# included; 90% of all pairs there. Random characters put about a quarter of their pairs here.
COMMON_PAIRS = frozenset("""
ab ac ad ag ai al am an ap ar as at au ba be bl bo bu by ca ce ch ci ck cl co cr ct cu da de di
do ea ec ed ee ef eg el em en ep eq er es et ex ey fa ff fi fo fr ge gr gs ha he hi ho ht ia ib
ic id ie if ig il im in io ip ir is it ke la ld le lf li ll lo ls lt lu ly ma me mi mo mp na nc
nd ne ng ni no ns nt nu ob oc od of ok ol om on oo op or os ot ou ow pa pe pi pl po pp pr pt py
qu ra rc rd re rg ri rm rn ro rr rs rt ru ry sa sc se sh si so sp ss st su ta te th ti to tr ts
tt tu ty ue ui ul um un up ur us ut va ve wa wh wi wo xc xt yp
""".split())
WORD_PAIRS, MIN_PAIRS = 0.7, 5  # share of common pairs, and how many pairs it takes to judge
ACRONYM = 4  # all-capital runs this short (AWS, ID, HTTP) are left out of the pairs
_RUN = re.compile(rb"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))
_HEX_OR_SEP = b"0123456789abcdefABCDEF:-_."
_COMMON_PAIRS = frozenset(p.encode() for p in COMMON_PAIRS)


def word_like(text: bytes, min_words: int = 2) -> bool:
    """Made of two or more words or identifier parts (``FlowEntryToken``, ``no-password``,
    ``kafka:GetClusterPolicy``) rather than random characters: letters nearly throughout, and
    their letter pairs those of words (about 1% of random 12-24 character values pass: see
    :func:`spelled` for a test that random values pass once in a thousand at most)."""
    counted = _pair_counts(text, min_words)
    return counted is not None and counted[1] >= WORD_PAIRS * counted[0]


# A pair of random letters is one of COMMON_PAIRS this often: the rate random text reaches them at.
RANDOM_PAIR_SHARE = len(COMMON_PAIRS) / 26**2
WORD_EVIDENCE = 1e-3  # spelled: the chance random letters give as many common pairs, at most


def spelled(text: bytes, min_words: int = 2) -> bool:
    """:func:`word_like`, and with more common letter pairs than random letters reach but once in
    a thousand (a binomial tail at RANDOM_PAIR_SHARE). With few pairs, chance alone makes 4 of 5
    common: word_like judged 0.6-0.75% of random 12-24 character keys words, and the confidence
    signal that reads such a value as code, not a credential, sank them. ``FlowEntryToken`` (10
    of 11 common) stays words. Only that signal asks this: a single word (``password`` in
    ``password123``, 6 of 7) is weaker evidence by nature and stays a word where one word counts,
    and identities keep word_like (which values are stretched is persisted)."""
    counted = _pair_counts(text, min_words)
    if counted is None:
        return False
    pairs, common = counted
    return common >= WORD_PAIRS * pairs and _chance(pairs, common) <= WORD_EVIDENCE


def _chance(pairs: int, common: int) -> float:
    """The chance that ``pairs`` random letter pairs hold ``common`` or more common ones."""
    p = RANDOM_PAIR_SHARE
    return sum(math.comb(pairs, k) * p**k * (1 - p) ** (pairs - k) for k in range(common, pairs + 1))


def _pair_counts(text: bytes, min_words: int) -> "tuple[int, int] | None":
    """(letter pairs inside the text's word runs, how many are common), or None when the text is
    not even a candidate: too few letters, hex, fewer than ``min_words`` runs of 3+ letters, or
    too few pairs to judge."""
    # Counted with bytes.translate (C loops): the encoded-run scan asks this of every CamelCase
    # identifier of 24+ letters in a tree.
    letters = len(text) - len(text.translate(None, _LETTERS))
    if letters < 6 or letters < 0.7 * len(text) or not text.translate(None, _HEX_OR_SEP):
        return None  # hex digits spell few words (cafebabe:deadbeef is a key's shape)
    runs = [r.lower() for r in _RUN.findall(text) if not (r.isupper() and len(r) <= ACRONYM)]
    if sum(len(r) >= 3 for r in runs) < min_words:  # one word (hunter2) is not an identifier
        return None
    pairs = sum(len(run) - 1 for run in runs)
    if pairs < MIN_PAIRS:
        return None
    return pairs, sum(run[i : i + 2] in _COMMON_PAIRS for run in runs for i in range(len(run) - 1))


_CLASSES = (  # character class -> its size
    (lambda c: 97 <= c <= 122, 26),
    (lambda c: 65 <= c <= 90, 26),
    (lambda c: 48 <= c <= 57, 10),
    (lambda c: not (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122), 32),
)
_HEX = frozenset(b"0123456789abcdefABCDEF")


def random_looking(text: bytes) -> bool:
    """At least two character classes (lower, upper, digit, other) and a Shannon entropy near
    what random characters reach: 80% of log2(length), capped at 85% of log2(alphabet size)
    (hex: 16; otherwise the classes present)."""
    n = len(text)
    if n < 8:
        return False
    if classes(text) < 2:
        return False
    return shannon(text) >= min(0.8 * math.log2(n), 0.85 * math.log2(alphabet_size(text)))


def classes(text: bytes) -> int:
    """How many character classes (lower, upper, digit, other) the text uses."""
    return sum(1 for test, _ in _CLASSES if any(test(c) for c in text))


def alphabet_size(text: bytes) -> int:
    """The alphabet the text was drawn from, as far as its characters tell: 16 for hex digits,
    otherwise the sizes of the classes present (26 lower, 26 upper, 10 digits, 32 others)."""
    if text and all(c in _HEX for c in text):
        return 16
    return sum(size for test, size in _CLASSES if any(test(c) for c in text))
