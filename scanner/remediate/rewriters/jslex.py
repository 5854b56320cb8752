"""A small JavaScript/TypeScript lexer: where the string literals are (quotes, template literals)
and, for each, what encloses it: a function body, an object literal, a class body or a block.
Enough to tell code that runs at import from code that runs when a function is called, without a
full parser (comments and regular expression literals are skipped so their quotes do not count)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_IDENT_END = re.compile(r"[\w$]+$")
_CLASS_HEAD = re.compile(r"\bclass\b[^{};]*$")  # class X extends Y implements Z {
_REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^") | {""}
_REGEX_KEYWORDS = {"return", "typeof", "case", "do", "else", "in", "of", "void", "yield", "await", "delete"}
_BLOCK_KEYWORDS = {"else", "try", "finally", "do"}


@dataclass
class Literal:
    start: int  # the opening quote
    end: int  # after the closing quote
    quote: str  # ', " or `
    enclosing: tuple[str, ...]  # "fn", "obj", "class", "block" from outermost to innermost

    @property
    def in_function(self) -> bool:
        return "fn" in self.enclosing


def _prev_significant(text: str, i: int) -> tuple[str, int]:
    """The last non-space character before ``i`` and its index ('' at the start)."""
    j = i - 1
    while j >= 0 and text[j].isspace():
        j -= 1
    return (text[j], j) if j >= 0 else ("", -1)


def _brace_kind(text: str, i: int) -> str:
    ch, j = _prev_significant(text, i)
    if ch == ")" or (ch == ">" and j > 0 and text[j - 1] == "="):
        return "fn"
    word = _IDENT_END.search(text[max(0, j - 40) : j + 1]) if ch else None
    if word and word.group(0) in _BLOCK_KEYWORDS:
        return "block"
    if _CLASS_HEAD.search(text[max(0, i - 200) : i]):
        return "class"
    return "obj"


def _regex_allowed(text: str, i: int) -> bool:
    ch, j = _prev_significant(text, i)
    if ch in _REGEX_AFTER:
        return True
    word = _IDENT_END.search(text[max(0, j - 20) : j + 1]) if ch else None
    return bool(word and word.group(0) in _REGEX_KEYWORDS)


def _skip_regex(text: str, i: int) -> int:
    j, in_class = i + 1, False
    while j < len(text) and text[j] != "\n":
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            return j + 1
        j += 1
    return i + 1  # not a regex after all: a division


def _skip_quoted(text: str, i: int, quote: str) -> int:
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == quote or (c == "\n" and quote != "`"):
            return j + 1
        if quote == "`" and text.startswith("${", j):
            return j  # a substitution: the caller continues in code
        j += 1
    return j


def literals(text: str) -> list[Literal]:
    """Every string and template literal, in order (a template with substitutions is one literal
    per text part, each spanning its part's delimiters)."""
    return _scan(text)[0]


def blocks(text: str) -> list[tuple[int, int, str]]:
    """Every brace pair: (open, close, kind)."""
    return _scan(text)[1]


def _scan(text: str) -> tuple[list[Literal], list[tuple[int, int, str]]]:
    out: list[Literal] = []
    closed: list[tuple[int, int, str]] = []
    opened: list[int] = []
    stack: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i) if text.find("\n", i) != -1 else n
        elif text.startswith("/*", i):
            i = text.find("*/", i + 2) + 2 if text.find("*/", i + 2) != -1 else n
        elif c in "'\"`":
            i = _literal(text, i, c, stack, out)
        elif c == "}" and stack and stack[-1] == "tpl":
            stack.pop()
            i = _literal(text, i, "`", stack, out, resume=True)
        elif c == "{":
            stack.append(_brace_kind(text, i))
            opened.append(i)
            i += 1
        elif c == "}":
            if stack:
                closed.append((opened.pop(), i, stack.pop()))
            i += 1
        elif c == "/" and _regex_allowed(text, i):
            i = _skip_regex(text, i)
        else:
            i += 1
    return out, closed


def _literal(text: str, i: int, quote: str, stack: list[str], out: list[Literal], resume: bool = False) -> int:
    end = _skip_quoted(text, i, quote)
    enclosing = tuple(k for k in stack if k != "tpl")
    out.append(Literal(i, end if not text.startswith("${", end) else end + 2, quote, enclosing))
    if quote == "`" and text.startswith("${", end):
        stack.append("tpl")
        return end + 2
    return end
