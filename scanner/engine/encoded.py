"""Encoded values: a token hidden as base64, base64url, hex or percent-encoding
(``base64.b64decode("Z2hwX…")``, a Kubernetes-style value, a URL-encoded query) is decoded and
the decoded text scanned again, to depth 2 (base64 of base64).

Only runs long enough to hold a token are decoded, only decoded text that is printable is
scanned, and only with provider rules (the binary-content mode: generic rules would judge
decoded noise). A finding points at the encoded run in the file (its line and columns) and says
how it was decoded (``decoded: base64``; two levels: ``base64+base64``). The value it is
identified by is the decoded token, so it matches the same token seen in plain text elsewhere.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Iterator, Optional
from urllib.parse import unquote_to_bytes

from scanner.engine.entropy import word_like
from scanner.lazyregex import lazy

MAX_DEPTH = 2
MIN_RUN = 24  # characters: shorter encodings cannot hold a provider token's prefix and body
MIN_DECODED = 16
MAX_RUNS = 4096  # per chunk: a lockfile holds thousands of base64 hashes; none decodes to text
MAX_RUN = 64 * 1024
_HEX = lazy(rb"[0-9A-Fa-f]+")
# Percent-encoding: from a %XX escape on, escapes and unreserved characters (starting with the
# literal "%" lets the regex engine skip to each "%" at C speed); the plain characters before
# the first escape are taken into the run afterwards.
_PCT = lazy(rb"%[0-9A-Fa-f]{2}(?:[A-Za-z0-9._~+-]|%[0-9A-Fa-f]{2})*")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+-")
_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\t\n\r"
# Finding runs: the alphabet mapped to "a", everything else to a space, then bytes.find (C
# speed, about 4x a regex over the text).
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
_CLASSES = bytes(0x61 if b in _ALPHABET else 0x20 for b in range(256))
_SEED = b"a" * MIN_RUN


@dataclass(frozen=True)
class Run:
    start: int
    end: int
    decoded: bytes
    how: str  # "base64", "hex", "percent"


def _text(data: bytes) -> bool:
    if len(data) < MIN_DECODED:
        return False
    return len(data.translate(None, _PRINTABLE)) <= 0.05 * len(data)


def _plausible(run: bytes) -> bool:
    """Encoded text mixes upper case, lower case and digits; identifiers, words and paths of the
    same alphabet mostly do not (and are the bulk of the runs in source code). Hex is the
    exception: long and not all digits. Base64 of upper case text often has no digit
    (``YXdzIEFLSUFU…`` is ``aws AKIA…``): a run of letters alone counts when its letters spell no
    words (CamelCase identifiers do: :func:`_spelled`, asked only of runs that decode to text)."""
    if run.islower() or run.isupper():  # one case (tested first: most runs are snake_case names)
        return len(run) >= 32 and _HEX.fullmatch(run) is not None
    if _HEX.fullmatch(run):
        return len(run) >= 32 and not run.isdigit()
    return run.lower() != run  # no letters at all: not encoded text


def _spelled(run: bytes) -> bool:
    """A run of letters alone that spells words: an identifier, not base64. Asked after decoding
    (a word test costs more than a decode, and nearly every CamelCase name decodes to binary)."""
    return run.isalpha() and word_like(run, min_words=1)


def _decode(run: bytes) -> Optional[tuple[bytes, str]]:
    body = run.rstrip(b"=")
    if len(body) % 2 == 0 and _HEX.fullmatch(body) and len(body) >= 32:
        try:
            return bytes.fromhex(body.decode()), "hex"
        except ValueError:
            pass
    if len(body) % 4 == 1:
        return None
    padded = body + b"=" * (-len(body) % 4)
    try:
        if b"-" in body or b"_" in body:
            return base64.urlsafe_b64decode(padded), "base64"
        return base64.b64decode(padded, validate=True), "base64"
    except (binascii.Error, ValueError):
        return None


def runs(data: bytes) -> Iterator[Run]:
    """Encoded runs of ``data`` whose decoding is printable text."""
    # The runs are found with bytes.find on the text mapped to run characters and spaces: source
    # code holds tens of thousands of them per megabyte (snake_case names, paths), nearly all
    # rejected by _plausible's first test.
    classes = data.translate(_CLASSES)
    find, n = classes.find, len(data)
    i, seen = find(_SEED), 0
    while i >= 0:  # at a run's start: the search goes on from the space that ended the last run
        if seen >= MAX_RUNS:
            return
        seen += 1
        end = find(b" ", i)
        if end < 0:
            end = n
        while end < n and data[end] == 0x3D and end - i < MAX_RUN:  # "=" padding
            end += 1
        start, stop, i = i, min(end, i + MAX_RUN), find(_SEED, end)
        run = data[start:stop]
        body = run.rstrip(b"=") if run[-1] == 0x3D else run
        if not _plausible(body):
            continue
        got = _decode(run)
        if got is not None and _text(got[0]) and not _spelled(body):
            yield Run(start, stop, got[0], got[1])
    if b"%" in data:
        for m in _PCT.finditer(data):
            if m.group().count(b"%") >= 4:
                start = m.start()
                while start > 0 and data[start - 1] in _UNRESERVED and m.start() - start < MIN_RUN:
                    start -= 1
                decoded = unquote_to_bytes(data[start : m.end()])
                if _text(decoded):
                    yield Run(start, m.end(), decoded, "percent")
