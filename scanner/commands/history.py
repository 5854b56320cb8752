"""``leakstop history [REPO]``: audit every commit of every ref, each blob scanned once."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scanner.commands.common import engine_option, MAX_JOBS, next_steps, output_options, summary, verify_choice, verify_options


@click.command()
@click.argument("repo", required=False, default=".")
@output_options("history")
@click.option("--all-refs", "all_refs", is_flag=True, default=True,
              help="Scan commits reachable from every ref: branches, tags, remotes, stash (default).")
@click.option("--branch", "branches", multiple=True, metavar="NAME",
              help="Scan only commits reachable from this branch or ref (repeatable).")
@click.option("--since", metavar="REV", help="Skip commits reachable from REV (scan REV..refs).")
@click.option("--incremental", is_flag=True,
              help="Skip commits and blobs scanned by an earlier --incremental run (state in .git/leakstop/).")
@click.option("-j", "--jobs", type=click.IntRange(min=1, max=MAX_JOBS), default=None, help="Worker processes (default: all cores).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching this gitignore-style glob (repeatable).")
@click.option("--max-file-size", default=None, metavar="SIZE", help="Skip blobs larger than this (default 10MB).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when it is a terminal).")
@engine_option
@verify_options
@click.option("-q", "--quiet", is_flag=True, help="No summary or notes on stderr.")
def history(repo, config_path, min_confidence, fmt, output, baseline, all_refs, branches, since, incremental, jobs,
            exclude, max_file_size, progress, engine, verify, only_verified, verify_timeout, quiet, style) -> int:
    """Audit the whole git history: every secret ever committed (exit 1 when any is found).

    Each finding names the commit that first introduced it (sha, author, date, path), how many
    commits and paths it appears in, and whether it is still present at HEAD.
    """
    from scanner.baseline import load_baseline
    from scanner.config import load_config, parse_size
    from scanner.engine import Engine
    from scanner.pipeline import check_complete, judged, report, verify_step
    from scanner.sources.git import open_repo, toplevel_or_none
    from scanner.sources.history import HistoryOptions, resolve_branch, resolve_commit
    from scanner.progress import bar_delay
    from scanner.sources.history_state import run_history

    info = open_repo(repo)
    config = load_config(config_path, Path(repo))
    size = parse_size(max_file_size, "--max-file-size") if max_file_size else None
    config = config.with_options(
        max_file_size=size, exclude=tuple(config.exclude) + tuple(exclude) if exclude else None, backend=engine,
        min_confidence=min_confidence,
    )
    refs = tuple(resolve_branch(repo, b) for b in branches)
    excludes = (resolve_commit(repo, since, "--since"),) if since else ()
    from scanner.identity import resolve_identity

    eng = Engine(config, identity=resolve_identity(config, Path(repo), info.git_dir))
    # Loaded first: the workers hash each value with the baseline's salt.
    bl = load_baseline(baseline) if baseline is not None else None
    checks = verify_choice(verify, only_verified, verify_timeout)
    options = HistoryOptions(
        refs=refs,
        excludes=excludes,
        jobs=jobs or 0,
        progress=bar_delay(progress, quiet),
        baseline_hash=bl.entry_hash if bl else None,
        baseline_id=bl.id if bl else "",
        keep_values=checks.active,
    )
    result = run_history(repo, eng, options, info, incremental=incremental)
    outcome = judged(result.findings, result.stats.as_dict(), config.min_confidence)
    if bl:
        outcome.findings = bl.new_findings(outcome.findings, toplevel_or_none(repo))
    verify_step(outcome, checks, eng.identity, config)
    rc = report(outcome, "history", fmt, output, eng.rules, identity=eng.identity, style=style)
    if not quiet:
        for note in result.stats.notes:
            print(f"leakstop: note: {note}", file=sys.stderr)
        summary(outcome)
        print(f"leakstop: {result.stats.commits} commit(s) walked", file=sys.stderr)
    next_steps(outcome.findings, eng.rules, "history", quiet)
    check_complete(outcome)
    return rc
