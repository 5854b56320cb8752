"""``leakstop rotation status``: secrets flagged by remediate, and whether each was rotated."""

from __future__ import annotations

import json
import sys

import click

from scanner.remediate.stores import STORES


@click.group()
def rotation() -> None:
    """Rotation of the values leakstop moved out of code."""


@rotation.command("status")
@click.option("--backend", type=click.Choice(sorted(STORES)), default="secretsmanager", show_default=True)
@click.option("--region", default=None, help="AWS region (default: the standard AWS configuration).")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def status(backend: str, region: str | None, fmt: str) -> int:
    """List secrets tagged leakstop:rotation and whether each has a version newer than the flag.

    Exit 0 when every flagged secret was rotated, 1 when some are still pending.
    """
    from scanner.remediate import aws
    from scanner.remediate.rotation import status as rotation_status
    from scanner.remediate.stores import make_store

    region = aws.resolve_region(region)
    aws.check_credentials(region)
    rows = rotation_status(make_store(backend, region))
    if fmt == "json":
        sys.stdout.write(json.dumps({"secrets": rows}, indent=2) + "\n")
    else:
        for r in rows:
            state = "rotated" if r["rotated"] else "PENDING"
            extra = " (in git history)" if r["in_git_history"] else ""
            click.echo(f"{state}\t{r['name']}\t{r['rules']}\t{r['source']}{extra}")
        pending = sum(not r["rotated"] for r in rows)
        click.echo(f"{len(rows)} flagged, {pending} pending rotation", err=True)
    return 1 if any(not r["rotated"] for r in rows) else 0
