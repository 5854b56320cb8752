"""Directory walks: .gitignore (nested), --exclude, binary and size skips, stdin."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from scanner.errors import LeakstopError
from scanner.sources.files import FileSource


def tree(root: Path, files: dict[str, bytes | str]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())


def paths(src: FileSource) -> list[str]:
    return sorted(c.path for c in src)


def test_walk_honours_gitignore_and_nested(tmp_path: Path):
    (tmp_path / ".git").mkdir()
    tree(tmp_path, {
        ".gitignore": "*.log\nbuild/\n",
        "a.py": "x", "debug.log": "x", "build/out.py": "x",
        "sub/.gitignore": "local.txt\n!keep.log\n", "sub/local.txt": "x", "sub/b.py": "x", "sub/keep.log": "x",
        ".git/config": "x",
    })
    os.chdir(tmp_path)
    assert paths(FileSource(["."], 10**6)) == [".gitignore", "a.py", "sub/.gitignore", "sub/b.py", "sub/keep.log"]


def test_gitignore_above_start_dir_applies(tmp_path: Path):
    (tmp_path / ".git").mkdir()
    tree(tmp_path, {".gitignore": "secret.txt\n", "pkg/secret.txt": "x", "pkg/ok.txt": "x"})
    assert paths(FileSource([str(tmp_path / "pkg")], 10**6)) == [str(tmp_path / "pkg/ok.txt")]


def test_exclude_and_skip_counts(tmp_path: Path):
    tree(tmp_path, {"a.txt": "x", "vendor/b.txt": "x", "img.png": b"\x89PNG\0\0\0", "big.txt": "y" * 2000})
    src = FileSource([str(tmp_path)], max_file_size=1000, exclude=["vendor/"])
    got = paths(src)
    assert got == [str(tmp_path / "a.txt"), str(tmp_path / "img.png")]
    assert src.stats.skipped == {"excluded": 1, "too large": 1} and src.stats.decoded == {"binary": 1}
    assert src.stats.scanned == 2


def test_named_directory_inside_an_ignored_one_is_scanned(tmp_path: Path):
    """`leakstop scan .venv/lib` with `.venv/` gitignored: before, 0 files and no word of why.
    A pattern that ignores the named directory or a parent of it is dropped; patterns that match
    entries below it (*.pyc, a nested .gitignore) still apply, and ignored entries are counted."""
    (tmp_path / ".git").mkdir()
    tree(tmp_path, {
        ".gitignore": ".venv/\n*.pyc\n/lib/\n",
        ".venv/lib/pkg/a.py": "x", ".venv/lib/pkg/a.pyc": "x", ".venv/lib/pkg/.gitignore": "gen/\n",
        ".venv/lib/pkg/gen/b.py": "x", ".venv/lib/lib/c.py": "x", "app.py": "x",
    })
    named = tmp_path / ".venv" / "lib"
    src = FileSource([str(named)], 10**6)
    assert paths(src) == [str(named / p) for p in ("lib/c.py", "pkg/.gitignore", "pkg/a.py")]
    assert src.stats.skipped == {"gitignored": 2}  # a.pyc and gen/
    os.chdir(tmp_path / ".venv")
    assert paths(FileSource(["."], 10**6)) == ["lib/lib/c.py", "lib/pkg/.gitignore", "lib/pkg/a.py"]
    os.chdir(tmp_path)
    whole = FileSource(["."], 10**6)
    assert paths(whole) == [".gitignore", "app.py"] and whole.stats.skipped == {"gitignored": 1}


def test_explicit_file_is_scanned_even_if_ignored(tmp_path: Path):
    (tmp_path / ".git").mkdir()
    tree(tmp_path, {".gitignore": "*.env\n", "prod.env": "x"})
    assert paths(FileSource([str(tmp_path / "prod.env")], 10**6)) == [str(tmp_path / "prod.env")]


def test_missing_path_is_a_clear_error(tmp_path: Path):
    with pytest.raises(LeakstopError, match="no such file or directory"):
        FileSource([str(tmp_path / "nope")], 10**6)


def test_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"hello\n")))
    [chunk] = list(FileSource(["-"], 10**6))
    assert chunk.path == "<stdin>" and chunk.data == b"hello\n"


def test_odd_file_names(tmp_path: Path):
    tree(tmp_path, {"with space.txt": "x", "new\nline.txt": "x"})
    (tmp_path / os.fsdecode(b"caf\xe9.txt")).write_text("x")
    assert len(paths(FileSource([str(tmp_path)], 10**6))) == 3


def test_symlink_in_a_walk_is_its_target_text_not_followed(tmp_path: Path):
    """git stores a link as its target text (and diff and history scan that text): a walk does
    the same, and never follows the link (which could leave the tree or loop)."""
    tree(tmp_path, {"real/a.txt": "x"})
    os.symlink("real/a.txt", tmp_path / "to-file")
    os.symlink("real", tmp_path / "to-dir")
    os.symlink("/etc/passwd", tmp_path / "outside")
    chunks = {c.path: c.data for c in FileSource([str(tmp_path)], 10**6)}
    assert chunks == {str(tmp_path / "real/a.txt"): b"x", str(tmp_path / "to-file"): b"real/a.txt",
                      str(tmp_path / "to-dir"): b"real", str(tmp_path / "outside"): b"/etc/passwd"}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_in_a_walk_is_skipped_not_waited_on(tmp_path: Path):
    tree(tmp_path, {"a.txt": "x"})
    os.mkfifo(tmp_path / "pipe")
    src = FileSource([str(tmp_path)], 10**6)
    assert paths(src) == [str(tmp_path / "a.txt")]
    assert src.stats.skipped == {"not a regular file": 1}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_file_replaced_by_a_pipe_after_the_walk_is_skipped_not_waited_on(tmp_path: Path):
    tree(tmp_path, {"a.txt": "x", "b.txt": "y"})
    src = FileSource([str(tmp_path)], 10**6)
    refs = list(src.units())
    assert all(r.regular for r in refs)
    (tmp_path / "b.txt").unlink()
    os.mkfifo(tmp_path / "b.txt")  # between the walk and the read
    got = [c.data for r in refs for c in src.load(r)]
    assert got == [b"x"] and src.stats.skipped == {"not a regular file": 1}


def test_a_walked_file_is_read_whole_and_counted(tmp_path: Path):
    body = os.urandom(200_000)  # more than one read's worth of a pipe, and binary
    tree(tmp_path, {"blob.bin": body, "big.txt": "y" * 2000})
    src = FileSource([str(tmp_path)], max_file_size=1500)
    refs = list(src.units())
    assert [r.regular for r in refs] == [True, True]
    list(src.load(refs[0]))  # big.txt: over the limit, not read
    assert src.stats.skipped == {"too large": 1}
    src.max_file_size = 10**6
    (chunk,) = src.load(refs[1])
    assert src.stats.scanned == 1 and src.stats.bytes == len(body) and src.stats.decoded == {"binary": 1}
