"""gitignore-style patterns (scanner.globs): the joined pre-test never changes pathspec's verdict."""

from __future__ import annotations

import pathspec
from hypothesis import given
from hypothesis import strategies as st

from scanner import globs
from scanner.globs import PathPatterns

_SEGMENT = st.sampled_from(["a", "b", "doc", "tmp", "x.log", "node_modules", "a.b", "ñ", "-", "[x]"])
_PATTERN = st.builds(
    lambda neg, anchor, parts, star, slash: ("!" if neg else "") + ("/" if anchor else "") + "/".join(parts)
    + star + ("/" if slash else ""),
    st.booleans(), st.booleans(), st.lists(st.sampled_from(["a", "b", "doc", "*", "**", "*.log", "x?", "[ab]", "c\\ d"]),
                                           min_size=1, max_size=3),
    st.sampled_from(["", "*", "/**", "/*"]), st.booleans())
_PATH = st.builds(lambda parts, d, lead: lead + "/".join(parts) + ("/" if d else ""),
                  st.lists(_SEGMENT, min_size=1, max_size=4), st.booleans(), st.sampled_from(["", "./", "/"]))


@given(st.lists(st.one_of(_PATTERN, st.just("# comment"), st.just("")), max_size=6), st.lists(_PATH, min_size=1, max_size=8))
def test_the_same_verdict_as_pathspec_for_any_patterns_and_paths(lines, paths):
    ours = PathPatterns(lines)
    theirs = pathspec.GitIgnoreSpec.from_lines(lines, backend="simple")
    for path in paths:
        assert ours.check(path) is theirs.check_file(path).include, (lines, path)
        assert ours.match(path) == theirs.match_file(path)


def test_a_path_no_pattern_matches_is_answered_by_the_joined_regex_alone(monkeypatch):
    patterns = PathPatterns(["/tmp/", "*.log", "!keep.log", "node_modules/"])
    asked = []
    real = patterns.spec.check_file
    monkeypatch.setattr(patterns.spec, "check_file", lambda p: asked.append(p) or real(p))
    assert patterns.check("app/models/user.rb") is None and asked == []
    assert patterns.check("log/x.log") is True and patterns.check("log/keep.log") is False
    assert asked == ["log/x.log", "log/keep.log"]  # a matched path: pathspec decides (negation)


def test_patterns_that_cannot_be_joined_are_each_tried(monkeypatch):
    monkeypatch.setattr(globs, "_NAMED_GROUP", globs.re.compile(r"(?!)"))  # the names would clash
    patterns = PathPatterns(["*.log", "tmp/"])
    assert patterns._any is None
    assert patterns.check("a/b.log") is True and patterns.check("a/b.txt") is None


def test_only_comments_and_blank_lines_match_nothing():
    patterns = PathPatterns(["# just a comment", "", "   "])
    assert patterns.check("anything") is None and not patterns.match("a/b/")
