"""Syntax confirmation of generic candidates: judge the code, not only the characters.

The generic rules (``generic: true``: keyword and entropy detectors) find a credential-like name
followed by something value-like on one line. Real code is full of look-alikes the characters
alone cannot tell apart: ``def verify(client_secret=None)``, ``check_token(BlockStartToken)``,
``key: Union["_RSAPrivateKey", ...]``, prose such as ``pass `instance_writer: false```. Here a
real parser (tree-sitter, one precompiled grammar per language) reads the lines around each
generic candidate that survived the cheaper filters, and the candidate counts only when its
value is

- a string literal (or, in config syntaxes, a scalar) bound to the credential-like name: an
  assignment, a keyword argument, a dict/object/hash entry, a comparison, the first argument of a
  setter or builder named for the credential (``setPassword("…")``), a ``("password", "…")`` key
  and value pair of arguments, or a command-line flag's value (``--password "…"``); or a
  ``key=value`` text inside one literal (a connection string, a query string);
- never an identifier, attribute path, call, number, ``None``/``null``/``nil``, regex literal,
  type annotation or symbol;
- in a comment, a docstring or Markdown prose, only when the value is token-shaped (long, random,
  letters and digits): a password-like word there is an example, not a leak.

Files in a language without a grammar here (and a parser that cannot be loaded) keep the regex
rules' own judgement. Only generic candidates are parsed, and only a window of lines around
them: the directory scan of a whole repository parses a few hundred windows.

Registry: ``GRAMMARS`` (language name -> node types of its grammar that matter) and
``LANGUAGES`` (file extension or name -> language name), plain dicts read by :func:`language_for`.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from typing import Callable, Optional

from scanner.detectors import keys
from scanner.engine.entropy import shannon


@dataclass(frozen=True)
class Grammar:
    """What one tree-sitter grammar calls the nodes the judgement needs."""

    ts: str  # the grammar's name in tree-sitter-language-pack
    literals: frozenset[str]  # string literals and config scalars: a value must lie in one
    comments: frozenset[str]
    types: frozenset[str] = frozenset()  # type annotations: a string there names a type
    opaque: frozenset[str] = frozenset()  # never a credential, whatever is inside: regex literals, symbols
    # A literal alone in one of these is a docstring or a stray string statement (prose).
    statements: frozenset[str] = frozenset()
    prose: frozenset[str] = frozenset()  # text nodes that are prose (JSX text, PHP's inline HTML)


def _grammar(ts: str, literals: str, comments: str, types: str = "", opaque: str = "", statements: str = "",
             prose: str = "") -> Grammar:
    return Grammar(ts, *(frozenset(s.split()) for s in (literals, comments, types, opaque, statements, prose)))


_TS_TYPES = "type_annotation type_arguments type_parameters literal_type predefined_type type_identifier generic_type"
GRAMMARS: dict[str, Grammar] = {
    "python": _grammar("python", "string concatenated_string", "comment", "type", "",
                       "module block expression_statement"),
    "ruby": _grammar("ruby", "string heredoc_body bare_string string_array", "comment", "", "regex simple_symbol"),
    "javascript": _grammar("javascript", "string template_string", "comment", "", "regex", "expression_statement",
                           "jsx_text"),
    "typescript": _grammar("typescript", "string template_string", "comment", _TS_TYPES, "regex",
                           "expression_statement"),
    "tsx": _grammar("tsx", "string template_string", "comment", _TS_TYPES, "regex", "expression_statement", "jsx_text"),
    "go": _grammar("go", "interpreted_string_literal raw_string_literal", "comment", "type_identifier qualified_type"),
    "java": _grammar("java", "string_literal text_block", "line_comment block_comment", "type_identifier generic_type"),
    "kotlin": _grammar("kotlin", "string_literal multiline_string_literal", "line_comment multiline_comment",
                       "user_type"),
    "php": _grammar("php", "encapsed_string string heredoc nowdoc", "comment", "named_type", "", "", "text"),
    "csharp": _grammar("csharp", "string_literal verbatim_string_literal raw_string_literal "
                       "interpolated_string_expression", "comment", "predefined_type generic_name"),
    "bash": _grammar("bash", "string raw_string word concatenation heredoc_body ansi_c_string", "comment"),
    "yaml": _grammar("yaml", "double_quote_scalar single_quote_scalar plain_scalar block_scalar", "comment"),
    "json": _grammar("json", "string", "comment"),
    "toml": _grammar("toml", "string integer", "comment"),
    "ini": _grammar("ini", "setting_value", "comment"),
}

LANGUAGES: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".rb": "ruby", ".rake": "ruby", ".gemspec": "ruby", ".ru": "ruby", "rakefile": "ruby", "gemfile": "ruby",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go", ".java": "java", ".kt": "kotlin", ".kts": "kotlin", ".php": "php", ".cs": "csharp",
    ".sh": "bash", ".bash": "bash", ".zsh": "bash", ".bashrc": "bash", ".zshrc": "bash", ".profile": "bash",
    ".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml",
    ".ini": "ini", ".cfg": "ini", ".conf": "ini", ".properties": "ini",
    ".md": "markdown", ".markdown": "markdown", ".mdx": "markdown",
}
# A Markdown code fence's info string (```irb) -> language.
FENCE_LANGUAGES: dict[str, str] = {
    "py": "python", "python3": "python", "pycon": "python", "rb": "ruby", "irb": "ruby", "js": "javascript",
    "node": "javascript", "jsx": "javascript", "ts": "typescript", "golang": "go", "cs": "csharp",
    "c#": "csharp", "sh": "bash", "shell": "bash", "zsh": "bash", "console": "bash", "yml": "yaml",
    "jsonc": "json", "cfg": "ini", "conf": "ini", "properties": "ini", "dosini": "ini",
}


COMPRESSED = (".gz", ".bz2", ".xz", ".zst")


def language_for(path: str) -> Optional[str]:
    """The language of a file by its name, or None (no grammar: the regex rules judge alone)."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    for suffix in COMPRESSED:  # a compressed file is scanned decompressed: service-2.json.gz is JSON
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name in LANGUAGES:
        return LANGUAGES[name]
    dot = name.rfind(".")
    return LANGUAGES.get(name[dot:]) if dot >= 0 else None


# -- what a candidate's value must look like ------------------------------------------------------

# Binding operators: assignment, key/value, default value; comparisons (either side).
ASSIGN = frozenset({"=", ":=", ":", "=>", "<-", "||=", "?=", "??=", "::="})
COMPARE = frozenset({"==", "!=", "===", "!==", "eq", "ne", "-eq", "-ne"})
# Words a setter or builder named for a credential is made of (``setApiKey``, ``withClientSecret``,
# ``password``); a call named for an action on it (``check_token``, ``generate_private_key``,
# ``authenticate_password``) takes data, not the credential.
_CALL_PREFIXES = frozenset({"set", "with", "use", "put"})
_CREDENTIAL_WORDS = frozenset(
    "api key keys secret secrets token tokens password passwd pwd pass passphrase private access auth "
    "client credential credentials creds bearer session signing master app consumer license hmac salt "
    "encryption refresh webhook db database service account basic".split()
)
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_NAME_PARTS = re.compile(r"[^\w-]+")
# ``key=value`` text inside one literal: the key starts a field, then = or : (or =>) and the value.
_EMBEDDED_SEPARATOR = re.compile(rb"""^["'`]?\s{0,4}(?:=>?|:)\s{0,4}["'`]?$""")
_FIELD_START = re.compile(rb"""[\s&?;,{(\["'`]""")

TOKEN_MIN_LENGTH, TOKEN_MIN_ENTROPY = 16, 3.5


_TOKEN_ALPHABET = re.compile(rb"^[A-Za-z0-9+/=_.~-]+$")


def token_shaped(value: bytes) -> bool:
    """Does the value look like a machine-made token: long, random, of a token alphabet (base64,
    base64url, hex, alphanumerics), with letters and digits? What a value must be to count in a
    comment, a docstring or prose. A path (``mock_key/2022/us-east-1``) mixes ``/`` with ``_`` or
    ``-``, which no single base64 alphabet does."""
    if len(value) < TOKEN_MIN_LENGTH or not _TOKEN_ALPHABET.match(value):
        return False
    if b"/" in value and (b"_" in value or b"-" in value):
        return False
    has_digit = any(48 <= c <= 57 for c in value)
    has_alpha = any(65 <= c <= 90 or 97 <= c <= 122 for c in value)
    return has_digit and has_alpha and shannon(value) >= TOKEN_MIN_ENTROPY


def last_name(text: str) -> str:
    """The last component of a name, lowercased: ``self.password`` -> ``password``,
    ``config["api_key"]`` -> ``api_key``, ``--token`` -> ``token``, ``$pwd`` -> ``pwd``."""
    parts = [p.strip("-") for p in _NAME_PARTS.split(text.lower())]
    parts = [p for p in parts if p]
    return parts[-1] if parts else ""


# Last words that name something about a credential, not the credential (TOKEN_PREFIX,
# API_KEY_SOURCE): the context detectors' list, less the words the generic rules treat as
# credentials themselves (a salt, an auth value).
@functools.lru_cache(maxsize=1)
def _descriptors() -> frozenset[str]:
    # Read on first use: scanner.detectors.keys imports scanner.engine (entropy) in turn.
    return keys.NOT_LAST - {"salt", "auth", "pem"}


def credential_name(name: str) -> bool:
    """Can a name the syntax binds a value to hold a credential? Not when its last word
    describes one (``SESSION_TOKEN_PREFIX``, ``PROP_API_KEY_SOURCE``), it is public by design
    or an anti-forgery token (``authenticity_token``), or a cursor (``NextContinuationToken``)."""
    words = keys.tokens(name)
    return (bool(words) and words[-1] not in _descriptors() and not keys.PUBLIC.intersection(words)
            and not keys.not_access_token(words))


def names_credential(callee: str) -> bool:
    """Is a function of this name a setter or builder of a credential (its argument is the
    credential) rather than an action on one?"""
    words = [w.lower() for w in _WORDS.findall(callee)]
    if words and words[0] in _CALL_PREFIXES:
        words = words[1:]
    return bool(words) and all(w in _CREDENTIAL_WORDS for w in words)


# -- verdicts ---------------------------------------------------------------------------------------

KEEP = frozenset({"bound", "embedded", "standalone", "token-in-prose", "unknown-language", "uncertain"})


class Parsers:
    """Tree-sitter parsers by language, loaded on first use; the package is imported only when a
    file needs one. None when the grammar cannot be loaded (then the regex rules judge alone)."""

    def __init__(self) -> None:
        self._parsers: dict[str, object] = {}

    def get(self, lang: str):
        if lang not in self._parsers:
            self._parsers[lang] = _load_parser(GRAMMARS[lang].ts if lang in GRAMMARS else lang)
        return self._parsers[lang]


def _load_parser(name: str):
    try:
        from tree_sitter_language_pack import get_parser
    except ImportError:
        return None
    try:
        return get_parser(name)  # type: ignore[arg-type]
    except (LookupError, ValueError, OSError):
        return None


# Windows: the lines around a candidate, aligned to blocks of BLOCK lines so that candidates close
# together share one parse. A window that cuts a construct open at its start (a docstring, a
# comment, a statement) or leaves a string open grows, (lines back, lines ahead) at a time, and
# at last becomes the whole file (at most MAX_WINDOW around the value).
BLOCK = 16
SPANS = ((24, 4), (96, 32), (384, 128))
MAX_WINDOW = 512 * 1024
# A fence line, at any indentation (fences nest in list items).
_FENCE = re.compile(rb"(?m)^[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)")
MARKDOWN_BACK = 200  # lines looked back for the start of a Markdown block


class Syntax:
    """The syntax judgement for one file: parses windows of it on demand and remembers them."""

    def __init__(self, path: str, data: bytes, parsers: Parsers, tally: Optional[Callable[[str, int], None]] = None):
        self.data = data
        self.lang = language_for(path)
        self._parsers = parsers
        self._tally = tally
        self._line_starts: Optional[list[int]] = None
        self._trees: dict[tuple[str, int, int], object] = {}
        self._fences: Optional[list[tuple[int, int, int, str]]] = None
        self._budget = 8 * len(data) + MAX_WINDOW  # bytes parsed at most; then windows stop growing

    def confirms(self, start: int, end: int, key: Optional[str]) -> bool:
        return self.verdict(start, end, key) in KEEP

    def verdict(self, start: int, end: int, key: Optional[str]) -> str:
        """Why the value at ``data[start:end]`` (assigned to ``key`` by the regex) counts or not:
        one of KEEP, or ``code``, ``opaque``, ``unbound``, ``prose``, ``data``."""
        lang = self.lang
        if lang is None:
            return "unknown-language"
        lo, hi = 0, len(self.data)
        if lang == "markdown":
            lang, lo, hi = self._markdown(start)
            if lang is None:
                return "unknown-language"
            if lang == "prose":
                return self._in_prose(start, end, key)
        if lang not in GRAMMARS or self._parsers.get(lang) is None:
            return "unknown-language"
        return self._judge(lang, start, end, key, lo, hi)

    # -- parsing windows ----------------------------------------------------------------------
    def _lines(self) -> list[int]:
        if self._line_starts is None:
            data = self.data
            starts, i = [0], data.find(b"\n")
            while i >= 0:
                starts.append(i + 1)
                i = data.find(b"\n", i + 1)
            self._line_starts = starts
        return self._line_starts

    def _tree(self, lang: str, start: int, end: int, lo: int, hi: int):
        """The parse of a window around ``data[start:end]`` within ``data[lo:hi]``, and the
        window's offset."""
        starts = self._lines()
        n = len(starts)
        line = bisect.bisect_right(starts, start) - 1
        last = bisect.bisect_right(starts, max(end - 1, start)) - 1
        block = line - line % BLOCK
        tree, a = None, lo
        for back, ahead in SPANS:
            a = max(starts[max(block - back, 0)], lo)
            b_line = max(block + BLOCK, last + 1) + ahead
            b = min(starts[b_line] if b_line < n else len(self.data), hi)
            tree = self._parse(lang, a, b)
            if not _unsettled(tree.root_node, start - a, self.data, a) or (a == lo and b == hi):
                return tree, a
        if self._budget > 0:
            a, b = max(lo, start - MAX_WINDOW // 2), min(hi, end + MAX_WINDOW // 2)
            tree = self._parse(lang, a, b)
        return tree, a

    def _parse(self, lang: str, a: int, b: int):
        key = (lang, a, b)
        tree = self._trees.get(key)
        if tree is None:
            self._budget -= b - a
            if self._tally is not None:
                self._tally("context", b - a)
            tree = self._trees[key] = self._parsers.get(lang).parse(self.data[a:b])
        return tree

    # -- judging --------------------------------------------------------------------------------
    def _judge(self, lang: str, start: int, end: int, key: Optional[str], lo: int, hi: int) -> str:
        g = GRAMMARS[lang]
        tree, base = self._tree(lang, start, end, lo, hi)
        root = tree.root_node
        node = root.descendant_for_byte_range(start - base, end - base)
        kind, held = _classify(node, g)
        if kind == "comment" or kind == "prose":
            return self._in_prose(start, end, key)
        if kind == "opaque":
            return kind  # a regex literal, a symbol, a type
        line_start = self.data.rfind(b"\n", base, start) + 1
        line_end = self.data.find(b"\n", end)
        if _broken(root, line_start - base, (len(self.data) if line_end < 0 else line_end) - base):
            return "uncertain"  # a line the parser cannot read (not this language, a template): the regex decides
        if kind == "typed-literal":
            # A string in a type annotation is a type's name (``"_RSAPrivateKey"``); anything else
            # there (``db_pass: 'A,.:-@*?!'``) is not what an annotation holds.
            value = self.data[start:end]
            return "opaque" if _TYPE_TEXT.match(value) and not token_shaped(value) else "uncertain"
        if kind == "code":
            return kind
        if key is None:
            # Keyless rules (a random-looking literal alone on its line): a literal, not prose,
            # and not bound to a name that says what else it is (DEFAULT_HOST_ID, checksum).
            if _statement(held, g):
                return "prose"
            if _fragment(held, g) or _in_table(_lift(held), g, self.data, base):
                return "data"
            name = _binding_name(_lift(held), g, self.data, base)
            return "unbound" if name is not None and not credential_name(name) else "standalone"
        if _statement(held, g):
            return self._in_prose(start, end, key)
        return self._bound(held, g, start, key, base)

    def _in_prose(self, start: int, end: int, key: Optional[str]) -> str:
        return "token-in-prose" if key is not None and token_shaped(self.data[start:end]) else "prose"

    def _bound(self, lit, g: Grammar, start: int, key: str, base: int) -> str:
        """Is the literal holding the value bound to the key's name?"""
        data = self.data
        kbytes = key.encode("utf-8", "replace")
        kpos = data.rfind(kbytes, base + lit.start_byte, start)
        if kpos >= 0:  # the key is in the same literal: key=value text (a DSN, a query string)
            before = data[kpos - 1 : kpos] if kpos > base + lit.start_byte else b" "
            between = data[kpos + len(kbytes) : start]
            return "embedded" if _FIELD_START.match(before) and _EMBEDDED_SEPARATOR.match(between) else "unbound"
        name = _binding_name(_lift(lit), g, data, base)
        # The syntax's name must be the one the regex took for the key (the last part of
        # ``self.password``; the receiver of ``password.equals``).
        if name is None or last_name(name) not in (last_name(key), last_name(_method(key)[0])):
            return "unbound"
        return "bound" if credential_name(name) else "unbound"

    # -- Markdown -------------------------------------------------------------------------------
    def _markdown(self, start: int) -> tuple[Optional[str], int, int]:
        """Where a value in a Markdown file is: in a fenced code block of a known language
        (that language and the block's bounds), in prose (``"prose"``), or somewhere else
        (indented code, HTML, a fence of unknown language: None)."""
        for open_at, body, close, info in self._fence_list():
            if body <= start < close:
                lang = FENCE_LANGUAGES.get(info, info)
                return (lang if lang in GRAMMARS else None), body, close
            if open_at > start:
                break
        return self._markdown_block(start), 0, len(self.data)

    def _fence_list(self) -> list[tuple[int, int, int, str]]:
        """Fenced code blocks as (fence start, body start, body end, info string), in order."""
        if self._fences is None:
            fences, it = [], _FENCE.finditer(self.data)
            for m in it:
                mark, info = m.group(1), m.group(2).decode("ascii", "replace").lower()
                close = next((c for c in it if c.group(1)[:1] == mark[:1] and len(c.group(1)) >= len(mark) and not c.group(2)), None)
                body = min(m.end() + 1, len(self.data))
                fences.append((m.start(), body, close.start() if close else len(self.data), info))
                if close is None:
                    break
            self._fences = fences
        return self._fences

    def _markdown_block(self, start: int) -> Optional[str]:
        """Prose, or None for indented code and HTML blocks (judged by the regex rules alone).
        The parse starts at the block around the value: back to a line at the margin after a
        blank line (a list item's indented paragraphs belong to the item, not to a code block)."""
        if self._parsers.get("markdown") is None:
            return None
        data, starts = self.data, self._lines()
        line = bisect.bisect_right(starts, start) - 1
        a_line = line
        while a_line > 0 and line - a_line < MARKDOWN_BACK:
            text = data[starts[a_line] : starts[a_line] + 1]
            if text not in (b" ", b"\t", b"\n", b"\r", b"") and not data[starts[a_line - 1] : starts[a_line]].strip():
                break  # a block at the margin
            a_line -= 1
        a = starts[a_line]
        for open_at, body, close, _ in self._fence_list():
            if body <= a < close:  # the block starts in a fence that closes before the value
                a = open_at
        b = starts[line + 1] if line + 1 < len(starts) else len(data)
        tree = self._parse("markdown", a, b)
        node = tree.root_node.descendant_for_byte_range(start - a, start - a + 1)
        while node is not None:
            if node.type in ("indented_code_block", "html_block", "fenced_code_block"):
                return None
            node = node.parent
        return "prose"


def _classify(node, g: Grammar) -> tuple[str, object]:
    """What holds the value: ``comment``, ``prose``, ``opaque``, ``typed-literal`` (a string in a
    type annotation), ``literal`` (with the outermost literal node), or ``code`` (an identifier,
    a call, a number, a keyword constant)."""
    lit = None
    inner = True  # still in the run of literal nodes that starts at the value
    while node is not None:
        t = node.type
        if t in g.comments:
            return "comment", node
        if t in g.prose:
            return "prose", node
        if t in g.opaque:
            return "opaque", node
        if t in g.types:
            return ("typed-literal" if lit is not None else "opaque"), node
        if t in g.literals and (lit is None or inner):
            lit = node
        elif lit is not None:
            inner = False
        node = node.parent
    return ("literal", lit) if lit is not None else ("code", None)


# A literal of a table's shape (quotes, blanks and string prefixes aside): hex, base64 or token
# characters, 16 or more.
_TABLE_ITEM = re.compile(rb"^[A-Za-z0-9+/=_-]{16,}$")
_QUOTES_AND_BLANKS = re.compile(rb"""(?:^|(?<=["'`\s+]))[bBrRuUfF]{1,2}(?=["'])|["'`\s+]""")
# Other literals of that shape beside it: one in a list, tuple or array; two among a call's
# arguments (a client id and its secret passed together are no table).
TABLE_SIBLINGS, CALL_SIBLINGS = 1, 2


def _fragment(lit, g: Grammar) -> bool:
    """Is the literal one piece of a longer string: adjacent literals (``"ab" "cd"``) or a ``+``
    chain of literals? A hex or base64 value split over lines is a longer blob (a ciphertext, a
    signature), not a value of the length one piece has."""
    if sum(1 for c in lit.named_children if c.type in g.literals) >= 2:
        return True
    node = _lift(lit)
    parent = node.parent
    if parent is None or not any(not c.is_named and c.type == "+" for c in parent.children):
        return False
    return any(c.id != node.id and _is_literal(c, g) or _has_plus(c) for c in parent.named_children)


def _has_plus(node) -> bool:
    return any(not c.is_named and c.type == "+" for c in node.children)


def _literal_chain(node, g: Grammar) -> bool:
    """A literal, or literals joined by ``+``."""
    if _is_literal(node, g):
        return True
    return _has_plus(node) and all(_literal_chain(c, g) for c in node.named_children)


def _in_table(node, g: Grammar, data: bytes, base: int) -> bool:
    """Is the literal one row or column of a table: a list, tuple or argument list holding other
    literals of its shape (test vectors, digests, UUID spellings)? A keyless value there is data."""
    parent = node.parent
    if parent is None:
        return False
    need = CALL_SIBLINGS if "argument" in parent.type else TABLE_SIBLINGS
    alike = 0
    for c in parent.named_children:
        if c.id == node.id or not _literal_chain(c, g):
            continue
        if _TABLE_ITEM.match(_QUOTES_AND_BLANKS.sub(b"", data[base + c.start_byte : base + c.end_byte])):
            alike += 1
            if alike >= need:
                return True
    return False


def _statement(lit, g: Grammar) -> bool:
    """A literal standing alone as a statement: a docstring, a stray string."""
    parent = lit.parent
    if parent is None or parent.type not in g.statements:
        return False
    return parent.type in ("module", "block") or parent.named_child_count == 1


# Parentheses around one expression: ``X = ("…")``, a literal wrapped to fit the line.
_PARENTHESIZED = frozenset({"parenthesized_expression", "parenthesized_statements"})


def _lift(node):
    """The node that stands for the literal among its siblings: up through wrappers that hold
    nothing else (Go's expression_list, YAML's flow_node, PHP's argument) and parentheses."""
    while node.parent is not None and node.parent.parent is not None and (
        node.parent.child_count == 1 or node.parent.type in _PARENTHESIZED and node.parent.named_child_count == 1
    ):
        node = node.parent
    return node


def _before(node):
    """The sibling before ``node``, or before its parent when it is the first child (the
    function before an argument list's ``(``); comments are skipped."""
    while node is not None:
        prev = node.prev_sibling
        while prev is not None and prev.type == "comment":
            prev = prev.prev_sibling
        if prev is not None:
            return prev
        node = node.parent
        if node is None or node.type in ("program", "module", "source_file", "document"):
            return None
    return None


def _binding_name(lit, g: Grammar, data: bytes, base: int) -> Optional[str]:
    """The name the literal is bound to (assigned, passed as a keyword or first setter argument,
    compared with, given after a flag), as source text; None when it is bound to no name."""
    prev = _before(lit)
    if prev is not None and not prev.is_named:
        return _by_operator(prev, g, data, base)
    name = _compared_after(lit, data, base)
    if name is not None:
        return name
    if prev is not None and prev.is_named and data[base + prev.start_byte : base + prev.start_byte + 1] == b"-":
        return _text(prev, data, base)  # a command-line flag: --password "..."
    return None


def _by_operator(op, g: Grammar, data: bytes, base: int) -> Optional[str]:
    """The name bound by the operator just before the literal."""
    kind = op.type
    if kind in ASSIGN or kind in COMPARE:
        name = _skip_types(_before(op), g)
        return _text(name, data, base) if name is not None else None
    if kind == "(":  # the first argument of a call
        receiver, method = _method(_callee(op, data, base))
        if method.lower() in EQUALITY and receiver:
            return receiver  # password.equals("…")
        return method if names_credential(method) else None
    if kind == ",":  # ("password", "…"): a key and its value as a call's first two arguments
        first = _before(op)
        if first is not None and _is_literal(first, g) and _opens_call(_before(first)):
            return _text(first, data, base)
    return None


def _compared_after(lit, data: bytes, base: int) -> Optional[str]:
    """The name a literal on the left of a comparison is compared with: ``"…" == password``,
    ``"…".equals(password)``."""
    op = lit.next_sibling
    if op is None or op.is_named or op.next_sibling is None:
        return None
    if op.type in COMPARE:
        return _text(op.next_sibling, data, base)
    method, args = op.next_sibling, op.next_sibling.next_sibling
    if op.type == "." and args is not None and _text(method, data, base).lower() in EQUALITY:
        return _text(args, data, base).strip("() ")
    return None


def _callee(paren, data: bytes, base: int) -> str:
    """The source text of what is called with the argument list ``paren`` opens
    (``builder.setPassword``, ``password.equals``)."""
    args = paren.parent
    if args is not None and args.start_byte == paren.start_byte and args.parent is not None:
        call = args.parent
        if call.start_byte < args.start_byte:
            return data[base + call.start_byte : base + args.start_byte].decode("utf-8", "replace")
    callee = _before(paren)
    return _text(callee, data, base) if callee is not None else ""


# Methods that compare their receiver with their argument.
EQUALITY = frozenset({"equals", "equalsignorecase", "eql?", "equal?", "compare", "secure_compare", "timingsafeequal"})
def _method(callee: str) -> tuple[str, str]:
    """A callee's receiver and method name: ``builder.setPassword`` -> (builder, setPassword)."""
    callee = callee.strip()
    i = len(callee)
    while i > 0 and (callee[i - 1].isalnum() or callee[i - 1] in "_?!"):
        i -= 1
    receiver = callee[:i]
    for separator in ("&.", ".", "->", "::"):
        if receiver.endswith(separator):
            return receiver[: -len(separator)], callee[i:]
    return receiver, callee[i:]


def _skip_types(node, g: Grammar):
    """Step back over a type annotation (``password: str = "…"``, ``var key string = "…"``)."""
    while node is not None and (node.type in g.types or node.type == ":"):
        node = _before(node)
    return node


def _is_literal(node, g: Grammar) -> bool:
    while node is not None:
        if node.type in g.literals:
            return True
        if node.named_child_count != 1:
            return False
        node = node.named_children[0]
    return False


def _opens_call(node) -> bool:
    return node is not None and not node.is_named and node.type == "("


def _text(node, data: bytes, base: int) -> str:
    return data[base + node.start_byte : base + node.end_byte].decode("utf-8", "replace")


_TYPE_TEXT = re.compile(rb"^[\w.\[\], |]+$")


def _broken(node, a: int, b: int) -> bool:
    """Does a syntax error (or a token the parser had to invent) start within ``[a, b)``?"""
    for child in node.children:
        if child.end_byte <= a or (child.start_byte >= b and child.start_byte > a):
            continue
        if (child.is_error or child.is_missing) and a <= child.start_byte < b:
            return True
        if child.has_error and _broken(child, a, b):
            return True
    return False


_OPENER = re.compile(rb"""^[A-Za-z@$]{0,3}(?:["'`]|/\*|<<|=begin)""")


def _unsettled(node, offset: int, data: bytes, base: int) -> bool:
    """Does the parse show that the window cuts a construct: an error that ends before the value
    (the window starts inside a docstring, a comment or a statement), or a literal left open
    anywhere (a string or comment opened before the value and closed after the window, or the
    closing half of one opened before it)? Errors that merely contain the value (a block left
    open at the window's end) do not count: the value's own surroundings are still parsed."""
    if not node.has_error:
        return False
    for child in node.children:
        if child.start_byte >= offset and not child.has_error:
            continue
        if child.is_missing and child.end_byte <= offset:
            return True
        if child.is_error:
            if child.end_byte <= offset or _dangling(child, data, base):
                return True
        if child.has_error and _unsettled(child, offset, data, base):
            return True
    return False


def _dangling(error, data: bytes, base: int) -> bool:
    """An error node holding a lone literal opener (a quote, ``/*``, a heredoc start)."""
    for child in error.children:
        if child.child_count == 0 and _OPENER.match(data[base + child.start_byte : base + child.end_byte]):
            return True
    return False


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """Can the grammars be loaded here? (They ship precompiled in tree-sitter-language-pack.)"""
    return Parsers().get("python") is not None
