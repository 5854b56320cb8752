"""``leakstop rules list`` and ``leakstop rules check [FILE]``."""

from __future__ import annotations

from pathlib import Path

import click

from scanner.errors import EXIT_CLEAN, EXIT_FINDINGS


@click.group()
def rules() -> None:
    """List or validate detection rules."""


@rules.command("list")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Configuration file.")
@click.option("-v", "--verbose", is_flag=True,
              help="Also each rule's severity, category, keywords, entropy threshold, filters opted out of, and regex.")
def list_rules(config_path: Path | None, verbose: bool) -> int:
    """Print id, provider and description of every active rule."""
    from scanner.config import load_config
    from scanner.engine import load_ruleset

    ruleset = load_ruleset(load_config(config_path, Path.cwd()))
    for r in ruleset:
        click.echo(f"{r.id}\t{r.provider}\t{r.summary}")
        if verbose:
            click.echo(rule_details(r))
    providers = {r.provider for r in ruleset}
    click.echo(f"{len(ruleset)} rules, {len(providers)} providers", err=True)
    return EXIT_CLEAN


@rules.command("check")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def check(files: tuple[Path, ...]) -> int:
    """Validate rule files (default: the built-in packs): schema, regex, examples."""
    from scanner.rulecheck import check_rules
    from scanner.rules import load_rules, rule_files

    paths = list(files) or rule_files()
    loaded = load_rules(paths)
    problems = check_rules(loaded)
    for p in problems:
        click.echo(str(p))
    click.echo(f"{len(loaded)} rules checked in {len(paths)} file(s), {len(problems)} problem(s)", err=True)
    return EXIT_FINDINGS if problems else EXIT_CLEAN


def rule_details(r) -> str:
    """The matching details a developer does not need in a report: indented lines under the rule."""
    kind = "generic (yields to a provider rule on the same value)" if r.generic else "provider"
    lines = [f"severity: {r.severity}", f"category: {r.category}", f"kind: {kind}",
             f"keywords: {', '.join(r.keywords)}"]
    if r.min_entropy:
        lines.append(f"min_entropy: {r.min_entropy} bits/char")
    if r.skip_filters:
        lines.append(f"skips filters: {', '.join(r.skip_filters)}")
    if r.detector:
        lines.append(f"detector: {r.detector}")
    lines.append(f"regex: {r.regex}")
    return "".join(f"    {line}\n" for line in lines).rstrip("\n")
