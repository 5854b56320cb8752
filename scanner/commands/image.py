"""``leakstop image PATH``: a container image saved to disk (``docker save`` archive, or an OCI
image layout as a directory or tar), every layer and the image config, without a daemon."""

from __future__ import annotations

from dataclasses import replace
from itertools import chain
from pathlib import Path

import click

from scanner.commands.common import next_steps, output_options, summary, verify_choice, verify_options


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
    from scanner.engine import Engine
    from scanner.identity import resolve_identity
    from scanner.pipeline import apply_baseline, check_complete, judged, report, verify_step

    config = load_config(config_path, Path.cwd())
    size = parse_size(max_file_size, "--max-file-size") if max_file_size else None
    config = config.with_options(max_file_size=size, min_confidence=min_confidence)
    eng = Engine(config, identity=resolve_identity(config, Path.cwd()))
    findings, stats = scan_image(path, eng, config.max_file_size, squashed)
    outcome = judged(findings, stats, config.min_confidence)
    outcome.findings = apply_baseline(outcome.findings, baseline)
    verify_step(outcome, verify_choice(verify, only_verified, verify_timeout), eng.identity, config)
    rc = report(outcome, "image", fmt, output, eng.rules, identity=eng.identity, style=style)
    summary(outcome, quiet)
    next_steps(outcome.findings, eng.rules, "image", quiet)
    check_complete(outcome)
    return rc


def scan_image(path: Path, engine, max_file_size: int, squashed: bool = False) -> tuple[list, dict]:
    """Findings of every image in the archive, each naming its image, layer and instruction (and
    the layer that deleted its file, if one did); and the stats."""
    from scanner.sources.image import ImageStats, Listing, config_units, layer_units, list_layers, open_image

    store, images = open_image(path)
    stats = ImageStats()
    findings = []
    try:
        for img in images:
            stats.images += 1
            listing = Listing()
            final = list_layers(store, img) if squashed else None
            found = []  # (where, finding): the unit's bytes are not kept
            for unit in chain(config_units(img), layer_units(store, img, max_file_size, stats, listing, final)):
                found += [(_where(unit), f) for f in engine.scan(unit.chunk)]
            # Deletions are known once every layer is read.
            for (index, name, where), f in found:
                gone = listing.gone_after(index, name.split("!")[0]) if index >= 0 else None
                if gone is not None:
                    where = {**where, "deleted_in_layer": img.layers[gone].digest}
                findings.append(replace(f, extra={**f.extra, **where}))
    finally:
        store.close()
    return findings, stats.as_dict()


def _where(unit) -> tuple:
    return unit.index, unit.chunk.path, {"image": unit.image, "layer": unit.layer, "instruction": unit.instruction}
