"""scanner.lazyregex: a module-level pattern compiled on first use, then used as the compiled one."""

from __future__ import annotations

import re

import pytest

from scanner.lazyregex import LazyPattern, lazy


def test_nothing_is_compiled_until_first_use(monkeypatch):
    compiled = []
    real = re.compile
    monkeypatch.setattr(re, "compile", lambda *a: compiled.append(a) or real(*a))
    rx = lazy(rb"(?P<word>[a-z]+)-(\d+)", re.I)
    assert compiled == [] and rx.pattern == rb"(?P<word>[a-z]+)-(\d+)"
    assert rx.search(b"x ABC-12").group("word") == b"ABC"
    assert rx.fullmatch(b"ab-1") and rx.groupindex == {"word": 1} and rx.groups == 2
    assert compiled == [(rb"(?P<word>[a-z]+)-(\d+)", re.I)]  # once


@pytest.mark.parametrize("pattern, text", [(r"\bkey\w*", "a keyring, keys; key"), (rb"[0-9]+", b"a1b22c333")])
def test_methods_answer_as_the_compiled_pattern(pattern, text):
    rx, real = lazy(pattern), re.compile(pattern)
    assert [m.span() for m in rx.finditer(text)] == [m.span() for m in real.finditer(text)]
    assert rx.findall(text) == real.findall(text)
    assert rx.split(text) == real.split(text)
    assert rx.sub(text[:1], text) == real.sub(text[:1], text)
    for pos in range(len(text)):
        assert span(rx.match(text, pos)) == span(real.match(text, pos))
        assert span(rx.search(text, pos, pos + 4)) == span(real.search(text, pos, pos + 4))
    assert rx.flags == real.flags


def span(m):
    return m.span() if m else None


def test_an_invalid_pattern_fails_on_first_use():
    rx = lazy(r"(unclosed")
    assert isinstance(rx, LazyPattern)
    with pytest.raises(re.error):
        rx.search("x")
