"""Options shared by scan, diff and history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Optional

import click

from scanner.config import format_size

FORMATS = ["text", "json", "jsonl", "sarif"]
# -j beyond this is a typo, not a plan: each job is a process (a pool forks them all at once).
MAX_JOBS = 256


def writable(ctx, param, value: Optional[Path]) -> Optional[Path]:
    """Click callback for an output file: its folder must exist, checked before any scanning."""
    if value is not None and str(value) != "-":
        from scanner.fsutil import check_parent

        check_parent(value)
    return value


def output_options(formats: list[str] = FORMATS) -> Callable:
    def wrap(fn: Callable) -> Callable:
        fn = click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path),
                          help="Report only findings not in this baseline file.")(fn)
        fn = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), callback=writable,
                          help="Write the report here instead of stdout.")(fn)
        fn = click.option("-f", "--format", "fmt", type=click.Choice(formats), default="text", show_default=True,
                          help="Report format.")(fn)
        fn = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                          help="Configuration file (default: .leakstop.yaml at the repository root).")(fn)
        return fn

    return wrap


def summary(outcome, quiet: bool = False) -> None:
    """One line on stderr: how many findings, how much was scanned and what was skipped."""
    if quiet:
        return
    for note in outcome.notes:
        print(f"leakstop: note: {note}", file=sys.stderr)
    s = outcome.stats
    skipped = s.get("skipped") or {}
    limit = s.get("max_file_size")
    skip = ", ".join(f"{n} {why}" + (f" (over {format_size(limit)})" if why == "too large" and limit else "")
                     for why, n in sorted(skipped.items()))
    scanned = s.get("files_scanned", s.get("blobs_scanned", 0))
    unit = "files" if "files_scanned" in s else "blobs"
    msg = f"leakstop: {len(outcome.findings)} finding(s) in {scanned} {unit} scanned"
    decoded = [_decoded(kind, n) for kind, n in sorted((s.get("decoded") or {}).items())]
    if s.get("streamed"):
        decoded.append(f"{s['streamed']} over the size limit, scanned in windows")
    if decoded:
        msg += " (" + "; ".join(decoded) + ")"
    if skip:
        msg += f"; skipped {skip}"
    print(msg, file=sys.stderr)


def _decoded(kind: str, n: int) -> str:
    """How the summary names content converted before scanning (scanner.sources.textify)."""
    if kind == "binary":
        return f"{n} binary: printable text, provider rules only"
    return f"{n} decoded from {kind.upper()}"
