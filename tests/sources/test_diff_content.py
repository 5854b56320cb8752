"""Diff sources and content: a blob over the size limit is scanned in windows (the gate has no
size to slip past)."""

from __future__ import annotations

from tests.conftest import git
from scanner.sources.diff import RangeSource, StagedSource
from tests.sources.test_diff import commit_all


def test_blob_over_the_size_limit_is_scanned_in_windows(make_repo, monkeypatch):
    """A gate has no size limit to slip past: a big blob is streamed (bounded memory) and only
    its added lines count, numbered as in the file."""
    import scanner.sources.windows as W
    from scanner.config import Config
    from scanner.engine import Engine
    from tests.sources.history_helpers import fake_aws_key

    monkeypatch.setattr(W, "WINDOW", 4096)
    monkeypatch.setattr(W, "OVERLAP", 512)
    old, new = fake_aws_key(), fake_aws_key()
    repo = make_repo()
    lines = [f"row {i}" for i in range(3000)]
    lines[10] = f"old = '{old}'"
    (repo / "dump.txt").write_text("\n".join(lines) + "\n")
    base = commit_all(repo)
    lines[2500] = f"new = '{new}'"
    (repo / "dump.txt").write_text("\n".join(lines) + "\n")
    git(repo, "add", "-A")
    engine = Engine(Config())
    src = StagedSource(repo, max_file_size=1000)
    chunks = list(src)
    assert len(chunks) > 3 and all(len(c.data) <= 4096 for c in chunks)
    found = [(f.path, f.line) for c in chunks for f in engine.scan(c)]
    assert found == [("dump.txt", 2501)] and src.stats.streamed == 1
    commit_all(repo)
    rng = RangeSource(repo, f"{base}..HEAD", max_file_size=1000)
    assert [(f.path, f.line) for c in rng for f in engine.scan(c)] == [("dump.txt", 2501)]
