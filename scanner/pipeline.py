"""Glue shared by the scanning subcommands: run a source through the executor, filter by baseline,
verify, write the report, and turn the result into an exit code."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from scanner.config import Config
from scanner.errors import EXIT_CLEAN, EXIT_FINDINGS, LeakstopError
from scanner.models import Finding, Identity
from scanner.report import ReportContext, Style, write_report

if TYPE_CHECKING:
    from scanner.sources.base import Source


@dataclass
class Outcome:
    findings: list[Finding]
    stats: dict
    notes: list[str] = field(default_factory=list)  # said on stderr, before the summary line


def run_source(source: "Source", engine, jobs: int = 1, progress: Optional[float] = None, desc: str = "",
               max_file_size: Optional[int] = None) -> Outcome:
    """Execute ``source`` (scanner.execute) and gather its report's findings, stats and notes.
    ``progress``: a bar of units scanned on stderr after this delay (scanner.progress.bar_delay);
    ``max_file_size``: the limit the notes about sizes name."""
    from scanner.execute import execute
    from scanner.progress import progress_bar

    bar = progress_bar(progress, unit="blob" if source.stats.history else "file", desc=desc)
    try:
        findings = execute(source, engine, jobs, bar)
    finally:
        bar.close()
    stats = source.stats.as_dict()
    if max_file_size is None:
        return Outcome(findings, stats)
    if stats["skipped"].get("too large") and not source.stats.history:
        stats["max_file_size"] = max_file_size
    return Outcome(findings, stats, source.stats.size_notes(max_file_size))


def scan_paths(paths: Sequence[str], config: Config, engine=None, jobs: Optional[int] = None,
               progress: Optional[float] = None) -> Outcome:
    """Scan files and directories (``-`` = stdin) with the given configuration: the ``files``
    source, split over ``jobs`` worker processes (default one per core) when it is worth it."""
    from scanner.engine import Engine
    from scanner.sources.base import make_source

    source = make_source("files", paths, max_file_size=config.max_file_size, exclude=config.exclude)
    engine = engine or Engine(config, defer_below=config.min_confidence)
    ran = run_source(source, engine, jobs or os.cpu_count() or 1, progress, "leakstop scan", config.max_file_size)
    outcome = judged(ran.findings, ran.stats, config.min_confidence, engine.identity)
    outcome.notes = ran.notes
    return outcome


def judged(findings: Iterable[Finding], stats: dict, minimum: str, identity: Optional[Identity] = None) -> Outcome:
    """Apply the scan-wide confidence signals and keep the findings at ``minimum`` confidence or
    above; the stats count the others (``below_min_confidence``). ``identity``: the engine's, to
    identify the kept findings it left unidentified (``Engine(defer_below=...)``)."""
    from scanner.engine.confidence import judge

    kept, below = judge(findings, minimum, identity)
    if below:
        stats = {**stats, "below_min_confidence": below}
    return Outcome(kept, stats)


def apply_baseline(findings: list[Finding], baseline: Optional[Path], root: Optional[Path] = None) -> list[Finding]:
    """Drop findings the baseline accepts. Git modes report repository-relative paths: pass the
    repository's top as ``root``; ``scan`` reports paths relative to the current directory."""
    if baseline is None:
        return findings
    from scanner.baseline import load_baseline

    return load_baseline(baseline).new_findings(findings, root)


# Skip reasons that mean "asked to scan it, could not read it" (history: blobs missing from the
# object database). A run that found nothing but missed one of these is not clean.
UNREAD_REASONS = ("unreadable", "missing")


def check_complete(outcome: Outcome) -> None:
    """Exit 2 (one line) when nothing was found but something could not be read; findings
    (exit 1) take precedence, since they must be acted on either way."""
    if outcome.findings:
        return
    skipped = outcome.stats.get("skipped") or {}
    missed = sum(skipped.get(reason, 0) for reason in UNREAD_REASONS)
    if missed:
        raise LeakstopError(f"nothing found, but {missed} path(s) or blob(s) could not be read: the scan is "
                            "incomplete (the warnings and the report's stats name them)")


@dataclass(frozen=True)
class VerifyOptions:
    """``--verify``, ``--only-verified`` (implies it), ``--verify-timeout``."""

    enabled: bool = False
    only_verified: bool = False
    timeout: float = 20.0

    @property
    def active(self) -> bool:
        return self.enabled or self.only_verified


def verify_step(outcome: Outcome, options: VerifyOptions, identity, config: Config) -> None:
    """Ask providers about the findings (scanner.verify), count the answers in the stats, and
    keep only the verified ones with ``--only-verified``. Without the option: nothing, no import."""
    if not options.active:
        return
    from scanner.verify.base import STATUSES, VERIFIED

    if outcome.findings:
        from scanner.verify.cache import default_path
        from scanner.verify.executor import Settings, verify_findings

        settings = Settings(timeout=options.timeout, allowed_endpoints=config.verify_endpoints,
                            cache_path=default_path())
        verify_findings(outcome.findings, settings, identity)
    counts = {s: sum((f.verification or {}).get("status") == s for f in outcome.findings) for s in STATUSES}
    outcome.stats["verification"] = counts
    if options.only_verified:
        outcome.findings = [f for f in outcome.findings if (f.verification or {}).get("status") == VERIFIED]


def report(
    outcome: Outcome, command: str, fmt: str, output: Optional[Path], rules: Sequence = (), notices: Sequence = (),
    identity=None, style: Optional[Style] = None,
) -> int:
    """Write the report; the exit code counts findings only (notices are warnings). ``identity``
    (the engine's) names the fingerprints' key in it; ``style`` comes from the output options."""
    key = {"source": identity.source, "key_id": identity.key_id} if identity is not None else None
    style = style or Style()
    ctx = ReportContext(command=command, rules=rules, stats=outcome.stats, notices=notices, identity=key,
                        color=style.color, started=style.started)
    write_report(fmt, outcome.findings, ctx, output)
    return EXIT_FINDINGS if outcome.findings else EXIT_CLEAN
