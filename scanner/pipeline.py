"""Glue shared by the scanning subcommands: build the engine, run a source through it, filter by
baseline, write the report, and turn the result into an exit code."""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

from scanner.config import Config
from scanner.errors import EXIT_CLEAN, EXIT_FINDINGS, LeakstopError
from scanner.models import Chunk, Finding
from scanner.report import ReportContext, Style, write_report


@dataclass
class Outcome:
    findings: list[Finding]
    stats: dict
    notes: list[str] = field(default_factory=list)  # said on stderr, before the summary line


def scan_chunks(engine, chunks: Iterable[Chunk]) -> list[Finding]:
    out: list[Finding] = []
    for chunk in chunks:
        out.extend(engine.scan(chunk))
    return out


# CPU seconds this process scans before the rest of a walk goes to worker processes. Workers
# cost a fork each and about half as much CPU again per file (the walk's refs and the findings
# cross processes); a walk done within this never pays that (the pre-commit case, and a 48 MB
# tree of small files that one process scans in 0.6 s), a longer one is split for its rest.
SERIAL_CPU_SECONDS = 0.5


def scan_paths(paths: Sequence[str], config: Config, engine=None, jobs: Optional[int] = None,
               progress: Optional[float] = None) -> Outcome:
    """Scan files and directories (``-`` = stdin) with the given configuration.

    Work that outgrows SERIAL_CPU_SECONDS is split over worker processes (``jobs``, default one
    per core): the parent walks, each worker reads and scans files with a copy of the engine it
    inherits by fork. The decision is made from the work measured so far, not a file count: a
    thousand small files may not be worth a second process, a hundred large ones are.
    ``progress``: a bar of files scanned on stderr after this delay (scanner.progress.bar_delay).
    """
    from scanner.engine import Engine
    from scanner.progress import progress_bar
    from scanner.sources.files import FileSource

    engine = engine or Engine(config)
    source = FileSource(paths, max_file_size=config.max_file_size, exclude=config.exclude)
    walk = source.refs()
    jobs = jobs or os.cpu_count() or 1
    may_split = jobs > 1 and "-" not in paths and _can_fork()
    findings: list[Finding] = []
    began = time.process_time()
    bar = progress_bar(progress, unit="file", desc="leakstop scan")
    try:
        for ref in walk:
            for chunk in source.load(ref):
                findings.extend(engine.scan(chunk))
            bar.update(1)
            if may_split and time.process_time() - began > SERIAL_CPU_SECONDS:
                # The rest of the walk feeds the workers while they scan.
                findings.extend(_scan_parallel(engine, source, walk, jobs, bar))
                break
    finally:
        bar.close()
    stats = source.stats.as_dict()
    if stats["skipped"].get("too large"):
        stats["max_file_size"] = config.max_file_size
    outcome = judged(findings, stats, config.min_confidence)
    outcome.notes = source.stats.notes(config.max_file_size)
    return outcome


def judged(findings: Iterable[Finding], stats: dict, minimum: str) -> Outcome:
    """Apply the scan-wide confidence signals and keep the findings at ``minimum`` confidence or
    above; the stats count the others (``below_min_confidence``)."""
    from scanner.engine.confidence import judge

    kept, below = judge(findings, minimum)
    if below:
        stats = {**stats, "below_min_confidence": below}
    return Outcome(kept, stats)


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


_worker: tuple = ()  # (engine, source) in a worker process, set by its initializer


def _init_worker(engine, source) -> None:
    global _worker
    _worker = (engine, source)


def _scan_batch(refs: list) -> tuple[list[Finding], object, Optional[str], int]:
    """Scan a batch in a worker: its findings, its share of the walk's stats, or an error; and
    how many files it held (the progress bar's step)."""
    engine, source = _worker
    source.stats = type(source.stats)()
    findings: list[Finding] = []
    try:
        for ref in refs:
            for chunk in source.load(ref):
                findings.extend(engine.scan(chunk))
    except LeakstopError as exc:
        return [], None, exc.message, len(refs)
    return findings, source.stats, None, len(refs)


def _batches(refs: Iterable, size: int = 32) -> Iterator[list]:
    it = iter(refs)
    while batch := list(itertools.islice(it, size)):
        yield batch


def _scan_parallel(engine, source, refs: Iterable, jobs: int, bar) -> list[Finding]:
    import multiprocessing

    batches = _batches(refs)
    findings: list[Finding] = []
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(engine, source)) as pool:
        for found, stats, error, count in pool.imap(_scan_batch, batches):
            if error:
                raise LeakstopError(error)
            findings.extend(found)
            source.stats.add(stats)
            bar.update(count)
    return findings


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
    counts = {s: sum(f.verification["status"] == s for f in outcome.findings) for s in STATUSES}
    outcome.stats["verification"] = counts
    if options.only_verified:
        outcome.findings = [f for f in outcome.findings if f.verification["status"] == VERIFIED]


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
