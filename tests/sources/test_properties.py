"""Property tests of the sources' parsers and state.

The incremental history state: whatever ``history.json`` and ``history-blobs.bin`` hold, loading
gives the state or None (a full scan), never a traceback. The parsers of git's output (the diff
modes' ``--raw``, patch and ``git log`` readers, the history audit's log reader): given output
built from generated records (paths of any bytes but NUL, merges of two or three parents,
renames, submodules, binary files, hunks of every shape) each gives those records back; given
anything else (that output cut, spliced or garbled) it answers or raises LeakstopError, with
work bounded by its input (a hunk header's count is not trusted)."""

from __future__ import annotations

import json
import subprocess

from hypothesis import example, given
from hypothesis import strategies as st

from scanner.errors import LeakstopError
from scanner.models import CommitInfo
from scanner.sources import diff as D
from scanner.sources import history as H
from scanner.sources.base import ScanStats
from scanner.sources.history_state import STATE_VERSION, HistoryState
from tests import strategies as S
from tests.test_properties import any_value, mapping_of

KEY = "k" * 64
_finding = mapping_of({
    "rule_id": S.keys, "provider": S.words, "description": S.words, "severity": S.words, "category": S.words,
    "path": S.words, "line": st.one_of(st.integers(), S.words), "column": st.integers(), "end_column": st.integers(),
    "masked": S.words, "fingerprint": S.words, "commit": any_value,
})
_record = mapping_of({
    "finding": _finding, "secret_hash": S.words, "commits": st.one_of(st.integers(), st.floats(), S.words),
    "paths": st.one_of(st.lists(S.words), any_value), "blobs": st.lists(st.sampled_from(["00" * 20, "zz", "abc"])),
    "removed": any_value,
})
states = mapping_of({
    "version": st.just(STATE_VERSION), "key": st.just(KEY), "tips": st.one_of(st.lists(S.words), any_value),
    "findings": st.one_of(st.lists(st.one_of(_record, any_value), max_size=3), any_value),
})


@given(doc=states, blobs=st.binary(max_size=70))
@example(doc={"version": STATE_VERSION, "key": KEY, "findings": [{"finding": {}}]}, blobs=b"")
@example(doc={"version": STATE_VERSION, "key": KEY, "tips": 5}, blobs=b"")
@example(doc={"version": STATE_VERSION, "key": KEY, "findings": [{"finding": {"line": 1}, "secret_hash": "h",
                                                                  "commits": float("inf")}]}, blobs=b"")
def test_history_state_loads_or_asks_for_a_full_scan(tmp_path_factory, doc, blobs):
    git_dir = tmp_path_factory.mktemp("state")
    subprocess.run(["git", "init", "-q", str(git_dir)], check=True)
    state = HistoryState(git_dir / ".git")
    state.dir.mkdir()
    state.json.write_text(json.dumps(doc))
    state.blobs.write_bytes(blobs)
    out = state.load(KEY, str(git_dir))
    assert out is None or (isinstance(out, tuple) and len(out) == 3)


# -- git output parsers ---------------------------------------------------------------------------
NULL = "0" * 40
shas = st.one_of(st.binary(min_size=20, max_size=20).map(bytes.hex), st.just(NULL))
modes = st.sampled_from(["100644", "100755", "120000", "160000", "000000"])
raw_paths = st.one_of(
    st.binary(min_size=1, max_size=16).filter(lambda p: b"\0" not in p),
    st.sampled_from([b":x", b"\x01", b"a\nb", b"diff --git a/x", b"\xff\xfe.py", b"@@ -1 +1 @@", b" "]),
)


@st.composite
def raw_records(draw, renames: bool = True) -> tuple[bytes, D.RawRecord]:
    """One ``--raw -z`` record as git prints it, and what parse_raw must make of it."""
    parents = draw(st.sampled_from([1, 1, 1, 2, 3]))
    olds = draw(st.lists(shas, min_size=parents, max_size=parents))
    new_mode, new = draw(modes), draw(shas)
    old_modes = draw(st.lists(modes, min_size=parents, max_size=parents))
    path = draw(raw_paths)
    source = None
    if parents == 1:
        status = draw(st.sampled_from(["A", "M", "T", "D"] + (["R100", "R067", "C090"] if renames else [])))
        if status[0] in "RC":
            source = draw(raw_paths)
    else:
        status = "".join(draw(st.lists(st.sampled_from("AMT"), min_size=parents, max_size=parents)))
    meta = ":" * parents + " ".join([*old_modes, new_mode, *olds, new, status])
    paths = ([source] if source is not None else []) + [path]
    data = meta.encode() + b"\0" + b"".join(p + b"\0" for p in paths)
    want = (new_mode, new, D.decode_path(path), None if source is None else D.decode_path(source),
            tuple(o for o in olds if o != NULL))
    return data, want


body_text = st.binary(max_size=12).map(lambda b: b.replace(b"\n", b" "))


@st.composite
def patch_files(draw) -> tuple[bytes, tuple[frozenset[int], bool]]:
    """One file's section of a ``-p -U0`` (or ``-c``) patch and its (added lines, binary)."""
    parents = draw(st.sampled_from([1, 1, 2, 3]))
    header = (b"diff --git a/f b/f\nindex 1..2 100644\n" if parents == 1
              else b"diff --combined f\nindex 1,2..3\n")
    if parents == 1 and draw(st.booleans()) and draw(st.booleans()):
        return header + b"Binary files a/f and b/f differ\n", (frozenset(), True)
    out, added, at = [header + b"--- a/f\n+++ b/f\n"], set(), 1
    for _ in range(draw(st.integers(0, 3))):
        at += draw(st.integers(0, 50))
        rows = draw(st.lists(st.tuples(st.sampled_from(["in", "in", "gone", "eof"]), body_text), max_size=6))
        start, lines = at, []
        for kind, text in rows:
            if kind == "eof":
                lines.append(b"\\ No newline at end of file")
                continue
            if parents == 1:
                cols = "+" if kind == "in" else "-"
            elif kind == "in":
                cols = "".join(draw(st.lists(st.sampled_from(" +"), min_size=parents, max_size=parents)))
            else:
                cols = "".join(draw(st.lists(st.sampled_from(" -"), min_size=parents, max_size=parents)))
                cols = cols if "-" in cols else "-" + cols[1:]
            if kind == "in":
                if cols == "+" * parents:
                    added.add(at)
                at += 1
            lines.append(cols.encode() + text)
        news = sum(1 for ln in lines if not ln.startswith(b"\\") and b"-" not in ln[:parents])
        olds = " ".join(f"-{start},{len(rows)}" for _ in range(parents))
        context = draw(st.sampled_from([b"", b" def f():", b" @@ x"]))
        out.append(b"@" * (parents + 1) + f" {olds} +{start},{news} ".encode() + b"@" * (parents + 1) + context)
        out.extend(lines)
    return b"\n".join(out) + b"\n", (frozenset(added), False)


def _garbled(data: bytes, draw) -> bytes:
    """``data`` cut, spliced with itself or with hostile bytes."""
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.integers(0, 2))
        if op == 0:
            data = data[:at]
        elif op == 1:
            data = data[:at] + draw(st.sampled_from([b"\0", b":", b"::", b"\x01", b"\n", b" ", b"zz", b"@@ -1 +9999999 @@\n"])) + data[at:]
        else:
            data = data[:at] + data[at : at + 30] * 2 + data[at + 30 :]
    return data


def _answers(fn, *args):
    try:
        return fn(*args)
    except LeakstopError as exc:
        assert "\n" not in str(exc)
        return exc


@given(records=st.lists(raw_records(), max_size=5), rest=st.sampled_from([b"", b"\0diff --git a/x b/x\n"]))
def test_parse_raw_gives_back_every_record(records, rest):
    data = b"".join(d for d, _ in records) + rest
    got, pos = D.parse_raw(data)
    assert got == [w for _, w in records] and data[pos:] == rest


@given(files=st.lists(patch_files(), max_size=4))
def test_parse_patch_gives_the_added_lines_of_every_file(files):
    assert D.parse_patch(b"".join(d for d, _ in files)) == [w for _, w in files]


fields = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\0"), max_size=8)


@st.composite
def log_commits(draw) -> tuple[bytes, tuple[CommitInfo, list]]:
    """One commit of ``git log -z --raw -p --format=LOG_FORMAT`` and what parse_log makes of it."""
    info = CommitInfo(draw(shas), draw(fields), draw(fields), draw(fields))
    records = draw(st.lists(raw_records(), max_size=3))
    files = draw(st.lists(patch_files(), min_size=len(records), max_size=len(records))) if records else []
    head = b"\x01" + b"".join(f.encode() + b"\0" for f in (info.sha, info.author, info.email, info.date))
    data = head + b"\0\n" + b"".join(d for d, _ in records)
    if records:
        data += b"\0" + b"".join(d for d, _ in files)
    want = D.pair([w for _, w in records], [w for _, w in files])
    return data, (info, want)


@given(commits=st.lists(log_commits(), max_size=4))
def test_range_log_gives_back_every_commit(commits):
    assert D.parse_log(b"".join(d for d, _ in commits)) == [w for _, w in commits]


@given(data=st.data(), commits=st.lists(log_commits(), min_size=1, max_size=3))
def test_range_log_parsers_answer_any_garbled_output(data, commits):
    garbled = _garbled(b"".join(d for d, _ in commits), data.draw)
    for fn in (D.parse_log, D.parse_raw, D.parse_patch):
        _answers(fn, garbled)


# The history audit's log: ``\x01<sha> <time>`` then raw records, read from a stream in pieces.
@st.composite
def history_commits(draw) -> tuple[bytes, list]:
    """One commit of the audit's ``git log --raw -c --no-renames -z --format=%x01%H %ct`` and the
    (blob id, path) of each blob it adds."""
    out = [f"\x01{draw(shas)} {draw(st.integers(0, 2**40))}".encode() + b"\0"]
    calls = []
    for data, (mode, new, path, _, _) in draw(st.lists(raw_records(renames=False), max_size=4)):
        out.append(draw(st.sampled_from([b"\n", b"\0", b""])) + data)
        if mode != "160000" and new != NULL:
            calls.append((new, path.encode("utf-8", "surrogateescape")))
    return b"".join(out), calls


class _Pieces:
    """A stream that hands out its bytes in the given piece sizes (a pipe's short reads)."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data, self.sizes = data, sizes or [1 << 20]

    def read(self, n: int) -> bytes:
        size = min(n, self.sizes[0] if len(self.sizes) == 1 else self.sizes.pop(0))
        out, self.data = self.data[:size], self.data[size:]
        return out


def _history(data: bytes, sizes: list[int]):
    log, stats = H.CommitLog(), ScanStats("history")
    calls = [(hexid, path) for hexid, path, _ in H.parse_log(_Pieces(data, sizes), log, stats)]
    return log, stats, calls


@given(commits=st.lists(history_commits(), max_size=4), sizes=st.lists(st.integers(1, 64), max_size=6))
def test_history_log_names_every_added_blob_whatever_the_reads(commits, sizes):
    data = b"".join(d for d, _ in commits)
    log, stats, calls = _history(data, sizes)
    assert calls == [c for _, cs in commits for c in cs]
    assert stats.commits == len(commits) == len(log.commits)


@given(data=st.data(), commits=st.lists(history_commits(), min_size=1, max_size=3))
def test_history_log_answers_any_garbled_output(data, commits):
    garbled = _garbled(b"".join(d for d, _ in commits), data.draw)
    _answers(_history, garbled, [])
