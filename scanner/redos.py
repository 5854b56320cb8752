"""Static proof that a regex cannot backtrack catastrophically under Python's ``re``.

``re`` is a backtracking engine: a repeat whose iterations can split the same text in many ways
(``(a+)+``, ``(\\w+\\s?)*``, ``(\\w|\\d)+``) tries all of those splits before it gives up, which takes
time exponential in the length of the text. Rules are confirmed with ``re`` (a linear-time engine
was measured and rejected, see README "Design"), so every rule's regex -- built-in or from a
user's configuration -- is checked here when it is loaded, and rejected with the reason.

The check works on the parse tree ``re`` itself builds and is conservative: it accepts a repeat
only when each iteration's end is unambiguous -- no inner loop at the end of the body that could
also start the next iteration, no body that matches the empty string around a loop, no two
alternatives of the body that can start with the same character (unless both are plain,
different words). Text sizes never enter into it: the cost of each attempt of an accepted
pattern is polynomial in the text it looks at, and the engine bounds that text (windows).

:func:`polynomial_hazard` finds the common quadratic shape: two unbounded repeats in a row that
can take the same characters (``\\s*:?\\s*``, ``.*\\w+``), with nothing between them that needs a
character they cannot take; one failing attempt then tries every way of splitting the run
between them. Rules and the scanner's own regexes are held to both checks.
"""

from __future__ import annotations

import re
from typing import Optional, Union

try:  # Python 3.11+
    import re._compiler as K
    import re._constants as C
    import re._parser as P
except ImportError:  # pragma: no cover - Python 3.10
    import sre_compile as K
    import sre_constants as C
    import sre_parse as P

ALL = (1 << 256) - 1
_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT) + ((C.POSSESSIVE_REPEAT,) if hasattr(C, "POSSESSIVE_REPEAT") else ())
_ZERO_WIDTH = (C.AT, C.ASSERT, C.ASSERT_NOT)


def _bits(*codes: int) -> int:
    out = 0
    for c in codes:
        out |= 1 << c
    return out


def _range(lo: int, hi: int) -> int:
    return ((1 << (hi + 1)) - 1) ^ ((1 << lo) - 1)


_DIGIT = _range(48, 57)
_WORD = _DIGIT | _range(65, 90) | _range(97, 122) | _bits(95)
_SPACE = _bits(9, 10, 11, 12, 13, 32)
_CATEGORIES = {
    C.CATEGORY_DIGIT: _DIGIT,
    C.CATEGORY_NOT_DIGIT: ALL ^ _DIGIT,
    C.CATEGORY_WORD: _WORD,
    C.CATEGORY_NOT_WORD: ALL ^ _WORD,
    C.CATEGORY_SPACE: _SPACE,
    C.CATEGORY_NOT_SPACE: ALL ^ _SPACE,
    C.CATEGORY_LINEBREAK: _bits(10),
    C.CATEGORY_NOT_LINEBREAK: ALL ^ _bits(10),
}
_LETTERS = _range(65, 90) | _range(97, 122)


def _fold(bits: int) -> int:
    """Add the other case of every ASCII letter (the IGNORECASE flag)."""
    upper, lower = (bits >> 65) & ((1 << 26) - 1), (bits >> 97) & ((1 << 26) - 1)
    return bits | (upper << 97) | (lower << 65)


class _Tree:
    """Questions about items of one parse tree; ``ignorecase`` as the pattern's flags say."""

    def __init__(self, ignorecase: bool) -> None:
        self.ignorecase = ignorecase

    def chars(self, op, av) -> Optional[int]:
        """The characters a one-character item matches; None for other items."""
        if op is C.LITERAL:
            bits = _bits(av) if av < 256 else 0
        elif op is C.NOT_LITERAL:
            bits = ALL ^ (_bits(av) if av < 256 else 0)
        elif op is C.ANY:
            bits = ALL
        elif op is C.IN:
            bits, negate = 0, False
            for sub_op, sub_av in av:
                if sub_op is C.NEGATE:
                    negate = True
                elif sub_op is C.LITERAL:
                    bits |= _bits(sub_av) if sub_av < 256 else 0
                elif sub_op is C.RANGE:
                    lo, hi = sub_av
                    bits |= _range(min(lo, 255), min(hi, 255)) if lo < 256 else 0
                elif sub_op is C.CATEGORY:
                    bits |= _CATEGORIES.get(sub_av, ALL)
                else:
                    bits = ALL
            if self.ignorecase:
                bits = _fold(bits)
            return ALL ^ bits if negate else bits
        else:
            return None
        return _fold(bits) if self.ignorecase else bits

    def first(self, seq) -> tuple[int, bool]:
        """(characters a match of ``seq`` can start with, can it match the empty string)."""
        out = 0
        for op, av in seq:
            bits, nullable = self.first_item(op, av)
            out |= bits
            if not nullable:
                return out, False
        return out, True

    def first_item(self, op, av) -> tuple[int, bool]:
        one = self.chars(op, av)
        if one is not None:
            return one, False
        if op in _ZERO_WIDTH:
            return 0, True
        if op is C.SUBPATTERN:
            return self.first(av[-1])
        if op is C.BRANCH:
            parts = [self.first(b) for b in av[1]]
            return _union(p[0] for p in parts), any(p[1] for p in parts)
        if op in _REPEATS:
            bits, nullable = self.first(av[2])
            return bits, nullable or av[0] == 0
        if hasattr(C, "ATOMIC_GROUP") and op is C.ATOMIC_GROUP:
            return self.first(av)
        return ALL, True  # back-references, conditionals: assume anything

    def last(self, seq) -> int:
        """Characters a match of ``seq`` can end with (from every item that may be the last)."""
        out = 0
        for op, av in reversed(seq):
            one = self.chars(op, av)
            if one is not None:
                return out | one
            if op is C.SUBPATTERN:
                out |= self.last(av[-1])
            elif op is C.BRANCH:
                out |= _union(self.last(b) for b in av[1])
            elif op in _REPEATS:
                out |= self.last(av[2])
            elif op not in _ZERO_WIDTH:
                return ALL
            if not self.first_item(op, av)[1]:
                return out
        return out

    def tail_loops(self, seq) -> int:
        """Characters that a repeat ending ``seq`` (everything after it may be empty) can go on
        consuming: what the next iteration of an enclosing repeat must not start with."""
        out = 0
        for op, av in reversed(seq):
            if op in _REPEATS:
                if av[0] != av[1] and (av[1] == C.MAXREPEAT or av[1] > 1):
                    out |= self.first(av[2])[0]
                out |= self.tail_loops(av[2])
            elif op is C.SUBPATTERN:
                out |= self.tail_loops(av[-1])
            elif op is C.BRANCH:
                out |= _union(self.tail_loops(b) for b in av[1])
            if not self.first_item(op, av)[1]:
                break
        return out

    def loop_chars(self, seq) -> int:
        """Every character any one-character item inside ``seq`` matches."""
        out = 0
        for op, av in seq:
            one = self.chars(op, av)
            if one is not None:
                out |= one
            elif op is C.SUBPATTERN:
                out |= self.loop_chars(av[-1])
            elif op is C.BRANCH:
                out |= _union(self.loop_chars(b) for b in av[1])
            elif op in _REPEATS:
                out |= self.loop_chars(av[2])
            elif op not in _ZERO_WIDTH:
                out = ALL
        return out

    def fits(self, seq, allowed: int) -> bool:
        """Can ``seq`` match some string (maybe empty) made only of ``allowed`` characters?"""
        for op, av in seq:
            one = self.chars(op, av)
            if one is not None:
                if not one & allowed:
                    return False
            elif op is C.SUBPATTERN:
                if not self.fits(av[-1], allowed):
                    return False
            elif op is C.BRANCH:
                if not any(self.fits(b, allowed) for b in av[1]):
                    return False
            elif op in _REPEATS:
                if av[0] > 0 and not self.fits(av[2], allowed):
                    return False
        return True


def _union(parts) -> int:
    out = 0
    for p in parts:
        out |= p
    return out


def _literal_word(seq) -> Optional[bytes]:
    """The text of a branch made only of literal characters, else None."""
    if all(op is C.LITERAL for op, _ in seq):
        return bytes(av for _, av in seq if av < 256)
    return None


def _walk(seq, tree: _Tree):
    """Every (op, av, tree) in ``seq`` and below, with the flags in force there."""
    for op, av in seq:
        yield op, av, tree
        if op is C.SUBPATTERN:
            add = av[1] if len(av) > 1 and isinstance(av[1], int) else 0
            inner = _Tree(tree.ignorecase or bool(add & C.SRE_FLAG_IGNORECASE))
            yield from _walk(av[-1], inner)
        elif op is C.BRANCH:
            for b in av[1]:
                yield from _walk(b, tree)
        elif op in _REPEATS:
            yield from _walk(av[2], tree)
        elif hasattr(C, "ATOMIC_GROUP") and op is C.ATOMIC_GROUP:
            yield from _walk(av, tree)
        elif op in (C.ASSERT, C.ASSERT_NOT):
            yield from _walk(av[1], tree)


def _parse(regex: Union[str, bytes]):
    tree = P.parse(regex)
    flags = tree.state.flags if hasattr(tree, "state") else tree.pattern.flags
    return list(tree), _Tree(bool(flags & C.SRE_FLAG_IGNORECASE))


def _ambiguous_branches(body, tree: _Tree) -> bool:
    """Do two alternatives directly in ``body`` (through groups, not nested repeats) start with
    the same character, so that one text can be matched by either?"""
    for op, av in body:
        if op is C.SUBPATTERN and _ambiguous_branches(av[-1], tree):
            return True
        if op is C.BRANCH:
            seen: list[tuple[int, Optional[bytes]]] = []
            for b in av[1]:
                bits, _ = tree.first(b)
                word = _literal_word(b)
                for other_bits, other_word in seen:
                    if bits & other_bits and not (word is not None and other_word is not None and word != other_word):
                        return True
                seen.append((bits, word))
            if any(_ambiguous_branches(b, tree) for b in av[1]):
                return True
    return False


def exponential_hazard(regex: Union[str, bytes]) -> Optional[str]:
    """Why ``regex`` may take time exponential in the text's length under ``re``, or None."""
    items, top = _parse(regex)
    for op, av, tree in _walk(items, top):
        if op not in _REPEATS or not (av[1] == C.MAXREPEAT or av[1] > 1):
            continue
        body = av[2]
        starts, empty = tree.first(body)
        if empty and tree.loop_chars(body):
            return "a repeated group can match the empty string"
        if tree.tail_loops(body) & starts:
            return "nested repeats: an inner repeat can also match what starts the next iteration of the outer one"
        if _ambiguous_branches(body, tree):
            return "a repeated group has alternatives that can match the same text"
    return None


def polynomial_hazard(regex: Union[str, bytes]) -> Optional[str]:
    """Why one failing attempt of ``regex`` may cost the square of the text it looks at: two
    unbounded repeats in one sequence (groups opened up), where the first can end with a
    character the second can start with, and nothing between them needs a character outside
    those. None when there is no such pair."""
    items, top = _parse(regex)
    seqs = [(items, top)]
    for op, av, tree in _walk(items, top):
        if op is C.BRANCH:
            seqs.extend((b, tree) for b in av[1])
        elif op in _REPEATS:
            seqs.append((av[2], tree))
    for seq, tree in seqs:
        flat = _flatten(seq)
        for i, (op, av) in enumerate(flat):
            if op not in _REPEATS or not _long(av):
                continue
            shared = tree.last(av[2])
            for op2, av2 in flat[i + 1 :]:
                if op2 in _REPEATS and _long(av2) and tree.first(av2[2])[0] & shared:
                    return "two unbounded repeats in a row can match the same characters"
                if not tree.fits([(op2, av2)], shared):
                    break
    return None


def _flatten(seq) -> list:
    """``seq`` with its groups opened up (a group does not change what a sequence matches)."""
    out = []
    for op, av in seq:
        if op is C.SUBPATTERN:
            out.extend(_flatten(av[-1]))
        else:
            out.append((op, av))
    return out


def _long(av) -> bool:
    return av[1] == C.MAXREPEAT


def hazard(regex: Union[str, bytes]) -> Optional[str]:
    """Why ``regex`` may backtrack catastrophically (exponentially, or quadratically in one
    attempt), or None."""
    return exponential_hazard(regex) or polynomial_hazard(regex)


def _leading_loop(seq, tree: _Tree) -> bool:
    """Can a match of ``seq`` start inside an unbounded repeat? A search then starts an attempt
    at every character of a run the repeat takes, each running to the end of the run."""
    for op, av in seq:
        if op in _REPEATS and _long(av):
            return True
        if op is C.SUBPATTERN and _leading_loop(av[-1], tree):
            return True
        if op is C.BRANCH and any(_leading_loop(b, tree) for b in av[1]):
            return True
        if op in _REPEATS and _leading_loop(av[2], tree):
            return True
        if not tree.first_item(op, av)[1]:
            return False
    return False


def search_probe(regex: bytes) -> "Optional[re.Pattern[bytes]]":
    """A pattern that finds a match somewhere exactly when ``regex`` does, and that cannot start
    inside an unbounded repeat: leading optional parts are dropped and a leading ``X+`` is
    taken once (if ``[ \\t]*=x`` matches at a blank, ``=x`` matches where the blanks end). None
    when the start cannot be made so."""
    tree = P.parse(regex)
    lead = _strip_lead(list(tree), tree.state)
    if lead is None:
        return None
    stripped = P.SubPattern(tree.state, lead)
    if _leading_loop(lead, _Tree(bool(tree.state.flags & C.SRE_FLAG_IGNORECASE))):
        return None
    return K.compile(stripped, tree.state.flags)


def _strip_lead(seq: list, state) -> Optional[list]:
    """``seq`` without what a match may skip at its start (see :func:`search_probe`)."""
    out = list(seq)
    while out:
        op, av = out[0]
        if op in _REPEATS and av[0] == 0:
            out.pop(0)  # may match nothing: a match of the rest is a match
            continue
        if op in _REPEATS and _long(av):
            out[0] = (op, (av[0], av[0], av[2]))  # X+Y finds a match where XY does
        elif op is C.SUBPATTERN:
            body = _strip_lead(list(av[-1]), state)
            if body is None:
                return None
            out[0] = (op, av[:-1] + (P.SubPattern(state, body),))
        elif op is C.BRANCH:
            branches = [_strip_lead(list(b), state) for b in av[1]]
            if any(b is None or not b for b in branches):
                return None  # an empty alternative: the whole start is optional, leave it
            out[0] = (op, (av[0], [P.SubPattern(state, b) for b in branches]))
        break
    return out
