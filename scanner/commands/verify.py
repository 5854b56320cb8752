"""``leakstop verify --list-endpoints``: what ``--verify`` may contact, for firewalls and reviews."""

from __future__ import annotations

import click


@click.command()
@click.option("--list-endpoints", is_flag=True,
              help="Print one line per verifier: name, provider, the host(s) it contacts, the request it makes.")
def verify(list_endpoints: bool) -> int:
    """Live verification (used by `scan/diff/history --verify`): its endpoints.

    Each verifier sends one read-only request to its provider's documented API host; nothing else
    is contacted, and nothing is contacted without --verify.
    """
    if not list_endpoints:
        raise click.UsageError("nothing to do: use --list-endpoints (verification itself is `scan --verify`)")
    from scanner.verify.registry import endpoint_lines

    click.echo("\n".join(endpoint_lines()))
    return 0
