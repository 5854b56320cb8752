"""``leakstop baseline create|check|import``: accept existing findings, list stale entries,
convert a detect-secrets baseline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import click

from scanner.commands.common import engine_option, writable
from scanner.errors import EXIT_CLEAN, EXIT_FINDINGS

if TYPE_CHECKING:
    from scanner.baseline import Baseline

_CONFIG = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                       help="Configuration file (default: .leakstop.yaml at the repository root).")


def _default_file(path: str) -> Path:
    p = Path(path)
    return (p if os.path.isdir(p) else Path.cwd()) / ".leakstop-baseline.json"


def _scan(path: str, config_path: Optional[Path], engine: Optional[str], bl: "Baseline"):
    from scanner.config import load_config
    from scanner.engine import Engine
    from scanner.pipeline import scan_paths

    # Every finding, whatever its confidence: a baseline accepts today's state, so a later run at
    # a lower --min-confidence (or after signals change) does not resurface accepted values.
    # The findings are identified under the baseline's own key, in this process (the workers
    # leave all but high-confidence ones unidentified): a weak value is then stretched once, for
    # its finding and its entry alike (Identity remembers it), not once in a worker under a key
    # of its own and again here for the entry.
    config = load_config(config_path, Path(path)).with_options(backend=engine, min_confidence="low")
    return scan_paths([path], config, Engine(config, identity=bl.identity, defer_below="high")).findings


@click.group()
def baseline() -> None:
    """Accept existing findings so that only new ones are reported (--baseline FILE)."""


@baseline.command("create")
@click.argument("path", default=".")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), callback=writable,
              help="Baseline file to write (default: PATH/.leakstop-baseline.json).")
@_CONFIG
@engine_option
def create(path: str, output: Optional[Path], config_path: Optional[Path], engine: Optional[str]) -> int:
    """Scan PATH and write every finding to the baseline (values are never stored)."""
    from scanner.baseline import new_baseline

    out = output or _default_file(path)
    bl = new_baseline(out)
    bl.add(_scan(path, config_path, engine, bl))
    bl.save(out)
    click.echo(f"leakstop: {len(bl.entries)} accepted finding(s) written to {out}", err=True)
    return EXIT_CLEAN


@baseline.command("check")
@click.argument("path", default=".")
@click.option("-b", "--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Baseline file (default: PATH/.leakstop-baseline.json).")
@click.option("--prune", is_flag=True, help="Rewrite the baseline without its stale entries.")
@_CONFIG
@engine_option
def check(path: str, baseline_file: Optional[Path], prune: bool, config_path: Optional[Path], engine: Optional[str]) -> int:
    """List baseline entries that no longer match any finding (exit 1 when there are some)."""
    from scanner.baseline import load_baseline

    file = baseline_file or _default_file(path)
    bl = load_baseline(file)
    stale = bl.stale(_scan(path, config_path, engine, bl))
    for e in stale:
        click.echo(f"stale\t{e.path}\t{e.rule_id}\t{e.hash[:12]}")
    if prune and stale:
        bl.entries.difference_update(stale)
        bl.save(file)
        click.echo(f"leakstop: removed {len(stale)} stale entr{'y' if len(stale) == 1 else 'ies'} from {file}", err=True)
        return EXIT_CLEAN
    click.echo(f"leakstop: {len(stale)} stale of {len(bl.entries)} baseline entries", err=True)
    return EXIT_FINDINGS if stale else EXIT_CLEAN


@baseline.command("import")
@click.argument("secrets_baseline", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), callback=writable,
              help="Baseline file to write (default: .leakstop-baseline.json beside the input).")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path),
              help="Folder the detect-secrets file names are relative to (default: the input's folder).")
@_CONFIG
@engine_option
def import_(secrets_baseline: Path, output: Optional[Path], root: Optional[Path], config_path: Optional[Path],
            engine: Optional[str]) -> int:
    """Convert a detect-secrets baseline (.secrets.baseline) by re-scanning the files it names."""
    from scanner.baseline import import_detect_secrets
    from scanner.config import load_config
    from scanner.engine import Engine

    base = secrets_baseline.resolve().parent
    root = root or base
    out = output or base / ".leakstop-baseline.json"
    config = load_config(config_path, root).with_options(backend=engine)
    res = import_detect_secrets(secrets_baseline, out, root, Engine(config))
    res.baseline.save(out)
    for name, line, kind in res.unmatched:
        click.echo(f"not imported\t{name}:{line}\t{kind}\t(no leakstop finding with that value)")
    for name in res.missing_files:
        click.echo(f"missing\t{name}\t(file not found under {root})")
    click.echo(
        f"leakstop: imported {res.imported} detect-secrets entr{'y' if res.imported == 1 else 'ies'} as "
        f"{len(res.baseline.entries)} baseline entries into {out}; {len(res.unmatched)} not matched, "
        f"{len(res.missing_files)} file(s) missing",
        err=True,
    )
    return EXIT_CLEAN
