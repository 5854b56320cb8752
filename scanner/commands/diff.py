"""``leakstop diff --staged`` (pre-commit hook) and ``leakstop diff BASE..HEAD`` (PR gate).

Only lines added by the change are reported: a secret already in the file before, or one added
and removed within the range under test by a later commit's diff alone, is not the change's.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import click

from scanner.commands.common import engine_option, judging_engine, next_steps, output_options, summary, verify_choice, verify_options

if TYPE_CHECKING:
    from scanner.models import Identity


@click.command()
@click.argument("revs", required=False, metavar="[BASE..HEAD | BASE...HEAD | COMMIT]")
@click.option("--staged", "--cached", "staged", is_flag=True, help="Scan the staged changes (the pre-commit hook).")
@output_options("diff")
@click.option("-C", "--repo", "repo", default=".", metavar="PATH", help="The git repository (default: current directory).")
@click.option("--merges", is_flag=True,
              help="Scan each merge's whole diff against its first parent (default: only what it adds beyond all its parents).")
@click.option("--config-from", "config_from", type=click.Choice(["base", "head", "worktree"]), default=None,
              help="Where the configuration and baseline come from: the base commit (default for a range), "
                   "the head commit (the index with --staged), or the work tree (default with --staged).")
@click.option("--max-file-size", default=None, metavar="SIZE", help="Skip blobs larger than this (default 10MB).")
@engine_option
@verify_options
@click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr.")
def diff(revs: Optional[str], staged: bool, config_path, min_confidence, fmt, output, baseline, repo: str, merges: bool,
         config_from: Optional[str], max_file_size, engine, verify, only_verified, verify_timeout, quiet: bool,
         style) -> int:
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
    from scanner.config import parse_size

    repo_path = Path(repo)
    if not os.path.isdir(repo_path):
        from scanner.errors import LeakstopError

        raise LeakstopError(f"{repo}: no such directory")
    size = parse_size(max_file_size, "--max-file-size") if max_file_size else None
    from scanner.sources.base import make_source

    source: Any = make_source("staged", repo_path) if staged else make_source("range", repo_path, revs, merges=merges)
    with contextlib.ExitStack() as stack:
        if staged:  # git diffs the index while the modules below load
            stack.callback(source.close)
            source.start()
        from scanner.engine.confidence import judge
        from scanner.pipeline import Outcome, check_complete, report, verify_step

        settings, notices = _settings(source, config_from or ("worktree" if staged else "base"), config_path, baseline,
                                      repo_path, stack)
        config = settings.config.with_options(max_file_size=size, backend=engine, min_confidence=min_confidence)
        source.max_file_size = config.max_file_size
        findings, rules, identity = _scan(source, config, repo_path)
    findings, below = judge(findings, config.min_confidence, identity)
    if settings.baseline is not None and findings:
        from scanner.sources.git import toplevel

        findings = settings.baseline.new_findings(findings, toplevel(repo_path))
    st = source.stats
    stats = st.as_dict()
    if config_from or not staged:
        stats["config_from"] = settings.mode
        if settings.revision is not None:
            stats["config_revision"] = settings.revision or "index"
    if notices:
        stats["settings_changed"] = [n.path for n in notices]
    if below:
        stats["below_min_confidence"] = below
    outcome = Outcome(findings, stats)
    verify_step(outcome, verify_choice(verify, only_verified, verify_timeout), identity, config)
    for note in [*st.notes, *st.size_notes(config.max_file_size), *settings.notes]:
        click.echo(f"leakstop: note: {note}", err=True)
    for n in notices:
        click.echo(f"leakstop: warning: {n.message}; this scan applied the version in {settings.origin}", err=True)
    rc = report(outcome, "diff", fmt, output, rules, notices, identity, style=style)
    summary(outcome, quiet)
    next_steps(outcome.findings, rules, "diff", quiet)
    check_complete(outcome)
    return rc


def _settings(source, mode: str, config_path: Optional[Path], baseline: Optional[Path], repo: Path, stack):
    """The configuration and baseline to apply, and notices for the settings files the change
    modifies (see scanner.gitconfig). The staged hook's default reads the work tree without a git
    process."""
    from scanner.gitconfig import Settings

    if mode == "worktree" and getattr(source, "range", None) is None:
        from scanner.config import load_config

        if baseline is None:  # the common hook: the baseline module is not imported
            return Settings(load_config(config_path, repo)), []
        from scanner.baseline import load_baseline

        return Settings(load_config(config_path, repo), load_baseline(baseline)), []
    import tempfile

    from scanner.gitconfig import diff_settings
    from scanner.sources.git import CatFile, toplevel

    rng = getattr(source, "range", None)
    base, head = (rng.base, rng.head) if rng is not None else ("HEAD", "")
    reader = CatFile(repo)
    stack.callback(reader.close)
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="leakstop-")))
    return diff_settings(mode, toplevel(repo), base, head, config_path, baseline, reader, workdir)


def _scan(source, config, repo: Path) -> tuple[list, list, Optional["Identity"]]:
    """Findings, the rules and the fingerprint identity used. The engine (and the identity) is
    built only when there is something to scan: a commit that stages no text change costs two git
    processes and no rule loading."""
    from scanner.execute import LazyEngine, execute

    engine = LazyEngine(lambda: judging_engine(config, repo))
    findings = execute(source, engine)
    if engine.built is None:
        return [], [], None
    return findings, engine.built.rules, engine.built.identity
