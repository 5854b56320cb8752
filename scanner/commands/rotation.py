"""``leakstop rotation status``: secrets flagged by remediate, and whether each was rotated."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from scanner.remediate.stores import STORES


@click.group()
def rotation() -> None:
    """Rotation of the values leakstop moved out of code."""


@rotation.command("status")
@click.argument("path", default=".")
@click.option("--backend", type=click.Choice(sorted(STORES)), default="secretsmanager", show_default=True)
@click.option("--region", default=None, help="AWS region (default: the standard AWS configuration).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Configuration file.")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--verify", is_flag=True,
              help="Also ask each provider whether the flagged (old) values still work: rotated but still live fails.")
@click.option("--verify-timeout", type=click.FloatRange(min=0.1, max=3600), default=20.0, show_default=True,
              metavar="SECONDS", help="The most time --verify may take.")
def status(path: str, backend: str, region: str | None, config_path: Path | None, fmt: str, verify: bool,
           verify_timeout: float) -> int:
    """List secrets tagged leakstop:rotation and, per key, whether its value was rotated.

    PATH is the repository that was remediated: its fingerprint key (as for `remediate`) hashes the
    values now stored, to compare them with the hashes recorded when they were flagged. Exit 0 when
    every flagged value was rotated, 1 when some are still pending (or, with --verify, when an old
    value is still accepted by its provider).
    """
    from scanner.config import load_config
    from scanner.identity import resolve_identity
    from scanner.remediate import aws
    from scanner.remediate.rotation import status as rotation_status
    from scanner.remediate.stores import make_store

    config = load_config(config_path, Path(path))
    identity = resolve_identity(config, Path(path))
    region = aws.resolve_region(region)
    aws.check_credentials(region)
    store = make_store(backend, region)
    rows = rotation_status(store, identity)
    if verify:
        from scanner.verify.rotation import check_old_values

        check_old_values(store, rows, verify_timeout, config.verify_endpoints)
    if fmt == "json":
        sys.stdout.write(json.dumps({"secrets": rows}, indent=2) + "\n")
    else:
        for r in rows:
            _print_row(r)
        pending = sum(not r["rotated"] for r in rows)
        live = sum(bool(r["rotated"] and r.get("still_live")) for r in rows)
        tail = f", {live} rotated, but the old value is still live" if verify else ""
        click.echo(f"{len(rows)} flagged, {pending} pending rotation{tail}", err=True)
    return 1 if any(not r["rotated"] or r.get("still_live") for r in rows) else 0


def _old(entry: dict) -> str:
    """``--verify``'s answer about the flagged value(s), when asked."""
    old = entry.get("old_value")
    return f"\told value: {old['status']} ({old['detail']})" if old else ""


def _print_row(r: dict) -> None:
    state = "rotated" if r["rotated"] else "PENDING"
    if r["rotated"] and r.get("still_live"):
        state = "STILL-LIVE"  # rotated in the store, but the old value still works at its provider
    extra = " (in git history)" if r["in_git_history"] else ""
    click.echo(f"{state}\t{r['name']}\t{r['rules']}\t{r['source']}{extra}{_old(r)}")
    for k in r["keys"]:
        what = {True: "rotated", False: "PENDING", None: "unknown (flagged under another fingerprint key)"}[k["rotated"]]
        click.echo(f"\tkey {k['key'] or '(value)'}: {what}{_old(k)}")
    for v in r["pending_versions"]:
        click.echo(f"\tversion {v} left in AWSPENDING: a rotation started and did not finish (see the rotation "
                   f"Lambda's logs; finish it or remove the label)")
    if r["rotation_overdue"]:
        click.echo(f"\tscheduled rotation overdue (next was {r['rotation']['next_rotation'][:10]}): the rotation "
                   f"Lambda has not completed one; see its logs")
    if r["last_accessed"]:
        click.echo(f"\tlast read: {r['last_accessed'][:10]}")
