"""``leakstop image PATH``: a container image saved to disk (``docker save`` archive, or an OCI
image layout as a directory or tar), every layer and the image config, without a daemon."""

from __future__ import annotations

from pathlib import Path

import click

from scanner.commands.common import judging_engine, next_steps, output_options, summary, verify_choice, verify_options


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@output_options("image")
@click.option("--squashed", is_flag=True,
              help="Scan only the final filesystem (what a container sees), not files removed by later layers.")
@click.option("--max-file-size", default=None, metavar="SIZE", help="Skip files larger than this (default 10MB).")
@verify_options
@click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr.")
def image(path: Path, config_path, min_confidence, fmt, output, baseline, squashed: bool, max_file_size, verify,
          only_verified, verify_timeout, quiet: bool, style) -> int:
    """Scan a container image: every layer's files (also those a later layer deleted), and the
    config's Env, Labels and build history. Exit 1 when a secret is found.

    \b
      docker save myapp:1.2 -o myapp.tar && leakstop image myapp.tar
      leakstop image ./oci-layout-dir
    """
    from scanner.config import load_config, parse_size
    from scanner.pipeline import apply_baseline, check_complete, judged, report, run_source, verify_step
    from scanner.sources.base import make_source

    config = load_config(config_path, Path.cwd())
    size = parse_size(max_file_size, "--max-file-size") if max_file_size else None
    config = config.with_options(max_file_size=size, min_confidence=min_confidence)
    eng = judging_engine(config, Path.cwd())
    ran = run_source(make_source("image", path, config.max_file_size, squashed), eng)
    outcome = judged(ran.findings, ran.stats, config.min_confidence, eng.identity)
    outcome.findings = apply_baseline(outcome.findings, baseline)
    verify_step(outcome, verify_choice(verify, only_verified, verify_timeout), eng.identity, config)
    rc = report(outcome, "image", fmt, output, eng.rules, identity=eng.identity, style=style)
    summary(outcome, quiet)
    next_steps(outcome.findings, eng.rules, "image", quiet)
    check_complete(outcome)
    return rc
