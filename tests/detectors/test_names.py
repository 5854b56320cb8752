"""names.unwanted, the shortcut that spares most files the detectors' name tests, never rules out
a name one of them wants."""

from __future__ import annotations

import ast
import itertools
import random
from pathlib import Path

from scanner.detectors import DETECTORS, _by_name, names


def _literals() -> set[str]:
    """Every string in names.py: the names, extensions and prefixes its tests look for."""
    tree = ast.parse(Path(names.__file__).read_text())
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and 0 < len(n.value) < 40 and "\n" not in n.value}


def _candidates() -> list[str]:
    lits = sorted(_literals())
    stems = ["app", "Dockerfile", ".env", "x.env", "compose", "docker-compose", "credentials", "master", ""]
    dirs = ["", "src/", ".aws/", ".kube/", "config/credentials/", ".github/workflows/", "deep/dir/"]
    out = set()
    for lit in lits:
        for stem, d in itertools.product(stems, dirs):
            for name in (lit, stem + lit, lit + "." + "rb", stem + "." + lit.lstrip("."), lit.upper()):
                out.add(d + name)
    rng = random.Random(5)
    for _ in range(3000):  # random recombinations of the fragments
        out.add(rng.choice(dirs) + "".join(rng.choice(lits + stems + [".", "-", "_"]) for _ in range(rng.randint(1, 4))))
    return sorted(out)


def test_a_name_ruled_out_is_wanted_by_no_detector():
    paths = _candidates()
    ruled_out = [p for p in paths if names.unwanted(p)]
    assert len(ruled_out) > 1000 and len(ruled_out) < len(paths)  # the check exercises both sides
    for p in ruled_out:
        wanted = [name for name, (wants_name, _, _) in DETECTORS.items() if wants_name(p)]
        assert not wanted, (p, wanted)


def test_source_files_are_ruled_out_and_configuration_files_are_not():
    for p in ("app/models/user.rb", "lib/x.py", "README.md", "src/Main.java", "web/app.min.js"):
        assert names.unwanted(p) and _by_name(p) == ()
    for p in ("Dockerfile", "Dockerfile.dev", ".env", ".env.local", "config/database.yml", "main.tf", "a.json",
              "etc/shadow", "master.passwd", "terraform.rc", "x.properties", "Makefile", ".aws/credentials"):
        assert not names.unwanted(p) and _by_name(p), p
