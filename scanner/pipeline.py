"""Glue shared by the scanning subcommands: build the engine, run a source through it, filter by
baseline, write the report, and turn the result into an exit code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

from scanner.config import Config
from scanner.errors import EXIT_CLEAN, EXIT_FINDINGS
from scanner.models import Chunk, Finding
from scanner.report import ReportContext, write_report


@dataclass
class Outcome:
    findings: list[Finding]
    stats: dict


def scan_chunks(engine, chunks: Iterable[Chunk]) -> list[Finding]:
    out: list[Finding] = []
    for chunk in chunks:
        out.extend(engine.scan(chunk))
    return out


def scan_paths(paths: Sequence[str], config: Config, engine=None) -> Outcome:
    """Scan files and directories (``-`` = stdin) with the given configuration."""
    from scanner.engine import Engine
    from scanner.sources.files import FileSource

    engine = engine or Engine(config)
    source = FileSource(paths, max_file_size=config.max_file_size, exclude=config.exclude)
    findings = scan_chunks(engine, source)
    stats = {"files_scanned": source.stats.scanned, "bytes_scanned": source.stats.bytes, "skipped": dict(source.stats.skipped)}
    return Outcome(findings, stats)


def apply_baseline(findings: list[Finding], baseline: Optional[Path], root: Optional[Path] = None) -> list[Finding]:
    """Drop findings the baseline accepts. Git modes report repository-relative paths: pass the
    repository's top as ``root``; ``scan`` reports paths relative to the current directory."""
    if baseline is None:
        return findings
    from scanner.baseline import load_baseline

    return load_baseline(baseline).new_findings(findings, root)


def report(
    outcome: Outcome, command: str, fmt: str, output: Optional[Path], rules: Sequence = ()
) -> int:
    ctx = ReportContext(command=command, rules=rules, stats=outcome.stats)
    write_report(fmt, outcome.findings, ctx, output)
    return EXIT_FINDINGS if outcome.findings else EXIT_CLEAN
