"""``leakstop init``: a commented ``.leakstop.yaml`` at the repository root, and the snippets that
install the hook (pre-commit) and the CI gate for this repository."""

from __future__ import annotations

from pathlib import Path

import click

from scanner import __version__

CONFIG_NAME = ".leakstop.yaml"

# Every key is commented out: an init'd repository scans exactly like one without the file until
# the user opts in, and `leakstop diff` reads this file as of the base commit (see the README).
TEMPLATE = """\
# leakstop configuration (https://github.com/leakstop/leakstop#configuration).
# Every key is optional; uncomment what you need. In a pull request the gate reads this file as
# of the base commit, so a change to it takes effect once it is merged.

# Findings already accepted, so that only new ones fail (create it with `leakstop baseline create`):
#   leakstop diff --staged --baseline .leakstop-baseline.json

# Paths never scanned (gitignore-style globs), like --exclude:
# exclude: ['vendor/**', '*.min.js']

# Skip files larger than this:
# max_file_size: 10MB

# Rules to turn off, by id (`leakstop rules list` shows them):
# disabled_rules: [generic-password]

# Values and paths to accept:
# allowlist:
#   paths: ['tests/fixtures/**']
#   regexes: ['^AKIA.{12}TEST$']     # matched against the value
#   stopwords: [example]             # a value containing one is ignored

# Your own rules (each with examples that must match and negative examples that must not):
# rules:
#   - id: acme-token
#     name: Acme API token
#     provider: acme
#     regex: '(?P<secret>acme_[A-Za-z0-9]{20})'
#     keywords: [acme_]
#     severity: high
#     rotation: Revoke it at https://acme.example/settings/tokens.
#     examples: ['token = acme_Q8zr2Lm5Xw9Tb3Nc7Kp1']
#     negative_examples: ['token = acme_short']

# Where `leakstop remediate` stores values (see "Remediation" in the README):
# remediation:
#   region: eu-west-1
"""


def precommit_snippet() -> str:
    return f"""\
repos:
  - repo: https://github.com/leakstop/leakstop
    rev: v{__version__}
    hooks:
      - id: leakstop            # blocks `git commit` when the staged change adds a secret
"""


@click.command()
@click.option("-C", "--repo", "repo", default=".", metavar="PATH", help="The repository (default: current directory).")
@click.option("--force", is_flag=True, help=f"Overwrite an existing {CONFIG_NAME}.")
def init(repo: str, force: bool) -> int:
    """Write a commented .leakstop.yaml and print how to install the hook and the CI gate."""
    from scanner.sources.git import toplevel_or_none
    from scanner.errors import LeakstopError
    from scanner.fsutil import atomic_write

    if not Path(repo).is_dir():
        raise LeakstopError(f"{repo}: no such directory")
    top = toplevel_or_none(repo) or Path(repo)
    target = top / CONFIG_NAME
    if target.exists() and not force:
        raise LeakstopError(f"{target}: already exists (--force to overwrite)")
    atomic_write(target, TEMPLATE.encode())
    click.echo(f"leakstop: wrote {target}", err=True)
    click.echo("\n# .pre-commit-config.yaml (then: pre-commit install)")
    click.echo(precommit_snippet())
    click.echo("# or without the pre-commit framework, in .git/hooks/pre-commit:")
    click.echo("#   exec leakstop diff --staged\n")
    click.echo("# CI gate on a pull request (exit 1 on a new secret):")
    click.echo("#   leakstop diff origin/main..HEAD -f sarif -o leakstop.sarif")
    return 0
