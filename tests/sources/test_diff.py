"""Staged and commit-range sources: what is read (index, post-image blobs), which lines are
reported, and how odd repositories and paths are handled."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from scanner.config import Config
from scanner.engine import Engine
from scanner.errors import LeakstopError
from scanner.models import Chunk, CommitInfo
from scanner.sources.diff import (
    RangeSource,
    StagedSource,
    first_occurrences,
    parse_patch,
    parse_raw,
    resolve_range,
)
from tests.conftest import git
from tests.engine.test_confidence import weak_password

KEY = "AKIAZ5QW2XHC7RJK3MNB"


def commit_all(repo: Path, msg: str = "c") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", msg)
    return git(repo, "rev-parse", "HEAD").strip()


def test_parse_patch_hunk_headers():
    patch = (
        b"diff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n"
        b"@@ -1,0 +2,3 @@\n+a\n+b\n+c\n@@ -9 +12 @@\n-old\n+new\n@@ -20,2 +22,0 @@\n-gone\n-gone\n"
        b"diff --git a/bin b/bin\nBinary files a/bin and b/bin differ\n"
        b"diff --git a/m b/m\nold mode 100644\nnew mode 100755\n"
    )
    assert parse_patch(patch) == [(frozenset({2, 3, 4, 12}), False), (frozenset(), True), (frozenset(), False)]


def test_parse_raw_keeps_odd_paths():
    data = (b":000000 100644 " + b"0" * 40 + b" " + b"a" * 40 + b" A\0we ird\nname\xff.py\0"
            b":100644 160000 " + b"1" * 40 + b" " + b"b" * 40 + b" M\0sub\0\0diff --git")
    recs, pos = parse_raw(data)
    assert [r[0] for r in recs] == ["100644", "160000"]
    assert recs[0][2].encode("utf-8", "surrogateescape") == b"we ird\nname\xff.py"
    assert data[pos:].startswith(b"\0diff")


def test_staged_reads_index_not_work_tree_and_only_added_lines(make_repo):
    repo = make_repo()
    (repo / "app.py").write_text(f"OLD = '{KEY}'\nx = 1\n")  # pre-existing secret: not the change's
    commit_all(repo)
    (repo / "app.py").write_text(f"OLD = '{KEY}'\nx = 1\ny = 2\n")
    git(repo, "add", "app.py")
    # The work tree now differs from the index: the staged content is what counts.
    (repo / "app.py").write_text("nothing here\n")
    chunks = list(StagedSource(repo))
    got = [(c.path, c.lines) for c in chunks]
    assert got == [("app.py", frozenset({3}))]
    staged_content = chunks[0].data.startswith(b"OLD = ") and chunks[0].data.endswith(b"y = 2\n")
    assert staged_content, "the chunk holds the index content, not the work tree"


def test_staged_before_first_commit(make_repo):
    repo = make_repo()
    (repo / "a.txt").write_text("one\ntwo\n")
    git(repo, "add", "a.txt")
    chunks = list(StagedSource(repo))
    assert [(c.path, c.lines) for c in chunks] == [("a.txt", frozenset({1, 2}))]


def test_staged_skips_submodule_and_deletions_scans_binary_and_big(make_repo, tmp_path):
    repo = make_repo()
    (repo / "gone.txt").write_text("bye\n")
    (repo / "mode.sh").write_text("echo hi\n")
    commit_all(repo)
    (repo / "bin.dat").write_bytes(b"\0\1\2" + KEY.encode())
    (repo / "big.txt").write_text("x" * 5000 + "\n")
    (repo / "small.txt").write_text("ok\n")
    (repo / "gone.txt").unlink()
    os.chmod(repo / "mode.sh", 0o755)
    sub = make_repo("sub")
    (sub / "f").write_text("f\n")
    sub_sha = commit_all(sub)
    git(repo, "add", "-A")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{sub_sha},vendored")
    src = StagedSource(repo, max_file_size=1000)
    chunks = {c.path: c for c in src}
    # A binary's printable text is scanned; a blob over the limit is scanned in windows.
    assert sorted(chunks) == ["big.txt", "bin.dat", "small.txt"]
    assert chunks["bin.dat"].binary and KEY.encode() in chunks["bin.dat"].data
    assert chunks["bin.dat"].lines == frozenset({1})
    assert src.stats.skipped == {"submodule": 1} and src.stats.decoded == {"binary": 1}
    assert src.stats.streamed == 1
    assert any("vendored" in n and "submodule" in n for n in src.stats.notes)


def test_staged_paths_with_spaces_newlines_and_non_utf8(make_repo):
    repo = make_repo()
    names = [b"with space.txt", b"new\nline.txt", b"bad\xffbyte.txt"]
    for n in names:
        with open(os.path.join(os.fsencode(repo), n), "wb") as fh:
            fh.write(b"v = 1\n")
    git(repo, "add", "-A")
    got = sorted(c.path for c in StagedSource(repo))
    assert got == sorted(["with space.txt", "new\nline.txt", "bad\\xffbyte.txt"])  # as every mode shows it


def test_staged_started_early_reads_what_a_late_start_reads(make_repo, tmp_path):
    """start() runs git's diff and the blob reader while the hook loads its modules: the chunks
    are those of a source that starts git when read, and outside a repository the error too."""
    repo = make_repo()
    (repo / "app.py").write_text("x = 1\n")
    commit_all(repo)
    (repo / "app.py").write_text("x = 1\ny = 2\n")
    (repo / "b.txt").write_text("new\n")
    git(repo, "add", "-A")
    early = StagedSource(repo)
    early.start()
    got = [(c.path, c.lines, c.data) for c in early]
    assert got == [(c.path, c.lines, c.data) for c in StagedSource(repo)] and len(got) == 2
    outside = StagedSource(tmp_path)
    outside.start()
    with pytest.raises(LeakstopError, match="not a git repository"):
        list(outside)
    outside.close()


def test_close_ends_the_git_processes_of_a_source_never_read(make_repo):
    """A run that stops before the scan (a configuration error) leaves no git running."""
    src = StagedSource(make_repo())
    src.start()
    procs = [src._diff, src._reader._proc]
    src.close()
    assert [p.returncode is None for p in procs] == [False, False]


def test_not_a_repository(tmp_path):
    with pytest.raises(LeakstopError, match="not a git repository"):
        list(StagedSource(tmp_path))
    with pytest.raises(LeakstopError, match="not a git repository"):
        RangeSource(tmp_path, "HEAD~1..HEAD")


def test_range_attributes_commits_and_reports_added_lines_only(make_repo):
    repo = make_repo()
    (repo / "a.py").write_text("a = 1\n")
    base = commit_all(repo, "base")
    (repo / "a.py").write_text(f"a = 1\nk = '{KEY}'\n")
    added = commit_all(repo, "add key")
    (repo / "a.py").write_text("a = 1\n")
    removed = commit_all(repo, "remove key")
    src = RangeSource(repo, f"{base}..HEAD")
    got = [(c.commit.sha, c.path, c.lines) for c in src]
    # The removal commit adds no lines to a.py: no chunk for it.
    assert got == [(added, "a.py", frozenset({2}))]
    assert src.stats.commits == 2
    info = list(RangeSource(repo, added))[0].commit
    assert (info.author, info.email) == ("Dev One", "dev@example.com") and info.date[:2] == "20"
    assert list(RangeSource(repo, removed)) == []


def test_range_forms(make_repo):
    repo = make_repo()
    (repo / "f").write_text("1\n")
    root = commit_all(repo)
    (repo / "f").write_text("1\n2\n")
    second = commit_all(repo)
    # A root commit alone: diffed against the empty tree.
    assert [c.lines for c in RangeSource(repo, root)] == [frozenset({1})]
    assert [c.commit.sha for c in RangeSource(repo, "0" * 40 + "..HEAD")] == [root, second]
    assert [c.commit.sha for c in RangeSource(repo, f"{root}...HEAD")] == [second]
    assert resolve_range(repo, "HEAD~1..").revs == (second, "^" + root)


@pytest.mark.parametrize("spec, message", [
    ("nope..HEAD", "unknown revision 'nope'"),
    ("HEAD..nope", "unknown revision 'nope'"),
    ("a..b..c", "invalid range"),
    ("--all", "invalid revision"),
])
def test_bad_ranges(make_repo, spec, message):
    repo = make_repo()
    (repo / "f").write_text("1\n")
    commit_all(repo)
    with pytest.raises(LeakstopError, match=message):
        RangeSource(repo, spec)


def test_unborn_branch(make_repo):
    repo = make_repo()
    with pytest.raises(LeakstopError, match="no commits yet"):
        RangeSource(repo, "HEAD~1..HEAD")


def test_shallow_clone_missing_base(make_repo, tmp_path):
    repo = make_repo()
    shas = []
    for i in range(3):
        (repo / "f").write_text(f"{i}\n")
        shas.append(commit_all(repo))
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)], check=True)
    with pytest.raises(LeakstopError, match="shallow clone.*fetch-depth: 0"):
        RangeSource(clone, f"{shas[0]}..HEAD")


def test_moving_a_file_reports_only_changed_lines(make_repo):
    repo = make_repo()
    body = "".join(f"line {i} of a module that is long enough to be similar\n" for i in range(20))
    (repo / "old name.py").write_text(f"k = '{KEY}'\n" + body)
    base = commit_all(repo)
    git(repo, "mv", "old name.py", "new name.py")
    (repo / "new name.py").write_text(f"k = '{KEY}'\n" + body + "added = 1\n")
    git(repo, "add", "-A")
    staged = [(c.path, c.lines) for c in StagedSource(repo)]
    assert staged == [("new name.py", frozenset({22}))]
    commit_all(repo)
    ranged = [(c.path, c.lines) for c in RangeSource(repo, f"{base}..HEAD")]
    assert ranged == [("new name.py", frozenset({22}))]


def test_merges_only_with_flag(make_repo):
    repo = make_repo()
    (repo / "a").write_text("1\n")
    base = commit_all(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    (repo / "b").write_text("topic\n")
    topic = commit_all(repo)
    git(repo, "checkout", "-q", "main")
    (repo / "a").write_text("1\n2\n")
    main2 = commit_all(repo)
    git(repo, "merge", "-q", "--no-edit", "topic")
    merge = git(repo, "rev-parse", "HEAD").strip()
    default = [c.commit.sha for c in RangeSource(repo, f"{base}..HEAD")]
    assert sorted(default) == sorted([topic, main2])
    with_merges = [(c.commit.sha, c.path) for c in RangeSource(repo, f"{base}..HEAD", merges=True)]
    # The merge's diff against its first parent (main) is topic's file.
    assert (merge, "b") in with_merges and len(with_merges) == 3
    assert list(RangeSource(repo, merge)) == []


def test_parse_combined_patch_keeps_only_lines_new_to_every_parent():
    # A merge's -c output: column 1 is the first parent, column 2 the second.
    patch = (
        b"diff --combined f.txt\nindex 1,2..3\n--- a/f.txt\n+++ b/f.txt\n"
        b"@@@ -2,1 -2,1 +2,3 @@@\n +from first\n+ from second\n++typed in the merge\n"
        b"@@@ -9,1 -9,1 +11,1 @@@\n- gone from first\n -gone from second\n++also typed\n\\ No newline at end of file\n"
        b"diff --combined g.txt\nindex 1,2..3\n--- a/g.txt\n+++ b/g.txt\n@@@ -1,0 -1,1 +1,2 @@@\n+ side\n++evil\n"
    )
    assert parse_patch(patch) == [(frozenset({4, 11}), False), (frozenset({2}), False)]


def test_parse_raw_combined_record():
    data = (b"::100644 100644 100644 " + b"1" * 40 + b" " + b"2" * 40 + b" " + b"3" * 40 + b" RM\0moved.txt\0"
            b":100644 100644 " + b"4" * 40 + b" " + b"5" * 40 + b" R090\0old.txt\0new.txt\0")
    recs, _ = parse_raw(data)
    assert recs == [("100644", "3" * 40, "moved.txt", None, ("1" * 40, "2" * 40)),
                    ("100644", "5" * 40, "new.txt", "old.txt", ("4" * 40,))]


def _merge_with_resolution(repo: Path) -> tuple[str, str]:
    """main and topic both change config.py; the merge resolves the conflict with a new line."""
    (repo / "config.py").write_text("RETRIES = 1\n")
    base = commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "topic")
    (repo / "config.py").write_text("RETRIES = 3\n")
    (repo / "topic.py").write_text("T = 1\n")
    commit_all(repo, "topic")
    git(repo, "checkout", "-q", "main")
    (repo / "config.py").write_text("RETRIES = 2\n")
    commit_all(repo, "main")
    subprocess.run(["git", "-C", str(repo), "merge", "-q", "topic"], capture_output=True)
    (repo / "config.py").write_text(f"RETRIES = 2\nk = '{KEY}'\n")
    return base, commit_all(repo, "merge")


def test_merge_scans_what_it_adds_beyond_all_parents(make_repo):
    repo = make_repo()
    base, merge = _merge_with_resolution(repo)
    got = [(c.commit.sha, c.path, c.lines) for c in RangeSource(repo, f"{base}..HEAD") if c.commit.sha == merge]
    # Line 1 came from main (the first parent); topic.py came from topic: neither is the merge's.
    assert got == [(merge, "config.py", frozenset({2}))]
    assert [(c.path, c.lines) for c in RangeSource(repo, merge)] == [("config.py", frozenset({2}))]
    # --merges: the merge's diff against its first parent, everything it brought to main.
    first_parent = {(c.path, c.lines) for c in RangeSource(repo, merge, merges=True)}
    assert first_parent == {("config.py", frozenset({2})), ("topic.py", frozenset({1}))}


def test_path_starting_with_the_record_marker(make_repo):
    """git log's commit marker (\\x01) at the start of a file name does not derail the parser."""
    repo = make_repo()
    (repo / "a").write_text("a\n")
    base = commit_all(repo)
    with open(os.path.join(os.fsencode(repo), b"\x01" + b"ab" * 20), "wb") as fh:
        fh.write(b"x = 1\n")
    (repo / "z.py").write_text(f"k = '{KEY}'\n")
    commit_all(repo)
    assert sorted(c.path for c in RangeSource(repo, f"{base}..HEAD")) == ["\x01" + "ab" * 20, "z.py"]


@pytest.mark.parametrize("attributes", ["*.conf -diff", "*.conf binary", "[attr]q -diff\n*.conf q", "*.conf diff=opaque"])
def test_attributes_do_not_hide_text_files(make_repo, attributes):
    """A file git calls binary because of .gitattributes (or a diff driver marked binary) is
    diffed as text: its added lines only (a secret committed before is not this change's),
    renames paired with their source."""
    repo = make_repo()
    git(repo, "config", "diff.opaque.binary", "true")
    body = "".join(f"option_{i} = a value long enough to be similar {i}\n" for i in range(20))
    (repo / ".gitattributes").write_text(attributes + "\n")
    (repo / "old.conf").write_text(f"old = {KEY}\n" + body)
    (repo / "img.conf").write_bytes(b"\0binary\n")
    base = commit_all(repo)
    git(repo, "mv", "old.conf", "new.conf")
    (repo / "new.conf").write_text(f"old = {KEY}\n" + body + "added = 1\n")
    (repo / "img.conf").write_bytes(b"\0binary\nmore\n")
    git(repo, "add", "-A")
    src = StagedSource(repo)
    # A real binary file is not re-diffed as text: its printable text is scanned for provider
    # tokens, on the lines no earlier version had.
    expected = [("img.conf", frozenset({2}), True), ("new.conf", frozenset({22}), False)]
    assert [(c.path, c.lines, c.binary) for c in src] == expected
    assert src.stats.decoded == {"binary": 1}
    commit_all(repo)
    assert [(c.path, c.lines, c.binary) for c in RangeSource(repo, f"{base}..HEAD")] == expected


def test_staged_runs_two_git_processes_without_hidden_files(make_repo, monkeypatch):
    """The hook's budget: one diff and one cat-file, a third process only for hidden files."""
    import scanner.sources.git as git_mod

    repo = make_repo()
    (repo / "a.py").write_text("a = 1\n")
    commit_all(repo)
    (repo / "a.py").write_text("a = 2\n")
    git(repo, "add", "-A")
    calls = []
    real_popen = subprocess.Popen  # subprocess.run starts its process through Popen too
    monkeypatch.setattr(git_mod.subprocess, "Popen", lambda args, **kw: calls.append(args) or real_popen(args, **kw))
    list(StagedSource(repo))
    assert len(calls) == 2, [c[3:5] for c in calls]
    (repo / ".gitattributes").write_text("*.py -diff\n")
    git(repo, "add", "-A")
    calls.clear()
    assert [c.lines for c in StagedSource(repo) if c.path == "a.py"] == [frozenset({1})]
    assert len(calls) == 3


def test_wide_and_binary_files_report_only_the_lines_a_change_adds(make_repo):
    """git has no line numbers for a UTF-16 or binary file ("Binary files differ"): the lines of
    the decoded (or printable) text that no replaced version had are the change's."""
    repo = make_repo()
    (repo / "settings.ini").write_bytes("[a]\nold = 1\nkeep = 2\n".encode("utf-16"))
    (repo / "lib.bin").write_bytes(b"\0\1header\nold strings here\n\2")
    base = commit_all(repo)
    (repo / "settings.ini").write_bytes("[a]\nold = 1\nnew = 3\nkeep = 2\n".encode("utf-16"))
    (repo / "lib.bin").write_bytes(b"\0\1header\nold strings here\nnew strings\n\2")
    git(repo, "add", "-A")
    src = StagedSource(repo)
    got = {c.path: (c.lines, c.binary, c.data.splitlines()[2]) for c in src}
    assert got == {"settings.ini": (frozenset({3}), False, b"new = 3"),
                   "lib.bin": (frozenset({3}), True, b"new strings")}
    assert src.stats.decoded == {"utf-16-le": 1, "binary": 1}
    commit_all(repo)
    assert {c.path: c.lines for c in RangeSource(repo, f"{base}..HEAD")} == {
        "settings.ini": frozenset({3}), "lib.bin": frozenset({3})}


def test_merge_of_a_wide_file_reports_what_no_parent_had(make_repo):
    repo = make_repo()
    (repo / "c.ini").write_bytes("a = 1\n".encode("utf-16-le"))
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "topic")
    (repo / "c.ini").write_bytes("a = 1\nfrom_topic = 1\n".encode("utf-16-le"))
    commit_all(repo, "topic")
    git(repo, "checkout", "-q", "main")
    (repo / "c.ini").write_bytes("a = 1\nfrom_main = 1\n".encode("utf-16-le"))
    commit_all(repo, "main")
    subprocess.run(["git", "-C", str(repo), "merge", "-q", "topic"], capture_output=True)
    (repo / "c.ini").write_bytes("a = 1\nfrom_main = 1\nfrom_topic = 1\nresolved = 1\n".encode("utf-16-le"))
    merge = commit_all(repo, "merge")
    [chunk] = [c for c in RangeSource(repo, merge) if c.commit.sha == merge]
    assert chunk.lines == frozenset({4})


def test_staged_merge_in_progress_reports_only_the_resolution(make_repo):
    """The commit that concludes a merge: lines from either side are not the change's, a line
    typed into the resolution is (as for a merge commit in range mode)."""
    repo = make_repo()
    (repo / "config.py").write_text("RETRIES = 1\n")
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "topic")
    (repo / "config.py").write_text("RETRIES = 3\n")
    (repo / "topic.py").write_text(f"k = '{KEY}'\n")  # the topic branch's own (already committed) line
    commit_all(repo, "topic")
    git(repo, "checkout", "-q", "main")
    (repo / "config.py").write_text("RETRIES = 2\n")
    commit_all(repo, "main")
    subprocess.run(["git", "-C", str(repo), "merge", "-q", "topic"], capture_output=True)
    (repo / "config.py").write_text(f"RETRIES = 2\nk = '{KEY}'\n")
    git(repo, "add", "-A")
    assert [(c.path, c.lines) for c in StagedSource(repo)] == [("config.py", frozenset({2}))]
    # Conflicts not yet resolved: the index has no tree; the plain staged diff is scanned.
    git(repo, "reset", "-q", "--merge")
    subprocess.run(["git", "-C", str(repo), "merge", "-q", "topic"], capture_output=True)
    assert {c.path for c in StagedSource(repo)} <= {"config.py", "topic.py"}


def test_user_git_configuration_does_not_change_the_added_lines(make_repo):
    """diff.interHunkContext would merge hunks with the unchanged lines between them (an old
    secret there would count as added), diff.relative would hide files outside the current
    folder, log.showSignature would add lines to git log's output."""
    repo = make_repo()
    (repo / "sub").mkdir()
    (repo / "a.py").write_text(f"x = 1\nold = '{KEY}'\ny = 1\n")
    (repo / "sub" / "b.py").write_text("z = 1\n")
    base = commit_all(repo)
    for key, value in (("diff.interHunkContext", "5"), ("diff.relative", "true"), ("log.showSignature", "true")):
        git(repo, "config", key, value)
    (repo / "a.py").write_text(f"x = 2\nold = '{KEY}'\ny = 2\n")
    (repo / "sub" / "b.py").write_text("z = 2\n")
    git(repo, "add", "-A")
    want = [("a.py", frozenset({1, 3})), ("sub/b.py", frozenset({1}))]
    assert sorted((c.path, c.lines) for c in StagedSource(repo / "sub")) == want
    commit_all(repo)
    assert sorted((c.path, c.lines) for c in RangeSource(repo / "sub", f"{base}..HEAD")) == want


def test_hidden_files_beyond_a_command_line_are_still_revealed(make_repo, monkeypatch):
    """Too many hidden paths (or commits) for one command line: the re-diff covers everything."""
    import scanner.sources.diff as diff_mod

    monkeypatch.setattr(diff_mod, "ARGS_LIMIT", 10)
    repo = make_repo()
    (repo / ".gitattributes").write_text("*.conf -diff\n")
    (repo / "a.conf").write_text("a = 1\n")
    (repo / "plain.py").write_text("p = 1\n")
    base = commit_all(repo)
    (repo / "a.conf").write_text("a = 1\nb = 2\n")
    (repo / "another.conf").write_text("c = 3\n")
    (repo / "plain.py").write_text("p = 1\nq = 2\n")
    git(repo, "add", "-A")
    want = [("a.conf", frozenset({2})), ("another.conf", frozenset({1})), ("plain.py", frozenset({2}))]
    assert sorted((c.path, c.lines) for c in StagedSource(repo)) == want
    commit_all(repo)
    assert sorted((c.path, c.lines) for c in RangeSource(repo, f"{base}..HEAD")) == want


def test_octopus_merge_reports_what_no_parent_had(make_repo):
    repo = make_repo()
    (repo / "a.py").write_text("a = 1\n")
    commit_all(repo, "base")
    for name in ("one", "two"):
        git(repo, "checkout", "-q", "-b", name, "main")
        (repo / f"{name}.py").write_text(f"{name} = 1\n")
        commit_all(repo, name)
    git(repo, "checkout", "-q", "main")
    (repo / "a.py").write_text("a = 2\n")
    commit_all(repo, "main")
    git(repo, "merge", "-q", "--no-commit", "one", "two")
    (repo / "two.py").write_text("two = 1\nadded = 1\n")
    merge = commit_all(repo, "octopus")
    assert [(c.path, c.lines) for c in RangeSource(repo, merge)] == [("two.py", frozenset({2}))]


def test_first_occurrences_knows_a_value_with_or_without_its_fingerprint():
    """A finding below the reporting floor has no fingerprint yet (Engine(defer_below=...)): the
    same value at the same place in a later commit is still the same finding, whether that one
    was identified or not, and two values at one place are two."""
    engine = Engine(Config(), backend="keywords", defer_below="medium")
    commits = iter(CommitInfo(f"{i:040x}", "a", "a@example.org", "2024-01-01T00:00:00+00:00") for i in range(3))

    def found(value: str, minified: bool = False):
        # A line of generated length lowers a generic finding below the floor (the minified signal).
        rest = "  # " + "see notes " * 100 if minified else ""
        [f] = engine.scan(Chunk(path="app/db.py", data=f'password = "{value}"{rest}\n'.encode(), commit=next(commits)))
        return f

    value = weak_password()
    shown, hidden, other = found(value), found(value, minified=True), found(weak_password(), minified=True)
    assert shown.identified and not hidden.identified and not other.identified
    assert first_occurrences([shown, hidden, other]) == [shown, other]
