"""fsutil.atomic_write: whole-or-nothing writes that never replace a device or pipe named as output."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from scanner.fsutil import atomic_write

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


def _read_pipe(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    """A reader that drains ``fifo`` in the background (a writer's open blocks until one exists)."""
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as fh:
            got.append(fh.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader, got


def test_output_to_a_named_pipe_writes_through_it(tmp_path: Path):
    # `-o /dev/null` is the same case: the old rename put a plain file where the device was.
    fifo = tmp_path / "out.pipe"
    os.mkfifo(fifo)
    reader, got = _read_pipe(fifo)
    atomic_write(fifo, b"report\n")
    reader.join(timeout=10)
    assert got == [b"report\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode), "the pipe was replaced by a regular file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pipe"]  # no temporary left behind


def test_scan_report_into_a_named_pipe(run_cli, tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text("x = 1\n")
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    reader, got = _read_pipe(fifo)
    r = run_cli("scan", str(src), "-f", "json", "-o", str(fifo))
    reader.join(timeout=10)
    assert r.code == 0, r.err
    assert json.loads(got[0])["findings"] == []
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_regular_files_are_still_replaced_atomically(tmp_path: Path):
    target = tmp_path / "report.json"
    target.write_bytes(b"old")
    atomic_write(target, b"new", mode=0o600)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


@pytest.mark.parametrize("args", [["-f", "json"], ["-f", "sarif"]])
def test_output_into_a_missing_directory_is_an_error(run_cli, tmp_path: Path, args):
    """Before: -o /nonexistent/dir/x.json created the directories silently."""
    (tmp_path / "a.py").write_text("x = 1\n")
    target = tmp_path / "no" / "such" / "r.json"
    r = run_cli("scan", str(tmp_path / "a.py"), "-o", str(target), *args)
    assert r.code == 2 and r.err == f"leakstop: error: {target}: cannot write: directory {target.parent} does not exist\n"
    assert not (tmp_path / "no").exists()


def test_output_under_a_file_is_a_clear_error(run_cli, tmp_path: Path):
    """Before: 'File exists'."""
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "plain").write_text("")
    for target in (tmp_path / "plain" / "r.json", tmp_path / "plain" / "deeper" / "r.json"):
        r = run_cli("scan", str(tmp_path / "a.py"), "-o", str(target))
        assert r.code == 2 and r.err == f"leakstop: error: {target}: cannot write: {tmp_path / 'plain'} is a file, not a directory\n"


def test_every_user_named_output_is_checked_before_scanning(run_cli, tmp_path: Path):
    (tmp_path / "a.py").write_text("x = 1\n")
    missing = tmp_path / "none" / "out.json"
    for args in (["baseline", "create", str(tmp_path), "-o", str(missing)],
                 ["history", str(tmp_path), "-o", str(missing)],
                 ["diff", "--staged", "-C", str(tmp_path), "-o", str(missing)],
                 ["remediate", str(tmp_path), "--project", "p", "--env", "e", "--save-plan", str(missing)]):
        r = run_cli(*args)
        assert r.code == 2 and "does not exist" in r.err, args[:2]  # before any git or scanning error


def test_leakstop_folders_are_still_created(tmp_path: Path):
    atomic_write(tmp_path / "cache" / "deep" / "x.bin", b"1", parents=True)
    assert (tmp_path / "cache" / "deep" / "x.bin").read_bytes() == b"1"


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path: Path):
    """A kill -9 between write and rename leaves .NAME.leakstop-PID.tmp; the next write of that
    file removes it, and only leakstop's own names of processes that are gone."""
    dead = _dead_pid()
    stale = tmp_path / f".journal.json.leakstop-{dead}.tmp"
    alive = tmp_path / f".journal.json.leakstop-{os.getppid()}.tmp"  # a running process: kept
    other = tmp_path / f".other.json.leakstop-{dead}.tmp"  # another file's: left to that file
    mine = tmp_path / ".journal.json.leakstop-x.tmp"  # not a leakstop name
    for p in (stale, alive, other, mine):
        p.write_text("{}")
    atomic_write(tmp_path / "journal.json", b"{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["journal.json", alive.name, other.name, mine.name])


def _dead_pid() -> int:
    """The id of a process that has exited."""
    import subprocess

    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid
