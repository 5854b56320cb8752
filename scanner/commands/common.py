"""Options shared by scan, diff and history."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Callable, Optional

import click

from scanner.config import CONFIDENCE_LEVELS, format_size
from scanner.errors import EXIT_FINDINGS
from scanner.report import Style, formats_for

# -j beyond this is a typo, not a plan: each job is a process (a pool forks them all at once).
MAX_JOBS = 256


def writable(ctx, param, value: Optional[Path]) -> Optional[Path]:
    """Click callback for an output file: its folder must exist, checked before any scanning."""
    if value is not None and str(value) != "-":
        from scanner.fsutil import check_parent

        check_parent(value)
    return value


def use_color(choice: str, output: Optional[Path], stream=None) -> bool:
    """Colour for ``--color auto|always|never``: auto means a terminal on stdout, no ``-o`` file,
    and no ``NO_COLOR`` in the environment (https://no-color.org)."""
    if choice != "auto":
        return choice == "always"
    stream = stream or sys.stdout
    if output is not None and str(output) != "-":
        return False
    return not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb" and stream.isatty()


def output_options(command: str) -> Callable:
    """Options every scanning command shares: configuration, report format and file, baseline,
    colour, and ``--exit-code`` (the code for "findings", for report-only use in CI). The
    command function receives ``style`` (:class:`scanner.report.Style`) for its report and returns
    0/1; this maps 1 to ``--exit-code``."""

    def wrap(command_fn: Callable) -> Callable:
        @functools.wraps(command_fn)
        def run(*args, exit_code: int, color: str, **kwargs):
            style = Style(color=use_color(color, kwargs.get("output")))
            rc = command_fn(*args, style=style, **kwargs)
            return exit_code if rc == EXIT_FINDINGS else rc

        fn = run
        fn = click.option("--exit-code", "exit_code", type=click.IntRange(0, 255), default=EXIT_FINDINGS,
                          show_default=True, metavar="N",
                          help="Exit code when findings are reported (0: report only, never fail).")(fn)
        fn = click.option("--color", "--colour", "color", type=click.Choice(["auto", "always", "never"]),
                          default="auto", show_default=True,
                          help="Colour the text report (auto: on a terminal, unless NO_COLOR is set).")(fn)
        fn = click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path),
                          help="Report only findings not in this baseline file.")(fn)
        fn = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), callback=writable,
                          help="Write the report here instead of stdout.")(fn)
        fn = click.option("-f", "--format", "fmt", type=click.Choice(formats_for(command)), default="text",
                          show_default=True, help="Report format.")(fn)
        fn = click.option("--min-confidence", "min_confidence", type=click.Choice(CONFIDENCE_LEVELS), default=None,
                          help="Report (and fail on) findings of this confidence or higher "
                               "(default: min_confidence in the configuration, else medium).")(fn)
        fn = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                          help="Configuration file (default: .leakstop.yaml at the repository root).")(fn)
        return fn

    return wrap


def _backend(ctx, param, value: Optional[str]) -> Optional[str]:
    """``--engine``: "auto" or a key of the engine's ``BACKENDS`` registry (read only when the
    option is given: the registry's module loads the engine, which the hook defers)."""
    if value is None or value == "auto":
        return value
    from scanner.engine.backends import BACKENDS

    if value not in BACKENDS:
        raise click.BadParameter(f"{value!r} is not one of {', '.join(['auto', *BACKENDS])}")
    return value


# Which multi-pattern backend the engine uses (hidden: for tests and measurements).
engine_option = click.option("--engine", default=None, hidden=True, metavar="NAME", callback=_backend)


def verify_options(fn: Callable) -> Callable:
    """--verify, --only-verified, --verify-timeout (scanner.verify; off by default)."""
    fn = click.option("--verify-timeout", type=click.FloatRange(min=0.1, max=3600), default=20.0, show_default=True,
                      metavar="SECONDS", help="The most time verification may add to the run; values not answered "
                                              "by then are 'unknown'.")(fn)
    fn = click.option("--only-verified", is_flag=True,
                      help="Report only findings their provider confirmed live (implies --verify).")(fn)
    fn = click.option("--verify", is_flag=True,
                      help="Ask each finding's provider whether the credential works (one read-only request to "
                           "its documented API host; `leakstop verify --list-endpoints` lists them).")(fn)
    return fn


def verify_choice(verify: bool, only_verified: bool, timeout: float):
    from scanner.pipeline import VerifyOptions

    return VerifyOptions(verify, only_verified, timeout)


def judging_engine(config, root: Path):
    """The engine of a command that reports what its confidence floor keeps (scan, diff, image):
    keyed by the command's fingerprint key (scanner.identity, found from ``root``), and leaving
    the findings below --min-confidence unidentified, since they are only counted: judge()
    identifies, and so stretches a weak value for, only the findings it keeps."""
    from scanner.engine import Engine
    from scanner.identity import resolve_identity

    return Engine(config, identity=resolve_identity(config, root), defer_below=config.min_confidence)


def summary(outcome, quiet: bool = False) -> None:
    """One line on stderr: how many findings, how much was scanned and what was skipped."""
    if quiet:
        return
    for note in outcome.notes:
        print(f"leakstop: note: {note}", file=sys.stderr)
    s = outcome.stats
    skipped = s.get("skipped") or {}
    limit = s.get("max_file_size")
    skip = ", ".join(f"{n} {why}" + (f" (over {format_size(limit)})" if why == "too large" and limit else "")
                     for why, n in sorted(skipped.items()))
    scanned = s.get("files_scanned", s.get("blobs_scanned", 0))
    unit = "files" if "files_scanned" in s else "blobs"
    msg = f"leakstop: {len(outcome.findings)} finding(s) in {scanned} {unit} scanned"
    decoded = [_decoded(kind, n) for kind, n in sorted((s.get("decoded") or {}).items())]
    if s.get("streamed"):
        decoded.append(f"{s['streamed']} over the size limit, scanned in windows")
    if decoded:
        msg += " (" + "; ".join(decoded) + ")"
    if skip:
        msg += f"; skipped {skip}"
    checked = [f"{n} {status}" for status, n in (s.get("verification") or {}).items() if n]
    if checked:
        msg += "; verification: " + ", ".join(checked)
    below = s.get("below_min_confidence")
    if below:
        msg += f"; {below} below --min-confidence not shown"
    print(msg, file=sys.stderr)


def _decoded(kind: str, n: int) -> str:
    """How the summary names content converted before scanning (scanner.sources.textify)."""
    if kind == "binary":
        return f"{n} binary: printable text, provider rules only"
    if kind == "archive":
        return f"{n} archive(s) expanded"
    return f"{n} decoded from {kind.upper()}"


def _first_sentence(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    end = flat.find(". ")
    flat = flat if end < 0 else flat[: end + 1]
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def next_steps(findings, rules, command: str, quiet: bool = False) -> None:
    """After a blocked commit or a failed job: what to do, in a few lines on stderr, where the
    user already is (the report itself stays machine-readable)."""
    if quiet or not findings:
        return
    by_id = {r.id: r for r in rules}
    rotations: list[str] = []
    for rid in dict.fromkeys(f.rule_id for f in findings):
        rule = by_id.get(rid)
        if rule is not None and rule.rotation and len(rotations) < 2:
            rotations.append(f"{rid}: {_first_sentence(rule.rotation)}")
    where = {"diff": "unstage it, remove it from the file", "history": "it is in git history (removing it now does not undo that)",
             "image": "rebuild the image without it (a later layer deleting it does not), delete the old image from registries"}
    say = functools.partial(print, file=sys.stderr)
    say(f"leakstop: next: a real secret: {where.get(command, 'remove it')}, and rotate it "
        "(a value that reached a file or commit may already be copied)"
        + (f"; {'; '.join(rotations)}" if rotations else ""))
    say("leakstop: next: to move values into AWS Secrets Manager and rewrite the code that uses them: "
        "`leakstop remediate --project NAME --env ENV` (a dry run until --apply)")
    say("leakstop: next: a false positive: add `leakstop:allow` in a comment on its line, or accept the "
        "current findings with `leakstop baseline create` and pass `--baseline .leakstop-baseline.json`")
