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
