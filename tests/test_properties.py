"""Property tests of the loaders users hand to leakstop: baselines (and detect-secrets baselines),
the configuration file, sizes, rules and rule packs.

Whatever the bytes, a loader returns its value or raises LeakstopError (a one-line error, exit 2),
never another exception; what leakstop writes it reads back unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from scanner.baseline import Baseline, Entry, load_baseline, read_detect_secrets
from scanner.config import Config, load_config, parse_config, parse_size
from scanner.errors import LeakstopError
from scanner.rules import Rule, load_pack, parse_rule
from tests import strategies as S

# Any JSON/YAML value, and mappings whose known keys hold values of every type.
any_value = S._json_values(max_leaves=8)
# Deeply nested documents and texts the parsers recurse on.
# (Past the interpreter's recursion limit, which is what breaks a recursive parser.)
deep_texts = st.sampled_from(["[" * 5_000, "{\"a\":" * 5_000, "- " * 3_000 + "x", "a:\n  " + "[" * 3_000])


def mapping_of(fields: dict) -> st.SearchStrategy[dict]:
    """Mappings built from ``fields`` (name -> strategy of good values), with fields dropped,
    given values of the wrong type, and unknown keys of any type added."""
    return st.fixed_dictionaries(
        {}, optional={k: st.one_of(v, any_value) for k, v in fields.items()}
    ).flatmap(lambda d: st.dictionaries(st.one_of(S.keys, st.integers(), st.booleans()), any_value, max_size=2)
              .map(lambda extra: {**extra, **d} if extra and len(d) % 2 else d))


def outcome(fn, *args):
    """``fn(*args)``; LeakstopError is an answer, any other exception fails the test."""
    try:
        return fn(*args)
    except LeakstopError as exc:
        assert "\n" not in str(exc) and str(exc)
        return exc


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("props")


# -- baselines ----------------------------------------------------------------------------------
_entry = st.fixed_dictionaries({"path": S.words, "rule_id": S.keys, "hash": S.words})
baseline_docs = mapping_of({
    "tool": st.just("leakstop"), "version": st.sampled_from([1, 2, "1"]), "salt": S.words,
    "entries": st.lists(st.one_of(_entry, mapping_of({"path": S.words, "rule_id": S.keys, "hash": S.words})), max_size=3),
    "results": st.dictionaries(S.words, any_value, max_size=2), "plugins_used": st.just([]),
})


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@given(doc=st.one_of(baseline_docs, any_value))
def test_baseline_loading_answers_any_document(scratch, doc):
    out = outcome(load_baseline, _write(scratch / "b.json", json.dumps(doc).encode()))
    assert isinstance(out, (Baseline, LeakstopError))


@given(raw=st.one_of(st.binary(max_size=200), deep_texts.map(str.encode)))
def test_baseline_loading_answers_any_bytes(scratch, raw):
    assert isinstance(outcome(load_baseline, _write(scratch / "b.json", raw)), (Baseline, LeakstopError))


@given(salt=st.text(min_size=1, max_size=40), entries=st.sets(st.builds(Entry, S.words, S.keys, S.words), max_size=6))
def test_baseline_dumps_then_loads_the_same(scratch, salt, entries):
    bl = Baseline(salt=salt, entries=set(entries), base_dir=scratch)
    back = load_baseline(_write(scratch / "rt.json", bl.dumps().encode("utf-8")))
    assert (back.salt, back.entries) == (salt, entries)
    assert back.dumps() == bl.dumps()  # byte-stable: a re-created baseline does not churn


@given(doc=st.one_of(baseline_docs, any_value, st.fixed_dictionaries({"results": st.dictionaries(S.words, any_value)})))
def test_detect_secrets_reading_answers_any_document(scratch, doc):
    out = outcome(read_detect_secrets, _write(scratch / "ds.json", json.dumps(doc).encode()))
    assert isinstance(out, (dict, LeakstopError))


# -- configuration --------------------------------------------------------------------------------
@given(text=st.one_of(S.words, st.from_regex(r"\s*\d{1,6000}\s*[kKmMgG]?[iI]?[bB]?\s*", fullmatch=True)))
@example(text="9" * 5000 + "MB")
def test_sizes_parse_or_are_refused(text):
    out = outcome(parse_size, text)
    assert isinstance(out, LeakstopError) or (isinstance(out, int) and out >= 0)


regexes = st.one_of(S.words, st.sampled_from(["a{99999999999}", "(" * 5000 + ")" * 5000, "(?P<secret>", "[", "\\"]))
_rule_fields = {
    "id": st.sampled_from(["my-rule", "Bad Id", "a"]), "name": S.words, "provider": S.words,
    "regex": st.one_of(regexes, st.just(r"tok_(?P<secret>[a-z0-9]{8})")),
    "prefilter": regexes, "keywords": st.lists(S.words, max_size=2), "severity": st.sampled_from(["high", "x"]),
    "rotation": S.words, "examples": st.lists(S.words, max_size=2), "negative_examples": st.lists(S.words, max_size=2),
    "min_entropy": st.one_of(st.floats(allow_nan=True), st.integers()), "category": st.sampled_from(["cloud", "x"]),
    "generic": any_value, "multiline": any_value, "detector": st.sampled_from(["envfile", "nope", ""]),
    "skip_filters": st.lists(S.words, max_size=2), "example_path": S.words, "description": any_value,
}
rule_mappings = mapping_of(_rule_fields)
config_docs = mapping_of({
    "rules": st.lists(st.one_of(rule_mappings, any_value), max_size=2), "rule_files": st.lists(S.words, max_size=2),
    "disabled_rules": st.lists(S.words, max_size=2), "exclude": st.lists(S.words, max_size=2),
    "allowlist": mapping_of({"paths": st.lists(S.words, max_size=2), "regexes": st.lists(regexes, max_size=2),
                             "stopwords": st.lists(S.words, max_size=2)}),
    "max_file_size": st.one_of(st.integers(), S.words, st.just("9" * 5000)),
    "remediation": st.dictionaries(st.one_of(S.keys, st.integers()), any_value, max_size=3),
})


@given(doc=st.one_of(config_docs, any_value))
@example(doc={"remediation": {"backend": "ssm", 1: "x"}})
@example(doc={"allowlist": {"regexes": ["a{99999999999}"]}})
@example(doc={"allowlist": {"regexes": ["(" * 5000 + ")" * 5000]}})
def test_configuration_is_validated_whatever_it_holds(doc):
    assert isinstance(outcome(parse_config, doc, Path(".leakstop.yaml")), (Config, LeakstopError))


@S.fewer(0.4)  # PyYAML's pure-Python loader is the cost here
@given(text=st.one_of(config_docs.map(lambda d: yaml.safe_dump(d, allow_unicode=True)), S.yaml_texts, deep_texts))
def test_configuration_file_loads_or_is_refused(scratch, text):
    path = _write(scratch / "c.yaml", text.encode("utf-8"))
    assert isinstance(outcome(load_config, path, scratch), (Config, LeakstopError))


# -- rules and rule packs ---------------------------------------------------------------------------
@given(raw=st.one_of(rule_mappings, any_value))
@example(raw={1: "x", "unknown": "y"})
@example(raw={"id": "r", "regex": "a{99999999999}"})
def test_rule_parsing_answers_any_mapping(raw):
    out = outcome(parse_rule, raw, "pack.yaml")
    if isinstance(out, Rule):
        assert out.pattern.groupindex.get("secret")


@given(text=st.one_of(
    st.lists(rule_mappings, max_size=2).map(lambda rs: yaml.safe_dump({"rules": rs}, allow_unicode=True)),
    any_value.map(lambda v: yaml.safe_dump(v)), S.yaml_texts, deep_texts,
), latin=st.booleans())
@example(text="rules: []\n1: x\nz: y\n", latin=False)
@example(text="rules: []  # caf\xe9\n", latin=True)
def test_rule_pack_loads_or_is_refused(scratch, text, latin):
    path = _write(scratch / "pack.yaml", text.encode("latin-1" if latin else "utf-8", "replace"))
    out = outcome(load_pack, path)
    assert isinstance(out, (list, LeakstopError))
