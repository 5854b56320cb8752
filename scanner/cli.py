"""Command line: parses arguments and calls the library; one handler maps errors to exit codes.

Subcommands live one per module in scanner.commands and are imported only when invoked, so a
pre-commit run pays for nothing it does not use.
"""

from __future__ import annotations

import importlib
import sys

import click

from scanner.errors import EXIT_ERROR, LeakstopError

# name -> "module:attribute" of a click command; a new subcommand is one module + one line here.
COMMANDS: dict[str, str] = {
    "scan": "scanner.commands.scan:scan",
    "rules": "scanner.commands.rules:rules",
    "baseline": "scanner.commands.baseline:baseline",
    "diff": "scanner.commands.diff:diff",
    "history": "scanner.commands.history:history",
    "remediate": "scanner.commands.remediate:remediate",
    "rotation": "scanner.commands.rotation:rotation",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="leakstop", prog_name="leakstop")
def cli() -> None:
    """leakstop: find secrets in files, staged changes, commit ranges and git history.

    Exit codes: 0 no findings, 1 findings, 2 usage or runtime error.
    """


def main(argv: list[str] | None = None) -> int:
    try:
        rv = cli.main(args=argv, prog_name="leakstop", standalone_mode=False)
    except LeakstopError as exc:
        click.echo(f"leakstop: error: {exc.message}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("leakstop: aborted", err=True)
        return EXIT_ERROR
    except click.ClickException as exc:
        # Usage errors: one line, exit 2 (click's own default is also 2).
        click.echo(f"leakstop: error: {exc.format_message()}", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("leakstop: interrupted", err=True)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    return rv if isinstance(rv, int) else 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
