"""Command line: parses arguments and calls the library; one handler maps errors to exit codes.

Subcommands live one per module in scanner.commands and are imported only when invoked, so a
pre-commit run pays for nothing it does not use.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys

import click

from scanner.display import display_path, safe_streams
from scanner.errors import EXIT_ERROR, LeakstopError, describe_bug

# name -> "module:attribute" of a click command; a new subcommand is one module + one line here.
COMMANDS: dict[str, str] = {
    "scan": "scanner.commands.scan:scan",
    "rules": "scanner.commands.rules:rules",
    "baseline": "scanner.commands.baseline:baseline",
    "diff": "scanner.commands.diff:diff",
    "history": "scanner.commands.history:history",
    "remediate": "scanner.commands.remediate:remediate",
    "rotation": "scanner.commands.rotation:rotation",
    "init": "scanner.commands.init:init",
    "image": "scanner.commands.image:image",
    "audit": "scanner.commands.audit:audit",
    "verify": "scanner.commands.verify:verify",
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


def version_text() -> str:
    """``leakstop 0.1.0 (rules: 855 built in, pack 1a2b3c4d5e6f)``: the pack digest changes with
    any rule, so two installs report the same findings only when both parts agree."""
    from scanner import __version__
    from scanner.rules import builtin_rules_dir, cached_rules, files_digest, rule_files

    count = len(cached_rules(rule_files()))  # the scans' own cache: no YAML parsing once it exists
    digest = files_digest(sorted(builtin_rules_dir().glob("*.yaml")))[:12]
    return f"leakstop {__version__} (rules: {count} built in, pack {digest})"


def _print_version(ctx: click.Context, param, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_text())
        ctx.exit(0)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version of leakstop and of its rules, then exit.")
def cli() -> None:
    """leakstop: find secrets in files, staged changes, commit ranges and git history.

    Exit codes: 0 no findings, 1 findings, 2 usage or runtime error.
    """


def main(argv: list[str] | None = None) -> int:
    safe_streams()
    try:
        rv = cli.main(args=argv, prog_name="leakstop", standalone_mode=False)
    except LeakstopError as exc:
        _say(f"leakstop: error: {exc.message}")
        return exc.exit_code
    except click.exceptions.Abort:
        _say("leakstop: aborted")
        return EXIT_ERROR
    except click.ClickException as exc:
        # Usage errors: one line, exit 2 (click's own default is also 2).
        _say(f"leakstop: error: {exc.format_message()}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        _say("leakstop: interrupted")
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    except Exception as exc:  # a bug: still one line and exit 2, the traceback only on request
        return internal_error(exc)
    return rv if isinstance(rv, int) else 0


DEBUG_ENV = "LEAKSTOP_DEBUG"


def _say(line: str) -> None:
    """One line on stderr through the degrading stream (click would re-encode an ASCII terminal)."""
    print(display_path(line), file=sys.stderr, flush=True)


def internal_error(exc: BaseException) -> int:
    """One line naming the exception type and where it was raised (:func:`describe_bug`, never
    its message). With ``LEAKSTOP_DEBUG=1`` the full traceback follows (the user asked for it)."""
    _say(f"leakstop: internal error: {describe_bug(exc)} (please report it; {DEBUG_ENV}=1 prints the traceback)")
    if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        import traceback  # here: every run would pay for its import (linecache, tokenize)

        sys.stderr.write(display_path("".join(traceback.format_exception(exc))))
    return EXIT_ERROR


def entry() -> None:
    # What is loaded by now (the interpreter, click, this module) lives until exit: frozen, the
    # cyclic collector does not walk it again in each collection that start-up and exit trigger
    # (~4% of the pre-commit hook's work). Only here: main() may run many times in one process.
    gc.freeze()
    sys.exit(main())


if __name__ == "__main__":
    entry()
