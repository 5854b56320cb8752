"""Delta scanning of file versions: what changed (scanner.engine.delta) and Engine.scan_version,
which must report exactly what a whole-file scan reports."""

from __future__ import annotations

import random

import pytest

from scanner.config import Config
from scanner.engine import Engine, delta
from scanner.models import Chunk
from scanner.rules import load_rules, rule_files


def _naive_prefix(a: bytes, b: bytes) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _naive_suffix(a: bytes, b: bytes, limit: int) -> int:
    return min(_naive_prefix(a[::-1], b[::-1]), max(min(len(a), len(b)) - limit, 0))


def test_prefix_and_suffix_agree_with_a_byte_loop():
    rnd = random.Random(7)
    table = bytes.maketrans(bytes(range(256)), b"ab\n" * 85 + b"a")
    for _ in range(1500):
        size = rnd.choice([0, 1, 3, 200, 5000, 70000])
        a = rnd.randbytes(size).translate(table)  # few distinct bytes: long common runs
        b = bytearray(a)
        for _ in range(rnd.randrange(3)):
            at = rnd.randrange(len(b) + 1)
            op = rnd.randrange(3)
            if op == 0:
                b[at:at] = b"x"
            elif op == 1:
                del b[at : at + rnd.randrange(1, 4)]
            elif b:
                b[min(at, len(b) - 1)] = ord("z")
        b = bytes(b)
        # Within ranges, as _trim uses them: a[i:] against b[j:], and a[:i2] against b[:j2].
        i, j = rnd.randrange(3), rnd.randrange(3)
        p = delta._prefix(a, i, b, j, max(min(len(a) - i, len(b) - j), 0))
        assert p == _naive_prefix(a[i:], b[j:])
        limit = rnd.randrange(p + 1)
        assert delta._suffix(a, len(a), b, len(b), min(len(a), len(b)) - limit) == _naive_suffix(a, b, limit)


def _lines(n: int, tag: str = "line") -> list[bytes]:
    return [f"{tag} {i} = compute({i})".encode() for i in range(n)]


def test_identical_versions_have_nothing_to_scan():
    data = b"\n".join(_lines(50))
    changes = delta.compare(data, data)
    assert changes.regions == () and changes.dirty == ()


def test_one_edited_line_is_dirty_with_its_neighbours():
    old = _lines(400)
    new = list(old)
    new[200] = b"edited = 1"
    data = b"\n".join(new)
    changes = delta.compare(data, b"\n".join(old))
    [(a, b)] = changes.dirty
    assert data[a:b].split(b"\n") == [old[199], b"edited = 1", old[201]]  # RADIUS = 1
    [(a, b)] = changes.regions
    assert data[a:b] == b"\n".join(new[197:204]) + b"\n"  # dirty + CONTEXT = 2 lines, whole lines
    assert not changes.is_dirty(0, 10) and changes.is_dirty(*changes.dirty[0])


def test_deletion_marks_the_join():
    old = _lines(400)
    new = old[:100] + old[101:]
    data = b"\n".join(new)
    [(a, b)] = delta.compare(data, b"\n".join(old)).dirty
    assert old[99] in data[a:b] and old[101] in data[a:b]


def test_two_far_apart_edits_in_a_long_middle_are_two_spans():
    old = _lines(2000)
    new = list(old)
    new[100], new[1900] = b"first = edit", b"second = edit"
    data = b"\n".join(new)
    changes = delta.compare(data, b"\n".join(old))
    assert len(changes.dirty) == 2 and len(changes.regions) == 2
    assert sum(b - a for a, b in changes.regions) < len(data) / 20


def test_a_rewrite_is_scanned_whole():
    assert delta.compare(b"\n".join(_lines(300, "new")), b"\n".join(_lines(300, "old"))) is None


# -- Engine.scan_version == Engine.scan ---------------------------------------------------------

RULES = load_rules(rule_files())
# Single-line tokens, a value on the line after its key, key blocks, URIs, structured-file rules.
IDS = ["aws-access-key-id", "github-pat-classic", "slack-webhook-url", "stripe-live-secret-key",
       "generic-password-quoted", "generic-token-xml", "private-key-rsa", "jwt", "postgresql-uri-password",
       "env-file-credential", "config-credential", "dockerfile-env-credential", "command-line-credential"]


def _examples() -> list[str]:
    by_id = {r.id: r for r in RULES}
    out = [ex for rid in IDS if rid in by_id for ex in by_id[rid].examples]
    assert len(out) >= len(IDS), "the pool needs real secrets"
    return out


def _pool() -> list[bytes]:
    code = [b"def handler(event):", b"    return compute(event)", b"", b"# settings", b"}", b"password:",
            b"  value_line = 1", b"token = os.environ['TOKEN']", b"    key = lookup(name)"]
    return code + [line.encode() for ex in _examples() for line in ex.split("\n")]


def _edit(rnd: random.Random, lines: list[bytes], pool: list[bytes]) -> list[bytes]:
    lines = list(lines)
    for _ in range(rnd.randrange(1, 4)):
        op = rnd.randrange(5)
        at = rnd.randrange(len(lines) + 1)
        if op == 0:  # insert a few lines
            lines[at:at] = rnd.sample(pool, rnd.randrange(1, 4))
        elif op == 1 and lines:  # delete a few
            del lines[at : at + rnd.randrange(1, 4)]
        elif op == 2 and lines:  # replace one
            lines[min(at, len(lines) - 1)] = rnd.choice(pool)
        elif op == 3 and len(lines) > 4:  # move a block elsewhere
            k = rnd.randrange(1, 4)
            block = lines[at : at + k]
            del lines[at : at + k]
            to = rnd.randrange(len(lines) + 1)
            lines[to:to] = block
        else:  # insert a whole example (multi-line keys included)
            lines[at:at] = [ln.encode() for ln in rnd.choice(_examples()).split("\n")]
    return lines


def _key(findings) -> list[tuple]:
    return sorted((f.rule_id, f.line, f.column, f.end_column, f.fingerprint, f.key) for f in findings)


@pytest.mark.parametrize("path", ["src/app.py", "config/settings.yml", ".env", "Dockerfile", "scripts/deploy.sh"])
@pytest.mark.parametrize("filler", [20, 400])  # short files: whole middles; long: line-compared
def test_version_chains_match_whole_file_scans(path, filler):
    """Each version scanned as a delta of the one before finds what a scan of it alone, by an
    engine that remembers nothing (no windows, no detector lines), finds."""
    engine = Engine(Config())
    alone = Engine(Config(), identity=engine.identity)
    rnd = random.Random(f"{path}{filler}")
    pool = _pool()
    lines = _lines(filler) + rnd.sample(pool, 10)
    rnd.shuffle(lines)
    prev = None
    found_any = 0
    for _ in range(60):
        lines = _edit(rnd, lines, pool)
        chunk = Chunk(path=path, data=b"\n".join(lines))
        alone.forget()
        whole = alone.scan(chunk)
        got, prev = engine.scan_version(chunk, prev)
        assert _key(got) == _key(whole)
        found_any += bool(whole)
    assert found_any > 30  # the chain really carried secrets along


def test_version_without_a_predecessor_is_a_whole_scan():
    engine = Engine(Config())
    text = "\n".join(_examples()).encode()
    chunk = Chunk(path="a.py", data=text)
    got, version = engine.scan_version(chunk, None)
    assert _key(got) == _key(engine.scan(chunk)) and version.data == text


def test_findings_on_unchanged_lines_are_carried_to_their_new_line_numbers():
    engine = Engine(Config())
    key = next(ex for ex in _examples() if ex.startswith("AKIA") or "AKIA" in ex)
    old = "\n".join(["x = 1"] * 300 + [key] + ["y = 2"] * 300).encode()
    new = b"inserted = 1\n" * 5 + old
    _, prev = engine.scan_version(Chunk(path="a.py", data=old), None)
    got, _ = engine.scan_version(Chunk(path="a.py", data=new), prev)
    assert [f.line for f in got if f.rule_id == "aws-access-key-id"] == [306]


def test_a_deletion_that_joins_a_key_to_its_value_is_found_in_a_long_edit():
    # Two far-apart hunks make a long middle, compared line by line; the deletion leaves no new
    # line at all, only a new neighbourhood at the join.
    engine = Engine(Config())
    example = next(r for r in RULES if r.id == "generic-token-xml").examples[0].encode().split(b"\n")
    head, value, tail = example[0], example[1], example[2:]
    filler = _lines(400)
    old = [*filler[:10], head, b"# note", value, *tail, *filler[10:]]
    new = [*filler[:10], head, value, *tail, *filler[10:-1], b"last = changed"]
    old_chunk, new_chunk = Chunk(path="a.xml", data=b"\n".join(old)), Chunk(path="a.xml", data=b"\n".join(new))
    assert not engine.scan(old_chunk) and engine.scan(new_chunk)
    _, prev = engine.scan_version(old_chunk, None)
    got, _ = engine.scan_version(new_chunk, prev)
    assert _key(got) == _key(engine.scan(new_chunk))


def test_lines_deleted_after_an_anchor_line_leave_that_join_dirty():
    # The long first line moves the search for an anchor to the last line; the old text goes on
    # after it, so the new last line now ends the file: it must be rescanned.
    long_line, head = b"a" * 4500, _lines(1000)  # head: common, so that the changes are a small share
    new = b"\n".join([*head, long_line, *[b"x"] * 10, b"the_anchor_line_unique"])
    old = b"\n".join([*head, b"b" + long_line, *[b"x"] * 10, b"the_anchor_line_unique", b"deleted = 1"])
    changes = delta.compare(new, old)
    last = new.rindex(b"\n") + 1
    assert changes.is_dirty(last, len(new))


def test_an_empty_span_marks_the_lines_on_both_sides_of_the_join():
    data = b"one\ntwo\nthree\nfour\n"
    at = data.index(b"three")
    [(a, b)] = delta._widen(data, [(at, at)], 1)
    assert data[a:b] == b"two\nthree\nfour"


@pytest.mark.parametrize("backend", ["hyperscan", "keywords"])
def test_the_multiline_pass_is_skipped_only_while_no_keyword_could_be_there(backend, monkeypatch):
    """A version whose predecessor held none of the multi-line rules' keywords, and whose changed
    lines hold none either, cannot match those rules: their pass over the whole file is skipped.
    A key block pasted into such a file, or a file that holds a keyword, is scanned as before."""
    engine = Engine(Config(), backend=backend)
    alone = Engine(Config(), identity=engine.identity, backend=backend)
    passes: list[int] = []
    real = engine._multiline_candidates
    monkeypatch.setattr(engine, "_multiline_candidates", lambda data: passes.append(1) or real(data))
    [key] = [r for r in RULES if r.id == "private-key-rsa"][0].examples[:1]
    lines = _lines(300)

    def version(prev, lines):
        chunk = Chunk(path="src/app.py", data=b"\n".join(lines))
        got, new = engine.scan_version(chunk, prev)
        alone.forget()
        assert _key(got) == _key(alone.scan(chunk))
        return got, new

    _, prev = version(None, lines)  # a whole scan: whether it holds a keyword is not known yet
    lines[10] = b"first = edit(1)"
    _, prev = version(prev, lines)  # the whole file is looked at once: no keyword
    assert prev.multiline_free is True
    for i in range(20, 60, 10):  # edits elsewhere: only the changed lines are looked at
        lines[i] = f"edit = {i}".encode()
        _, prev = version(prev, lines)
    assert passes == [] and prev.multiline_free is True
    lines[150:150] = [ln.encode() for ln in key.split("\n")]  # a key pasted in
    got, prev = version(prev, lines)
    assert [f.rule_id for f in got] == ["private-key-rsa"] and prev.multiline_free is False and passes == [1]
    lines[200] = b"later = edit(2)"  # a file holding a keyword keeps its pass
    got, prev = version(prev, lines)
    assert [f.rule_id for f in got] == ["private-key-rsa"] and passes == [1, 1]
