"""The one git plumbing module: running git, the cat-file reader, repository discovery."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.errors import LeakstopError
from scanner.sources.git import (CatFile, common_git_dir, find_work_tree, open_repo, run_git, toplevel,
                                 toplevel_or_none, work_tree_git_dir)
from tests.conftest import git


def _blob(repo: Path, data: bytes) -> str:
    return run_git(repo, ["hash-object", "-w", "--stdin"], input=data).decode().strip()


def test_cat_file_reads_one_at_a_time_and_streams_big_blobs(make_repo):
    repo = make_repo()
    small, big = _blob(repo, b"hello\n"), _blob(repo, b"x" * 5000)
    tree = run_git(repo, ["write-tree"]).decode().strip()
    with CatFile(repo) as reader:
        assert reader.read(small, 100) == ("ok", b"hello\n")
        assert reader.read(big, 100) == ("too large", None)
        assert reader.read("0" * 40, 100) == ("missing", None)
        assert reader.read(tree, 100) == ("missing", None)  # not a blob
        assert reader.read(big, 100, stream=True) == ("stream", None)
        first = reader.piece(1000)
        assert first == b"x" * 1000
        # The rest of a streamed blob is skipped at the next read.
        assert reader.read(small, 100) == ("ok", b"hello\n")


def test_cat_file_pipelined_answers_in_request_order(make_repo):
    repo = make_repo()
    bodies = [f"v{i}\n".encode() * (i + 1) for i in range(50)]
    names = [_blob(repo, b) for b in bodies]
    reader = CatFile(repo, pipelined=True)
    reader.request(names[:25])
    reader.request(["0" * 40, *names[25:]])
    reader.end_requests()
    got = []
    while (answer := reader.next(60))[0] != "end":
        got.append(answer[:2])
    reader.close()
    want = [("ok", b) if len(b) <= 60 else ("too large", None) for b in bodies]
    assert got == want[:25] + [("missing", None)] + want[25:]
    assert ("ok", bodies[0]) in got and ("too large", None) in got


def test_run_git_failure_is_one_line(make_repo):
    repo = make_repo()
    with pytest.raises(LeakstopError) as exc:
        run_git(repo, ["rev-parse", "--verify", "no-such-rev"])
    assert "\n" not in exc.value.message and exc.value.message.startswith("git rev-parse --verify: ")


def test_discovery_of_a_linked_work_tree(make_repo, tmp_path):
    repo = make_repo()
    (repo / "a").write_text("a\n")
    git(repo, "add", "a")
    git(repo, "commit", "-q", "-m", "a")
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked))
    (linked / "sub").mkdir()
    assert find_work_tree(linked / "sub") == linked.resolve()
    assert work_tree_git_dir(linked.resolve()).resolve() == (repo / ".git" / "worktrees" / "linked").resolve()
    assert common_git_dir(linked / "sub") == (repo / ".git").resolve()
    assert common_git_dir(repo) == repo.resolve() / ".git"
    assert toplevel(linked / "sub") == linked.resolve()
    info = open_repo(linked)
    assert not info.bare and info.head and info.head_ref == "refs/heads/linked"


def test_outside_a_repository(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    plain = tmp_path / "plain"
    plain.mkdir()
    assert toplevel_or_none(plain) is None
    with pytest.raises(LeakstopError, match="not a git repository"):
        toplevel(plain)
    with pytest.raises(LeakstopError, match="not a git repository"):
        open_repo(plain)
    with pytest.raises(LeakstopError, match="no such directory"):
        open_repo(plain / "missing")
    assert os.path.isdir(plain) and common_git_dir(plain) in (None, *[p / ".git" for p in plain.parents])
