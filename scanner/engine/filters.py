"""False-positive filters: small pure predicates over one candidate.

Each filter answers "is this candidate a false positive?". A rule can opt out of a filter by
name (``skip_filters``), e.g. a provider whose real tokens are UUIDs skips ``uuid``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from typing import Callable, Optional

from scanner.engine import checksums
from scanner.lazyregex import lazy
from scanner.rules import Rule


class Line:
    """The line a candidate starts on, and what filters ask about the line as a whole, worked out
    once: one line (minified code, a data dump) can hold thousands of candidates, and a question
    answered by searching the line for each of them costs the square of its length."""

    __slots__ = ("text", "_references", "_first_ends")

    def __init__(self, text: bytes) -> None:
        self.text = text
        self._references: Optional[tuple[list[int], list[int]]] = None
        self._first_ends: dict = {}

    def first_end(self, rx: "re.Pattern[bytes]") -> float:
        """Where the first match of ``rx`` on the line ends (infinity when there is none): a
        candidate at or past it has a match before it."""
        end = self._first_ends.get(rx)
        if end is None:
            m = rx.search(self.text)
            end = self._first_ends[rx] = m.end() if m else float("inf")
        return end

    def references(self) -> tuple[list[int], list[int]]:
        """Starts and ends of the secret references on the line (ARNs, ``{{resolve:...}}``), in
        order; they do not overlap."""
        if self._references is None:
            spans = [m.span() for m in _REFERENCE_SPANS.finditer(self.text)]
            self._references = ([a for a, _ in spans], [b for _, b in spans])
        return self._references


@dataclass(frozen=True)
class Candidate:
    rule: Rule
    value: bytes
    line: Line  # the whole line the value starts on
    path: str
    key: Optional[str] = None
    at: int = 0  # where the value starts in ``line.text``


_PLACEHOLDER_WORDS = lazy(
    rb"(?i)(x{4,}|\*{4,}|#{4,}|\.{3}|changeme|change_me|change-me|replace_?me|your[_-]|<[^>]*>|placeholder|"
    rb"redacted|dummy|sample|fixme|todo|insert[_-]|enter[_-]?your|put[_-]?your|notreal|not[_-]real|"
    rb"fake[_-]?(key|token|secret|password)|(^|[^a-z0-9])fake([^a-z0-9]|$)|example|secret[_-]?here|token[_-]?here|key[_-]?here|"
    rb"password[_-]?here|^(test|testing|secret|password|passw0rd|pass|passwd|pwd|admin|root|none|null|nil|"
    rb"undefined|true|false|empty|default|string|value|token|apikey|api_key|key)$)"
)
_TEMPLATE = lazy(
    rb"(\$\{[^}]*\}|\{\{.*?\}\}|%\([^)]*\)[sd]|<%=?.*?%>|#\{[^}]*\}|\$\([^)]*\)|^\$[A-Za-z_][A-Za-z0-9_]*$|"
    rb"^%[A-Za-z_][A-Za-z0-9_]*%$|^@[A-Za-z_][A-Za-z0-9_]*@$|^\{[A-Za-z_][A-Za-z0-9_.]*\}$)"
)
# Vendor documentation examples that appear verbatim in countless READMEs and tests.
KNOWN_EXAMPLES = frozenset(
    {
        b"AKIAIOSFODNN7EXAMPLE",
        b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        b"AKIAI44QH8DHBEXAMPLE",
        b"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        b"sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        b"pk_test_TYooMQauvdEDq54NiTphI7jx",
        b"xoxb-not-a-real-token-this-will-not-work",
        b"QWxhZGRpbjpvcGVuIHNlc2FtZQ==",  # RFC 7617's Basic credentials (Aladdin:open sesame)
    }
)
_UUID = lazy(rb"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Integrity strings as package managers write them (npm/yarn/pnpm sha512-…, go.sum h1:…,
# poetry/uv/pip sha256:…): a digest, labelled as one, whatever file it is in.
_INTEGRITY = lazy(rb"^(sha1|sha256|sha384|sha512)[-:][A-Za-z0-9+/=]+$|^h1:[A-Za-z0-9+/=]+$")
# Hex digests: MD5, SHA-1, SHA-224, SHA-256, SHA-384, SHA-512.
_HEX_DIGEST = lazy(rb"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})$")
# Field names that say the value is a digest of something, not the thing: detect-secrets'
# hashed_secret, checksum/shasum/integrity fields, key_sha256. (Not salts: a key-derivation salt,
# such as Rails' key_derivation_salt, is kept with the keys it derives.)
_DIGEST_NAME = lazy(
    rb"(?i)(?:^|[^a-z0-9])(?:hashed|checksums?|shasum|digest|integrity|sha(?:1|224|256|384|512)|md5)(?:$|[^a-z0-9])"
    rb"|content[_-]?hash"
)
# In a lockfile, a hex digest is noise where the lockfile format puts one: after a checksum or
# hash field, a git reference, or a URL fragment (yarn's resolved "…tgz#<sha1>").
_CHECKSUM_POSITION = lazy(rb"(?i)checksum|integrity|hash|shasum|sha\d*|digest|reference|resolved|#")
_LOCKFILES = (
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "poetry.lock",
    "Pipfile.lock",
    "Cargo.lock",
    "go.sum",
    "composer.lock",
    "Gemfile.lock",
    "uv.lock",
    "pdm.lock",
    "packages.lock.json",
)
_REFERENCE = lazy(
    rb"(os\.environ|os\.getenv|getenv\(|process\.env|ENV\[|ENV\.fetch|System\.getenv|Environment\.Get|"
    rb"\$_ENV|\$_SERVER|secrets\.|vault:|!Ref|Fn::|\{\{resolve:|arn:aws:secretsmanager:|arn:aws:ssm:)"
)
# References that embed a name-like tail a generic rule could take for a value.
_REFERENCE_SPANS = lazy(
    rb"arn:aws[\w-]*:(?:secretsmanager|ssm|kms):[^\s\"'`,]+|\{\{resolve:(?:secretsmanager|ssm|ssm-secure):[^}]*\}\}"
)
_IDENTIFIER_PATH = lazy(rb"^[A-Za-z_][A-Za-z_]*(\.[A-Za-z_][A-Za-z0-9_]*)+(\(\))?$|^[a-z_]+(\(\))?$|^[A-Z_]+$")
_TEST_PATH = lazy(r"(^|/)(fixtures?|testdata|test_data|__fixtures__|__mocks__|__snapshots__|mocks?)(/|$)")


# Past this length, chance alone spells a marker: a 1,600-character private key body holds
# "xxxx", "todo" or "dummy" in some mix of case about once in 300 keys.
LONG_VALUE = 64


def placeholder(c: Candidate) -> bool:
    # A token whose provider checksum verifies was issued, whatever letters chance put in it
    # (a random GitHub token can hold "tODo" or "FaKe").
    v = c.value
    if len(v) <= LONG_VALUE:
        hit = _PLACEHOLDER_WORDS.search(v) is not None
    else:
        hit = any(_written_as_word(v, m.start(), m.end()) for m in _PLACEHOLDER_WORDS.finditer(v))
    return hit and checksums.verdict(c.rule.id, v) != (checksums.CHECKSUM, True)


def _written_as_word(v: bytes, start: int, end: int) -> bool:
    """Whether a marker found in a long value was written by a person: cased as a word (lower,
    UPPER or Title), and either too long for chance or set off on both sides by punctuation, the
    value's edge or a camelCase step. Random base64 mixes case and runs letters together."""
    word = v[start:end]
    if not word[:1].isalnum():  # "...", "****", "<your key>": never formed by base64 or hex
        return True
    if not (word.islower() or word.isupper() or word.istitle()):
        return False
    # Chance that base64 spells these letters, in any case, somewhere in the value: each letter
    # is 1 in 32. Below 1 in 100,000 ("EXAMPLE" and "XXXXXXXX" in a 1,600-character body), the
    # marker was written, however it is cased or joined.
    if len(v) * 32.0 ** -len(word) < 1e-5:
        return True
    before, after = v[start - 1:start], v[end:end + 1]
    left = not before.isalnum() or (word[:1].isupper() and (before.islower() or before.isdigit()))
    right = not after.isalnum() or not word[-1:].isalnum() or (after.isupper() and not word.isupper()) or after.isdigit()
    return left and right


def template(c: Candidate) -> bool:
    return bool(_TEMPLATE.search(c.value))


def known_example(c: Candidate) -> bool:
    return c.value in KNOWN_EXAMPLES


def uuid(c: Candidate) -> bool:
    return bool(_UUID.match(c.value))


def lockfile_hash(c: Candidate) -> bool:
    """Integrity strings and digests: the value's shape and the field it is in decide, never the
    file's name alone (a token pasted into Cargo.lock is still a token). A hex digest of a hash's
    length is noise under a digest-naming field anywhere (``hashed_secret``, ``salt``,
    ``checksum``) and, in a lockfile, in the places its format puts checksums."""
    if _INTEGRITY.match(c.value):
        return True
    if not _HEX_DIGEST.match(c.value):
        return False
    if _DIGEST_NAME.search(c.key.encode() if c.key else _last_name(c.line.text[max(c.at - NAME_REACH, 0) : c.at])):
        return True
    return c.path.rsplit("/", 1)[-1] in _LOCKFILES and c.line.first_end(_CHECKSUM_POSITION) <= c.at


_NAME = lazy(rb"[A-Za-z0-9_.-]+")
NAME_REACH = 256  # how far before a value its field's name is looked for


def _last_name(before: bytes) -> bytes:
    """The last name-like word before the value: the field it is assigned to."""
    names = _NAME.findall(before)
    return names[-1] if names else b""


def filler(c: Candidate) -> bool:
    """Sequential or repeated filler such as aaaaaaaa, 12345678, abcdefgh, abcd1234abcd1234 (also
    when a repeated run covers most of the value: abcd1234abcd1234abcd1234--extra, or when the
    value holds a run such as dapi12345678901234…, xoxp-1234-1234-1234-…, 1a2b3c4d-5e6f-…)."""
    v = c.value.lower()
    if len(v) < 6:
        return False
    if max(v.count(ch) for ch in set(v)) / len(v) > 0.6:
        return True
    for unit in (1, 2, 3, 4, 8):
        if len(v) < unit * 3:
            continue
        pattern = v[:unit]
        run = 0
        while v.startswith(pattern, run):
            run += unit
        if run >= len(v) - unit + 1 or run / len(v) >= 0.75:
            return True
    if _mostly_ascending(v):
        return True
    # Generic detectors (keyword and entropy rules, context detectors) also drop values that hold
    # filler; provider formats keep theirs (xoxb-111111111111-…, AAAAAAAAAAAAAAAAAAAAA… are real).
    return c.rule.generic and _holds_filler(v)


# Filler inside a value: an ascending run (12345678, abcdefgh), a group typed three times
# (1234-1234-1234) or two interleaved sequences (1a2b3c4d-5e6f-…); a random value holds none of
# them (an 8-long run has odds of about 1 in 10^11).
SEQUENCE_RUN = 8
_REPEATED_GROUP = lazy(rb"([a-z0-9]{4,8})[-_.:]?\1[-_.:]?\1")


def _holds_filler(v: bytes) -> bool:
    if _ascending_run(v) >= SEQUENCE_RUN or _keyboard_run(v) >= SEQUENCE_RUN:
        return True
    # A group of two or more characters (a run of one character is judged on the whole value).
    if any(len(set(m.group(1))) > 1 for m in _REPEATED_GROUP.finditer(v)):
        return True
    plain = v.replace(b"-", b"")
    return len(plain) >= 12 and _mostly_ascending(plain[0::2]) and _mostly_ascending(plain[1::2])


def _mostly_ascending(v: bytes) -> bool:
    return sum(1 for a, b in zip(v, v[1:]) if b - a == 1) / (len(v) - 1) > 0.7


# Rows of a US keyboard, unshifted and shifted: a run along one (qwertyui, !@#$%^&*) is typed, not drawn.
_KEY_ROWS = (b"`1234567890-=", b"~!@#$%^&*()_+", b"qwertyuiop[]\\", b"asdfghjkl;'", b"zxcvbnm,./")
_NEXT_KEY = {row[i]: row[i + 1] for row in _KEY_ROWS for i in range(len(row) - 1)}


def _keyboard_run(v: bytes) -> int:
    """Length of the longest run of neighbouring keys along a keyboard row, left to right."""
    run = longest = 1 if v else 0
    for a, b in zip(v, v[1:]):
        run = run + 1 if _NEXT_KEY.get(a) == b else 1
        longest = max(longest, run)
    return longest


def _ascending_run(v: bytes) -> int:
    """Length of the longest run ascending by one (``3456`` in ``x3456y``: 4)."""
    run = longest = 1 if v else 0
    for a, b in zip(v, v[1:]):
        run = run + 1 if b - a == 1 else 1
        longest = max(longest, run)
    return longest


def reference(c: Candidate) -> bool:
    """The value points elsewhere (environment lookups, identifiers), it is not itself a secret."""
    if _REFERENCE.search(c.value):
        return True
    if _inside_reference(c):
        return True
    # Only assignment detectors see identifiers as values (password = user.password).
    return c.rule.generic and bool(_IDENTIFIER_PATH.match(c.value))


def _inside_reference(c: Candidate) -> bool:
    """Is the value itself (its own span) part of a reference on its line? A value elsewhere on
    the line is judged on its own, even if the same text occurs inside a reference there
    (``t = "ghp_..."  # see arn:aws:ssm:...:ghp_...``)."""
    starts, ends = c.line.references()
    i = bisect.bisect_right(starts, c.at) - 1
    return i >= 0 and c.at + len(c.value) <= ends[i]


_PROSE = lazy(rb"[A-Za-z]{2,}\s+[#@]?[A-Za-z]{2,}")
_CODE = lazy(
    rb"^(?:->|lambda\b|function\b|new |[:@][a-z_]+\b|[a-z_]+\(|\w+::|--[a-z]|\\[nrt]|#\{|\[[A-Z_]+\]|\.[a-z]+/)"
    # a keyword argument set to a language constant: ``Pass `override=True` to ...`` in prose
    rb"|^[A-Za-z_]\w*=(?:[Tt]rue|[Ff]alse|None|null|nil|undefined)$"
)


# Identifier words: camelCase or PascalCase words, no digits (apiKeySource, AWSSecretKey,
# AssumeRoleForPodIdentity); and words joined by - or _ (no-password-required).
_CAMEL_WORD = lazy(rb"[A-Z]{2,}(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_JOINED_WORDS = lazy(rb"^[A-Za-z]+(?:[-_][A-Za-z]+)+$")
_VOWELS = frozenset(b"aeiouyAEIOUY")


def prose(c: Candidate) -> bool:
    """Generic regex rules: a value made of words (docs, messages), of code (lambdas, symbols,
    calls) or naming something (a camelCase identifier; words joined by dashes that repeat the
    key's own name, as in ``NOPASSWORD = "no-password-required"``) is not a credential. Provider
    rules recognise their tokens by shape, and context detectors judge values themselves (a
    quoted PEM block in a .env file is a credential)."""
    if not c.rule.generic or c.rule.detector:
        return False
    v = c.value
    return bool(_PROSE.search(v) or _CODE.match(v)) or _identifier_words(v) or _names_key(v, c.key)


def _identifier_words(v: bytes) -> bool:
    """camelCase/PascalCase words of letters only, each word with a vowel (a random string of
    letters splits into vowel-less pieces: QTKknzFg)."""
    if not v.isalpha():
        return False
    words = _CAMEL_WORD.findall(v)
    if len(words) < 2 or b"".join(words) != v:
        return False
    return all(w.isupper() and len(w) <= 5 or any(ch in _VOWELS for ch in w) for w in words)


def _names_key(v: bytes, key: Optional[str]) -> bool:
    """Words joined by - or _ that share a word with the key (ACL_CREDENTIALS =
    "Access-Control-Allow-Credentials", AWS_SECRET_ACCESS_KEY: "test-secret-key")."""
    if not key or not _JOINED_WORDS.match(v):
        return False
    name = key.lower().encode()
    return any(len(w) >= 4 and w.lower() in name for w in re.split(rb"[-_]", v))


def test_fixture(c: Candidate) -> bool:
    """Generic detectors stay quiet in fixture and mock data; provider-specific rules do not."""
    return c.rule.generic and bool(_TEST_PATH.search(c.path))


# A provider name this long is rarely part of another word (splunk, confluent, may be fused into
# one: MYSPLUNKTOKEN); a shorter one often is (hec in checksum): it must start a word of the key.
FUSED_NAME = 6


def keyword_in_word(c: Candidate) -> bool:
    """Keyword-context rules (a provider's name in the key, a value of a common shape, such as 32
    hex digits or a UUID): the name must be a word of the key (``SPLUNK_HEC_TOKEN``, ``hecToken``),
    not letters inside another word (``checksum``, ``HealthCheckId`` hold ``hec``)."""
    if c.rule.generic or not c.key or not c.rule.keywords:
        return False
    key, lowered, found = c.key, c.key.lower(), False
    for kw in c.rule.keywords:
        i = lowered.find(kw.lower())
        while i >= 0:
            if len(kw) >= FUSED_NAME or _starts_word(key, i):
                return False
            found = True
            i = lowered.find(kw.lower(), i + 1)
    return found  # the name only inside other words (a keyword absent from the key is a value prefix)


def _starts_word(key: str, i: int) -> bool:
    if i == 0 or not key[i - 1].isalnum():
        return True
    before, here = key[i - 1], key[i]
    return (before.islower() and here.isupper()) or before.isdigit() != here.isdigit()


def identifier(c: Candidate) -> bool:
    """A value bound to a key that is camelCase words (``kafka:GetClusterPolicy``, an IAM action
    of a service named like a provider) names something; a key of that shape is random letters."""
    return c.key is not None and not c.rule.detector and _identifier_words(c.value)


def descriptor_key(c: Candidate) -> bool:
    """Generic rules: the key names something about a credential (``PASSWORD_HINT``,
    ``token_prefix``) or a value public by design (``authenticity_token``, ``csrf_token``), not a
    credential: the value found after it is not one (wherever the syntax cannot tell)."""
    if not c.rule.generic or c.rule.detector or not c.key:
        return False
    # Imported here: scanner.engine.context imports detectors.keys, which imports scanner.engine.
    from scanner.engine.context import credential_name

    return not credential_name(c.key)


_BASE64_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
# A base64 run this long before a value, with few separators in it, makes the value a piece of
# encoded data (random base64 has a + or / every 32 characters); a URL path before a token
# (graph.facebook.com/EAA..., /open-apis/bot/v2/hook/...) is short words between slashes.
ENCODED_REACH, ENCODED_SEPARATORS = 32, 8
ENCODED_LINE = 40  # a MIME or PEM body line is 64-76 characters of base64


def encoded_fragment(c: Candidate) -> bool:
    """The value is a slice of base64 data (a MIME attachment, a data: URI in an SVG), cut out
    where ``+`` or ``/`` made a word boundary: ``...uMC/EAAB...`` is no token."""
    text, at = c.line.text, c.at
    if at == 0 or text[at - 1] not in b"+/":
        return False
    start = at - 1
    while start > 0 and text[start - 1] in _BASE64_CHARS:
        start -= 1
    run = text[start:at]
    if len(run) >= ENCODED_REACH and (run.count(b"/") + run.count(b"+")) * ENCODED_SEPARATORS <= len(run):
        return True
    # Short run to the line's start: the line must be nothing but base64 (a MIME body line).
    body = text.strip()
    return len(body) >= ENCODED_LINE and not text[:start].strip() and all(ch in _BASE64_CHARS or ch == 61 for ch in body)


_NEXT_FIELD = lazy(rb"&[A-Za-z_][\w.-]{0,40}=")


def query_tail(c: Candidate) -> bool:
    """A generic value that ran on into a query string's next field (``password=passwd&dbname=app``):
    the value is the part before ``&``, and is judged by the other filters on its own."""
    if not c.rule.generic:
        return False
    m = _NEXT_FIELD.search(c.value)
    if m is None or m.start() == 0:
        return False
    return is_false_positive(replace(c, value=c.value[: m.start()])) is not None


# A value that is the password of a URI's userinfo: the scheme and user before it, "@host" after.
_USERINFO_BEFORE = lazy(rb"[A-Za-z][A-Za-z0-9+.-]{0,30}://(?P<user>[^\s:/?#@'\"<>`]{0,64}):$")
_USERINFO_HOST = lazy(rb"@(?P<host>[^\s/?#'\"<>`:@]{0,253})")
USERINFO_REACH = 100  # scheme and user name, at most
# A value that is HTTP Basic credentials: base64 of user:password after the scheme word.
_BASIC_BEFORE = lazy(rb"(?i)\bbasic\s{1,3}$")
# A value that is the second of a call's two string arguments, user then password (login calls).
_PAIR_BEFORE = lazy(rb"""\(\s{0,3}["'`](?P<user>[^"'`\r\n]{0,100})["'`]\s{0,3},\s{0,3}["'`]$""")
PAIR_REACH = 120


def userinfo(c: Candidate) -> bool:
    """A ``user:password`` pair that is documentation or a default (see
    detectors.keys.placeholder_userinfo: ``user:pass``, ``guest:guest``, ``@example.com``), as the
    password of ``scheme://user:password@host``, as Basic credentials (judged decoded; with no
    password the user part is the credential, an API key), or as ``login('user', 'password')``
    arguments (an e-mail user's domain is judged as the host)."""
    text = c.line.text
    if _BASIC_BEFORE.search(text, max(c.at - 12, 0), c.at):
        keys = _keys()
        plain = keys.decoded_text(c.value.decode("latin-1"))
        user, sep, password = (plain or "").partition(":")
        return bool(sep) and (keys.placeholder_userinfo(user, password, "") if password
                              else keys.placeholder_userinfo("", user, ""))
    pair = _PAIR_BEFORE.search(text, max(c.at - PAIR_REACH, 0), c.at)
    if pair is not None:
        user = pair.group("user").decode("latin-1")
        return _keys().placeholder_userinfo(user, c.value.decode("latin-1"),
                                            user.rpartition("@")[2] if "@" in user else "")
    host = _USERINFO_HOST.match(text, c.at + len(c.value))
    if host is None:
        return False
    before = _USERINFO_BEFORE.search(text, max(c.at - USERINFO_REACH, 0), c.at)
    if before is None:
        return False
    return _keys().placeholder_userinfo(
        before.group("user").decode("latin-1"), c.value.decode("latin-1"), host.group("host").decode("latin-1")
    )


def _keys():
    """scanner.detectors.keys, imported when a value is found to be a user:password pair: it
    imports scanner.engine (entropy), whose package imports this module, and most candidates (a
    pre-commit change's token) never need its ~3 ms of import."""
    from scanner.detectors import keys

    return keys


FILTERS: dict[str, Callable[[Candidate], bool]] = {
    "placeholder": placeholder,
    "template": template,
    "known_example": known_example,
    "uuid": uuid,
    "lockfile_hash": lockfile_hash,
    "filler": filler,
    "reference": reference,
    "test_fixture": test_fixture,
    "prose": prose,
    "descriptor_key": descriptor_key,
    "keyword_in_word": keyword_in_word,
    "identifier": identifier,
    "encoded_fragment": encoded_fragment,
    "query_tail": query_tail,
    "userinfo": userinfo,
}


def is_false_positive(c: Candidate) -> Optional[str]:
    """Name of the first filter that rejects the candidate, or None."""
    for name, pred in FILTERS.items():
        if name not in c.rule.skip_filters and pred(c):
            return name
    return None
