"""``leakstop audit REPO...``: the full history of many repositories, one merged report."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import click

from scanner.commands.common import MAX_JOBS, next_steps, output_options


# Objects (commits, trees, blobs) past which a repository is split into blob ranges: a few
# minutes of one worker's reading and scanning (docs/scaling.md measures 2-5 ms per blob).
SPLIT_BLOBS = 100_000


def _default_workdir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "leakstop" / "audit"


@click.command()
@click.argument("repos", nargs=-1)
@output_options("audit")
@click.option("--repos-file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Repositories to audit, one path or git URL per line (# comments).")
@click.option("--cluster", metavar="ADDRESS", default=None,
              help="Run on an existing Dask distributed cluster (tcp://host:8786) instead of local processes.")
@click.option("-j", "--jobs", type=click.IntRange(min=1, max=MAX_JOBS), default=None,
              help="Local worker processes, one repository each (default: one per core).")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where git URLs are cloned and kept for the next (incremental) run (default: ~/.cache/leakstop/audit).")
@click.option("--max-file-size", default=None, metavar="SIZE", help="Skip blobs larger than this (default 10MB).")
@click.option("--progress/--no-progress", default=None, help="Progress bar over repositories on stderr (default: on a terminal).")
@click.option("--split-blobs", "split", type=click.IntRange(min=0), default=SPLIT_BLOBS, show_default=True,
              metavar="N", help="A repository with more objects than N is enumerated here and its blobs sent to the "
                                "workers in ranges of about N, so one large repository spreads over them (0: never).")
@click.option("--full", is_flag=True, help="Read every commit and blob again, ignoring the saved incremental state.")
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
def audit(repos, config_path, min_confidence, fmt, output, baseline, repos_file: Optional[Path], cluster: Optional[str], jobs,
          workdir: Optional[Path], max_file_size, progress, split: int, full: bool, quiet: bool, style) -> int:
    """Audit the full history of many repositories (paths or git URLs) into one report.

    Each repository keeps incremental state (a re-run reads only new commits); one that fails is
    reported and the others go on. Exit 1 with findings, 2 when no repository could be scanned.
    """
    from scanner.audit import RepoSpec, iter_errors, merged, read_repos_file, run_audit
    from scanner.config import parse_size
    from scanner.errors import LeakstopError
    from scanner.pipeline import apply_baseline, judged, report
    from scanner.progress import bar_delay, progress_bar

    names = list(repos) + (read_repos_file(repos_file) if repos_file else [])
    if not names:
        raise click.UsageError("give repositories (paths or git URLs) or --repos-file FILE")
    size = parse_size(max_file_size, "--max-file-size") if max_file_size else None
    work = str((workdir or _default_workdir()).resolve())
    specs = [RepoSpec(n if RepoSpec(n, work).is_url else str(Path(n).resolve()), work,
                      str(config_path) if config_path else None, size, not full, split) for n in dict.fromkeys(names)]
    bar = progress_bar(bar_delay(progress, quiet), unit="repo", desc="leakstop audit")
    try:
        results = run_audit(specs, lambda r: bar.update(1), jobs or os.cpu_count() or 1, cluster)
    finally:
        bar.close()
    findings, stats = merged(results)
    from scanner.config import load_config
    from scanner.engine import load_ruleset

    config = load_config(config_path, Path.cwd())
    # One judgement over every repository: a value in the tests of several is a shared fixture.
    outcome = judged(findings, stats, min_confidence or config.min_confidence)
    outcome.findings = apply_baseline(outcome.findings, baseline)
    rules = load_ruleset(config)  # the reports describe the rules that fired
    rc = report(outcome, "audit", fmt, output, rules, style=style)
    errors = list(iter_errors(results))
    if not quiet:
        for line in errors:
            print(f"leakstop: warning: {line}", file=sys.stderr)
        print(f"leakstop: {len(outcome.findings)} finding(s) in {stats['repositories']} repositories "
              f"({stats['commits_scanned']} commits, {stats['blobs_scanned']} blobs)", file=sys.stderr)
    next_steps(outcome.findings, rules, "history", quiet)
    if stats["repositories_failed"] == stats["repositories"]:
        raise LeakstopError("no repository could be scanned")
    return rc
