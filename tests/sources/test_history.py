"""History source: every blob of every ref scanned once, findings attributed to their first commit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from scanner.config import Config
from scanner.errors import LeakstopError
from scanner.sources.git import open_repo
from scanner.sources.history import HistoryOptions, resolve_branch, resolve_commit, scan_history
from scanner.sources.history_state import run_history
from tests.sources.history_helpers import IDENTITY, KEY1, KEY2, KEY3, Repo, fake_aws_key, small_engine


def scan(repo: Path, engine=None, **opts):
    engine = engine or small_engine()
    return scan_history(repo, engine, HistoryOptions(jobs=2, **opts), open_repo(repo))


def by_value(result) -> dict:
    """findings keyed by the hash of their value (never the value itself)."""
    return {f.secret_hash: f for f in result.findings}


def hv(value: str) -> str:
    return IDENTITY.value_hash(value.encode())


def test_secret_added_then_removed_is_found_with_first_commit(tmp_path):
    r = Repo(tmp_path / "r")
    r.commit("init", **{"app.py": "print('hi')\n"})
    added = r.commit("add config", author="Alice", **{"config.py": f"x = 1\naws = '{KEY1}'\n"})
    r.rm("config.py")
    removed = r.commit("remove it")
    res = scan(r.path)
    found = by_value(res)
    assert set(found) == {hv(KEY1)}
    f = found[hv(KEY1)]
    assert f.commit.sha == added and f.commit.author == "Alice" and f.commit.date.startswith("2024-01-02")
    assert f.path == "config.py" and f.line == 2
    assert f.extra["first_commit"]["sha"] == added and f.extra["first_commit"]["path"] == "config.py"
    assert f.extra["live_at_head"] is False
    assert f.extra["removed_commit"]["sha"] == removed
    assert f.extra["commits"] == 1 and f.extra["paths"] == 1
    assert f.masked == KEY1[:4] + "…"
    assert f.secret == b""  # reported history findings carry no value


def test_counts_commits_paths_and_liveness(tmp_path):
    r = Repo(tmp_path / "r")
    first = r.commit("one", **{"a.py": f"k = '{KEY1}'\n"})
    r.commit("two", **{"a.py": f"# edited\nk = '{KEY1}'\n"})  # new blob, same secret
    r.commit("three", **{"dir/b.env": f"KEY={KEY1}\n"})  # another path
    r.commit("four", **{"c.txt": "nothing\n"})
    f = by_value(scan(r.path))[hv(KEY1)]
    assert f.commit.sha == first and f.path == "a.py" and f.line == 1
    assert f.extra["commits"] == 3
    assert f.extra["paths"] == 2 and f.extra["path_list"] == ["a.py", "dir/b.env"]
    assert f.extra["live_at_head"] is True and "removed_commit" not in f.extra


def test_versions_of_a_long_file_are_attributed_like_whole_files(tmp_path):
    # Each version after the first is scanned as a delta against the one before (newest first):
    # the secret on unchanged lines is carried back to the older versions at their line numbers.
    body = [f"line_{i} = compute({i})" for i in range(600)]
    r = Repo(tmp_path / "r")
    r.commit("base", **{"big.py": "\n".join(body) + "\n"})
    body[299] = f"aws = '{KEY1}'"
    first = r.commit("add", author="Alice", **{"big.py": "\n".join(body) + "\n"})
    body[10], body[590] = "top = edited", "bottom = edited"  # two far-apart hunks
    r.commit("edit", **{"big.py": "\n".join(body) + "\n"})
    body[:0] = [f"header_{i} = 0" for i in range(5)]
    r.commit("insert above", **{"big.py": "\n".join(body) + "\n"})
    body[304] = "aws = None"
    removed = r.commit("remove", **{"big.py": "\n".join(body) + "\n"})
    r.commit("later", **{"big.py": "\n".join(body[:-1]) + "\n"})
    for jobs in (1, 2):
        res = scan_history(r.path, small_engine(), HistoryOptions(jobs=jobs), open_repo(r.path))
        [f] = res.findings
        assert f.secret_hash == hv(KEY1)
        assert f.commit.sha == first and f.line == 300 and f.column == 8
        assert f.extra["commits"] == 3 and f.extra["live_at_head"] is False
        assert f.extra["removed_commit"]["sha"] == removed


def test_without_fork_the_history_is_scanned_in_process_with_the_same_findings(tmp_path, monkeypatch):
    """Where processes cannot fork (Windows), the history's batches are scanned in this process,
    as a worker scans them: each version as a delta, values attributed by blob. (It failed with a
    TypeError: each unit went through the one-unit path, and its result was keyed by the unit.)"""
    from scanner import execute

    body = [f"line_{i} = compute({i})" for i in range(300)]
    r = Repo(tmp_path / "r")
    r.commit("base", **{"big.py": "\n".join(body) + "\n", "a.env": f"KEY={KEY2}\n"})
    body[150] = f"aws = '{KEY1}'"
    r.commit("add", **{"big.py": "\n".join(body) + "\n"})
    body[10] = "top = edited"
    r.commit("edit", **{"big.py": "\n".join(body) + "\n"})

    def shape(res):
        return sorted((f.secret_hash, f.commit.sha, f.path, f.line, f.extra["commits"]) for f in res.findings)

    forked = scan_history(r.path, small_engine(), HistoryOptions(jobs=2), open_repo(r.path))
    monkeypatch.setattr(execute, "can_fork", lambda: False)
    alone = scan_history(r.path, small_engine(), HistoryOptions(jobs=2), open_repo(r.path))
    assert shape(alone) == shape(forked) and {f.secret_hash for f in alone.findings} == {hv(KEY1), hv(KEY2)}
    assert alone.stats.scanned == forked.stats.scanned == 4 and alone.stats.commits == 3


def test_each_unique_blob_is_read_once(tmp_path):
    r = Repo(tmp_path / "r")
    r.commit("one", **{"a.py": f"k = '{KEY1}'\n", "same.py": f"k = '{KEY1}'\n"})  # one blob, two paths
    r.commit("two", **{"a.py": "clean\n"})
    r.git("revert", "--no-edit", "HEAD", env=r.env())  # brings the first blob back
    r.git("mv", "same.py", "moved.py")
    r.commit("rename")  # same blob at a new path
    res = scan(r.path)
    # Unique blobs: the secret one and "clean\n".
    assert res.stats.scanned == 2
    f = by_value(res)[hv(KEY1)]
    assert f.extra["paths"] == 3 and f.extra["commits"] == 3  # one, revert, rename


def test_all_refs_by_default_branch_narrows(tmp_path):
    r = Repo(tmp_path / "r")
    r.commit("base", **{"a.py": "x = 1\n"})
    r.git("checkout", "-q", "-b", "feature")
    r.commit("side", **{"f.py": f"k = '{KEY1}'\n"})
    r.git("checkout", "-q", "main")
    r.git("checkout", "-q", "--detach")
    r.commit("tagged only", **{"t.py": f"k = '{KEY2}'\n"})
    r.git("tag", "-a", "-m", "t", "v1")
    r.git("checkout", "-q", "main")
    r.write("s.py", f"k = '{KEY3}'\n")
    r.git("add", "s.py")
    r.git("stash", "-q", env=r.env())  # secrets in a stash are history too
    assert set(by_value(scan(r.path))) == {hv(KEY1), hv(KEY2), hv(KEY3)}
    only_main = scan(r.path, refs=(resolve_branch(r.path, "main"),))
    assert only_main.findings == []
    feature = scan(r.path, refs=(resolve_branch(r.path, "feature"),))
    assert set(by_value(feature)) == {hv(KEY1)}


def test_secret_only_in_a_merge_resolution_is_attributed_to_the_merge(tmp_path):
    r = Repo(tmp_path / "r")
    r.commit("base", **{"a.py": "x = 1\n"})
    r.git("checkout", "-q", "-b", "side")
    r.commit("side", **{"a.py": "x = 2\n"})
    r.git("checkout", "-q", "main")
    r.commit("main", **{"a.py": "x = 3\n"})
    subprocess.run(["git", "-C", str(r.path), "merge", "-q", "side"], capture_output=True, env=r.env())
    r.write("a.py", f"x = '{KEY1}'\n")  # the "resolution" adds a secret no parent had
    r.git("add", "a.py")
    r.git("commit", "-q", "--no-edit", env=r.env())
    merge = r.git("rev-parse", "HEAD")
    f = by_value(scan(r.path))[hv(KEY1)]
    assert f.commit.sha == merge and f.extra["commits"] == 1 and f.extra["live_at_head"] is True


def test_since_skips_older_commits(tmp_path):
    r = Repo(tmp_path / "r")
    r.commit("old", **{"a.py": f"k = '{KEY1}'\n"})
    mid = r.commit("mid", **{"b.py": "x\n"})
    r.commit("new", **{"c.py": f"k = '{KEY2}'\n"})
    res = scan(r.path, excludes=(resolve_commit(r.path, mid, "--since"),))
    assert set(by_value(res)) == {hv(KEY2)}
    assert res.stats.commits == 1


def test_odd_file_names(tmp_path):
    r = Repo(tmp_path / "r")
    r.write("with space.py", f"k = '{KEY1}'\n")
    r.write("new\nline.py", f"k = '{KEY2}'\n")
    r.write(b"latin1-\xe9.py", f"k = '{KEY3}'\n".encode())
    r.git("add", "-A")
    r.git("commit", "-q", "-m", "odd", env=r.env())
    paths = {f.secret_hash: f.path for f in scan(r.path).findings}
    assert paths == {hv(KEY1): "with space.py", hv(KEY2): "new\nline.py", hv(KEY3): "latin1-\\xe9.py"}


def test_submodule_and_oversized_are_skipped_binary_scanned_and_counted(tmp_path):
    sub = Repo(tmp_path / "sub")
    sub.commit("s", **{"s.py": f"k = '{KEY2}'\n"})
    r = Repo(tmp_path / "r")
    r.commit("base", **{"a.py": "x\n"})
    r.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.path), "vendor/sub")
    r.write("big.txt", f"k = '{KEY1}'\n" + "x" * 5000)
    r.write("bin.dat", b"\0\1\2" + f"k = '{KEY3}'".encode())
    r.commit("more")
    res = scan(r.path, engine=small_engine(Config(max_file_size=1000)))
    # The submodule's own history is not walked and the big file is skipped; the binary file's
    # printable text is scanned.
    assert [(f.path, f.secret_hash) for f in res.findings] == [("bin.dat", hv(KEY3))]
    assert res.stats.skipped["submodule"] == 1
    assert res.stats.skipped["too large"] == 1 and res.stats.decoded == {"binary": 1}
    assert any("1 blob(s) over the 1000 bytes size limit were not scanned (big.txt)" in n for n in res.stats.notes)
    assert any("submodule" in n and "vendor/sub" in n for n in res.stats.notes)


def test_bare_detached_and_shallow(tmp_path):
    r = Repo(tmp_path / "r")
    r.commit("one", **{"a.py": f"k = '{KEY1}'\n"})
    r.commit("two", **{"b.py": f"k = '{KEY2}'\n"})
    r.commit("three", **{"c.py": "x\n"})
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(r.path), str(bare)], check=True)
    assert set(by_value(scan(bare))) == {hv(KEY1), hv(KEY2)}
    r.git("checkout", "-q", "--detach", "HEAD~1")
    res = scan(r.path)
    assert set(by_value(res)) == {hv(KEY1), hv(KEY2)} and all(f.extra["live_at_head"] for f in res.findings)
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "main", f"file://{r.path}", str(shallow)],
                   check=True)
    res = scan(shallow)
    # The boundary commit introduces its whole tree: both secrets are still there.
    assert set(by_value(res)) == {hv(KEY1), hv(KEY2)} and res.stats.commits == 1
    assert any("shallow" in n for n in res.stats.notes)


def test_empty_repository_and_unborn_head(tmp_path):
    r = Repo(tmp_path / "r")
    res = scan(r.path)
    assert res.findings == [] and any("empty repository" in n for n in res.stats.notes)
    r.commit("one", **{"a.py": f"k = '{KEY1}'\n"})
    r.git("checkout", "-q", "--orphan", "fresh")  # HEAD now names a branch with no commits
    res = scan(r.path)
    f = by_value(res)[hv(KEY1)]
    assert f.extra["live_at_head"] is False
    assert any("unborn" in n for n in res.stats.notes)


def test_not_a_repository_and_bad_revisions(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(LeakstopError, match="not a git repository"):
        open_repo(plain)
    with pytest.raises(LeakstopError, match="no such directory"):
        open_repo(tmp_path / "missing")
    r = Repo(tmp_path / "r")
    r.commit("one", **{"a.py": "x\n"})
    with pytest.raises(LeakstopError, match="--branch: no branch or ref named 'nope'"):
        resolve_branch(r.path, "nope")
    with pytest.raises(LeakstopError, match="--since: unknown revision 'deadbeef'"):
        resolve_commit(r.path, "deadbeef", "--since")
    with pytest.raises(LeakstopError, match="invalid revision"):
        resolve_commit(r.path, "--all", "--since")


def test_allowlisted_and_excluded_paths(tmp_path):
    r = Repo(tmp_path / "r")
    r.commit("one", **{"fixtures/a.py": f"k = '{KEY1}'\n", "src/b.py": f"k = '{KEY2}'\n"})
    r.commit("two", **{"src/copy.py": f"k = '{KEY1}'\n"})  # same value at an allowed path later
    from scanner.config import Allowlist

    engine = small_engine(Config(exclude=("fixtures/",)))
    f = by_value(scan(r.path, engine=engine))
    assert set(f) == {hv(KEY1), hv(KEY2)}
    assert f[hv(KEY1)].path == "src/copy.py"  # the excluded first occurrence is not reported
    engine = small_engine(Config(allowlist=Allowlist(paths=("src/",))))
    assert set(by_value(scan(r.path, engine=engine))) == {hv(KEY1)}
    assert by_value(scan(r.path, engine=engine))[hv(KEY1)].extra["paths"] == 1


def test_incremental_skips_scanned_commits_and_matches_a_full_run(tmp_path):
    r = Repo(tmp_path / "r")
    first = r.commit("one", **{"a.py": f"k = '{KEY1}'\n"})
    r.commit("two", **{"b.py": "x\n"})
    engine = small_engine()
    info = open_repo(r.path)
    opts = HistoryOptions(jobs=1)
    res1 = run_history(str(r.path), engine, opts, info, incremental=True)
    assert res1.stats.commits == 2 and res1.stats.scanned == 2
    assert (info.git_dir / "leakstop" / "history.json").is_file()
    state = (info.git_dir / "leakstop" / "history.json").read_text()
    assert KEY1 not in state, "state must hold masked values only"
    # New work: the old secret copied to a new path, a new secret, the old file removed.
    r.commit("three", **{"c.py": f"k = '{KEY1}'\n", "d.py": f"k = '{KEY2}'\n"})
    r.rm("a.py")
    r.commit("four")
    res2 = run_history(str(r.path), engine, opts, open_repo(r.path), incremental=True)
    assert res2.stats.commits == 2  # only the new commits were walked
    assert res2.stats.scanned == 1  # only d.py's blob is new (c.py's content was read before)
    full = scan_history(str(r.path), engine, opts, open_repo(r.path))
    summary = lambda res: sorted(  # noqa: E731
        (f.secret_hash, f.commit.sha, f.path, f.extra["commits"], f.extra["paths"], f.extra["live_at_head"])
        for f in res.findings)
    assert summary(res2) == summary(full)
    f = by_value(res2)[hv(KEY1)]
    assert f.commit.sha == first and f.extra["commits"] == 2 and f.extra["paths"] == 2
    # Nothing new: nothing walked, same report.
    res3 = run_history(str(r.path), engine, opts, open_repo(r.path), incremental=True)
    assert res3.stats.commits == 0 and res3.stats.scanned == 0 and summary(res3) == summary(full)
    # Different rules: the old state does not apply.
    other = small_engine(Config(max_file_size=12345))
    res4 = run_history(str(r.path), other, opts, open_repo(r.path), incremental=True)
    assert res4.stats.commits == 4


def test_many_blobs_across_workers(tmp_path):
    """Enough blobs for several batches per worker; all are scanned, findings all attributed."""
    r = Repo(tmp_path / "r")
    files = {f"f{i:04d}.txt": f"line {i}\n" for i in range(700)}
    files["z/secret.py"] = f"k = '{KEY1}'\n"
    r.commit("many", **files)
    res = scan(r.path)
    assert res.stats.scanned == 701
    assert set(by_value(res)) == {hv(KEY1)}


def test_git_failure_mid_scan_is_one_error_and_stops_workers(tmp_path, monkeypatch):
    r = Repo(tmp_path / "r")
    r.commit("one", **{"a.py": f"k = '{KEY1}'\n"})
    import scanner.sources.history as hist

    monkeypatch.setattr(hist, "log_command", lambda revs, excludes: ["log", "--no-such-option"])
    import time

    t = time.perf_counter()
    with pytest.raises(LeakstopError, match="git log"):
        scan(r.path)
    assert time.perf_counter() - t < 4  # workers were stopped, not waited for


def test_version_cache_keeps_recent_paths_within_its_byte_budget():
    from scanner.engine import Version
    from scanner.sources.history import VersionCache

    cache = VersionCache(budget=10)
    cache.put("a", Version(b"aaaa", ()))
    cache.put("b", Version(b"bbbb", ()))
    assert cache.pop("a").data == b"aaaa"  # taken out: the caller puts the newer version back
    cache.put("a", Version(b"AAAA", ()))
    cache.put("c", Version(b"cccc", ()))  # 12 bytes held: the least recently used ("b") goes
    assert cache.pop("b") is None
    assert cache.pop("a").data == b"AAAA" and cache.pop("c").data == b"cccc"


def test_symlink_target_is_scanned(tmp_path):
    """A token stored as a symbolic link's target (a mode 120000 blob) is found, attributed to the
    link's path, and its removal is tracked like a file's."""
    key = fake_aws_key()
    r = Repo(tmp_path / "r")
    r.commit("base", **{"a.py": "x = 1\n"})
    os.symlink(key, r.path / "link")
    added = r.commit("add link")
    r.rm("link")
    removed = r.commit("remove link")
    f = by_value(scan(r.path))[hv(key)]
    assert f.path == "link" and f.commit.sha == added and f.line == 1
    assert f.extra["live_at_head"] is False and f.extra["removed_commit"]["sha"] == removed


def test_incremental_does_not_record_an_unreadable_blob_as_read(tmp_path):
    """A blob git log names but cat-file cannot read is reported (count and note) and not
    recorded as scanned: once it is back, the next --incremental run scans it."""
    key, other = fake_aws_key(), fake_aws_key()
    r = Repo(tmp_path / "r")
    r.commit("one", **{"a.py": "x = 1\n"})
    r.commit("two", **{"b.py": f"k = '{key}'\n", "d.py": f"k = '{other}'\n"})
    blob = r.git("rev-parse", "HEAD:b.py")
    obj = r.path / ".git" / "objects" / blob[:2] / blob[2:]
    saved = obj.read_bytes()
    obj.unlink()
    engine, opts = small_engine(), HistoryOptions(jobs=1)
    res = run_history(str(r.path), engine, opts, open_repo(r.path), incremental=True)
    assert set(by_value(res)) == {hv(other)} and res.stats.skipped["missing"] == 1
    assert any("could not be read" in n for n in res.stats.notes)
    # The blob comes back and the walk moves on. (Committing while it is gone failed now and then:
    # an index entry written in the same second as its file is "racy", and git rereads the
    # blob to compare.)
    obj.write_bytes(saved)
    r.commit("three", **{"c.py": "y = 2\n"})
    res = run_history(str(r.path), engine, opts, open_repo(r.path), incremental=True)
    f = by_value(res)[hv(key)]
    assert f.path == "b.py" and f.extra["commits"] == 1 and "missing" not in res.stats.skipped
    assert by_value(res)[hv(other)].extra["commits"] == 1  # found twice, counted once
    # and the state is now complete: a third run reads nothing and reports the same
    again = run_history(str(r.path), engine, opts, open_repo(r.path), incremental=True)
    assert again.stats.scanned == 0 and set(by_value(again)) == {hv(key), hv(other)}
    assert by_value(again)[hv(key)].extra["commits"] == 1


def test_worker_bug_is_reported_without_its_message(tmp_path, monkeypatch):
    """A bug in a worker: its type and place, never its message (which can quote scanned text)."""
    r = Repo(tmp_path / "r")
    r.commit("one", **{"a.py": f"k = '{KEY1}'\n"})
    engine = small_engine()

    def boom(chunk, version):
        int(chunk.data.decode())  # ValueError quoting the blob's text

    monkeypatch.setattr(engine, "scan_version", boom)
    with pytest.raises(LeakstopError) as info:
        scan(r.path, engine)
    assert "internal error: ValueError at " in info.value.message and KEY1 not in info.value.message


def test_liveness_in_other_refs(tmp_path):
    """Before: a secret removed at HEAD but still on a branch or tag was reported 'removed'."""
    r = Repo(tmp_path / "r")
    r.commit("keys", **{"a.py": f"k = '{KEY1}'\n", "sub/b.py": f"k = '{KEY2}'\n", "c.py": f"k = '{KEY3}'\n"})
    r.git("tag", "-a", "v1", "-m", "release")  # annotated: peeled to its commit
    r.git("branch", "feature")
    r.rm("a.py", "sub/b.py")
    r.commit("remove two")
    r.git("checkout", "-q", "feature")
    r.rm("sub/b.py")
    r.commit("feature drops b")
    r.git("checkout", "-q", "main")
    got = {f.secret_hash: (f.extra["live_at_head"], f.extra["live_refs"], f.extra["live_ref_count"])
           for f in scan(r.path).findings}
    assert got == {
        hv(KEY1): (False, ["refs/heads/feature", "refs/tags/v1"], 2),
        hv(KEY2): (False, ["refs/tags/v1"], 1),
        hv(KEY3): (True, ["refs/heads/feature", "refs/heads/main", "refs/tags/v1"], 3),
    }
    only_main = {f.secret_hash: f.extra["live_refs"] for f in scan(r.path, refs=("refs/heads/main",)).findings}
    # --branch main: other refs are not looked at
    assert only_main == {hv(KEY1): [], hv(KEY2): [], hv(KEY3): ["refs/heads/main"]}


def test_ref_lookups_are_bounded(tmp_path, monkeypatch):
    import scanner.sources.history as hist

    r = Repo(tmp_path / "r")
    r.commit("one", **{"a.py": f"k = '{KEY1}'\n"})
    monkeypatch.setattr(hist, "MAX_REF_LOOKUPS", 0)
    res = scan(r.path)
    [f] = res.findings
    assert "live_refs" not in f.extra and f.extra["live_at_head"] is True
    assert any("live_refs is left out" in n for n in res.stats.notes)


def test_enumerate_scan_and_attribute_each_work_on_their_own(tmp_path):
    """The history source's three steps used one by one, in this process, without the executor
    and without delta scanning: the same findings as the parallel scan."""
    from scanner.sources.history import HistorySource

    r = Repo(tmp_path / "r")
    r.commit("init", **{"app.py": "print('hi')\n", "conf/a.env": f"AWS={KEY1}\n"})
    r.commit("more", author="Alice", **{"app.py": f"k = '{KEY2}'\n"})
    r.rm("conf/a.env")
    r.commit("remove")
    engine = small_engine()
    source = HistorySource(r.path, engine, HistoryOptions(), open_repo(r.path))
    units = list(source.units())
    assert sorted(path for _, path in units) == ["app.py", "app.py", "conf/a.env"]
    results = []
    for unit in units:
        found = [f for chunk in source.load(unit) for f in engine.scan(chunk)]
        if found:
            results.append((unit[0], found))
    alone = source.attribute(results)
    together = scan(r.path).findings
    assert [f.to_dict() for f in alone] == [f.to_dict() for f in together] and len(alone) == 2
    assert source.stats.scanned == 3 and source.stats.commits == 3


def test_a_much_edited_file_is_spread_over_the_workers_in_runs(tmp_path, monkeypatch):
    """A path's versions go to the workers in runs (HistorySource.route): the versions of one run
    share a route, the path's next run takes its own. A run that starts on another worker is a
    delta of an older version there, or a whole scan; the findings are those of one worker
    scanning every version."""
    from scanner.sources import history
    from scanner.sources.history import HistorySource

    monkeypatch.setattr(history, "ROUTE_RUN", 3)
    r = Repo(tmp_path / "r")
    body = [f"line_{i} = {i}" for i in range(200)]
    for v in range(20):
        body[(v * 37) % 200] = f"edited_{v} = {v}"
        if v == 4:
            body[50] = f"aws = '{KEY1}'"
        if v == 11:
            body[120] = f"aws2 = '{KEY2}'"
        if v == 15:
            body[50] = "aws = None"
        r.commit(f"v{v}", **{"app.py": "\n".join(body) + "\n"})
    source = HistorySource(r.path, small_engine(), HistoryOptions(), open_repo(r.path))
    units = list(source.units())
    routes = [source.route(u) for u in units]
    assert len(units) == 20 and all(routes[i] == routes[i - i % 3] for i in range(20))
    assert len(set(routes)) == 7  # each run its own route: the pool puts it on the least busy worker
    one, two = (scan_history(r.path, small_engine(), HistoryOptions(jobs=j), open_repo(r.path)) for j in (1, 2))
    assert [f.to_dict() for f in one.findings] == [f.to_dict() for f in two.findings]
    assert {f.secret_hash for f in two.findings} == {hv(KEY1), hv(KEY2)}
