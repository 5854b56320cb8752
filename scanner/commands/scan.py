"""``leakstop scan PATH...``: files and directories (``-`` for stdin)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from scanner.commands.common import engine_option, judging_engine, MAX_JOBS, next_steps, output_options, summary, verify_choice, verify_options


@click.command()
@click.argument("paths", nargs=-1)
@output_options("scan")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching this gitignore-style glob (repeatable).")
@click.option("--max-file-size", default=None, metavar="SIZE", help="Skip files larger than this (default 10MB).")
@click.option("-j", "--jobs", type=click.IntRange(min=1, max=MAX_JOBS), default=None,
              help="Worker processes for large trees (default: one per core).")
@engine_option
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr for a long scan (default: when stderr is a terminal).")
@verify_options
@click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr.")
def scan(paths, config_path, min_confidence, fmt, output, baseline, exclude, max_file_size, jobs, engine, progress,
         verify, only_verified, verify_timeout, quiet, style) -> int:
    """Scan files and directories for secrets (exit 1 when any is found)."""
    from scanner.config import load_config, parse_size
    from scanner.pipeline import apply_baseline, check_complete, report, scan_paths, verify_step

    paths = list(paths) or ["."]
    start = Path(paths[0]) if paths[0] != "-" else Path.cwd()
    start = start if os.path.exists(start) else Path.cwd()
    config = load_config(config_path, start)
    size = parse_size(max_file_size, "--max-file-size") if max_file_size else None
    config = config.with_options(
        max_file_size=size, exclude=tuple(config.exclude) + tuple(exclude) if exclude else None, backend=engine,
        min_confidence=min_confidence,
    )
    eng = judging_engine(config, start)
    from scanner.progress import bar_delay

    outcome = scan_paths(paths, config, eng, jobs, progress=bar_delay(progress, quiet))
    outcome.findings = apply_baseline(outcome.findings, baseline)
    verify_step(outcome, verify_choice(verify, only_verified, verify_timeout), eng.identity, config)
    rc = report(outcome, "scan", fmt, output, eng.rules, identity=eng.identity, style=style)
    summary(outcome, quiet)
    next_steps(outcome.findings, eng.rules, "scan", quiet)
    check_complete(outcome)
    return rc
