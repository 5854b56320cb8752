"""``leakstop diff --staged`` (pre-commit hook) and ``leakstop diff BASE..HEAD`` (PR gate).

Only lines added by the change are reported: a secret already in the file before, or one added
and removed within the range under test by a later commit's diff alone, is not the change's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import click

from scanner.commands.common import FORMATS, output_options, summary


@click.command()
@click.argument("revs", required=False, metavar="[BASE..HEAD | BASE...HEAD | COMMIT]")
@click.option("--staged", "--cached", "staged", is_flag=True, help="Scan the staged changes (the pre-commit hook).")
@output_options(list(dict.fromkeys([*FORMATS, "github"])))
@click.option("-C", "--repo", "repo", default=".", metavar="PATH", help="The git repository (default: current directory).")
@click.option("--merges", is_flag=True,
              help="Scan each merge's whole diff against its first parent (default: only what it adds beyond all its parents).")
@click.option("--max-file-size", default=None, metavar="SIZE", help="Skip blobs larger than this (default 10MB).")
@click.option("--engine", type=click.Choice(["auto", "hyperscan", "keywords"]), default=None, hidden=True)
@click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr.")
def diff(revs: Optional[str], staged: bool, config_path, fmt, output, baseline, repo: str, merges: bool,
         max_file_size, engine, quiet: bool) -> int:
    """Scan only the lines a change adds: the staged changes, or the commits of a range.

    \b
      leakstop diff --staged              what `git commit` would record (pre-commit hook)
      leakstop diff origin/main..HEAD     each commit of a pull request (CI gate)
      leakstop diff a1b2c3d               one commit (its diff against its parent; a merge: what
                                          it adds beyond all its parents)

    Exit 1 when a finding is not in the --baseline.
    """
    if staged == bool(revs):
        raise click.UsageError("give either --staged or a range (BASE..HEAD, or one commit)")
    from scanner.config import load_config, parse_size
    from scanner.engine import Engine
    from scanner.pipeline import Outcome, apply_baseline, report, scan_chunks

    repo_path = Path(repo)
    if not os.path.isdir(repo_path):
        from scanner.errors import LeakstopError

        raise LeakstopError(f"{repo}: no such directory")
    config = load_config(config_path, repo_path)
    size = parse_size(max_file_size, "--max-file-size") if max_file_size else None
    config = config.with_options(max_file_size=size, backend=engine)

    if staged:
        from scanner.sources.diff import StagedSource

        source = StagedSource(repo_path, max_file_size=config.max_file_size)
    else:
        from scanner.sources.diff import RangeSource

        source = RangeSource(repo_path, revs, max_file_size=config.max_file_size, merges=merges)

    # The engine is built only when there is something to scan: a commit that stages no text
    # change costs two git processes and no rule loading.
    import itertools

    chunks = iter(source)
    first = next(chunks, None)
    rules: list = []
    findings = []
    if first is not None:
        eng = Engine(config)
        rules = eng.rules
        findings = scan_chunks(eng, itertools.chain([first], chunks))
    if not staged:
        from scanner.sources.diff import first_occurrences

        findings = first_occurrences(findings)
    st = source.stats
    stats = {"files_scanned": st.scanned, "bytes_scanned": st.bytes, "skipped": dict(st.skipped)}
    if not staged:
        stats["commits_scanned"] = st.commits
    if baseline is not None and findings:
        from scanner.sources.diff import toplevel

        findings = apply_baseline(findings, baseline, toplevel(repo_path))
    outcome = Outcome(findings, stats)
    for note in st.notes:
        click.echo(f"leakstop: note: {note}", err=True)
    rc = report(outcome, "diff", fmt, output, rules)
    summary(outcome, quiet)
    return rc
