"""Shared by the benchmarks: byte-compile the package before timing it.

A pip install byte-compiles the package; an editable install under PYTHONDONTWRITEBYTECODE never
does, and then every run compiles ~60 modules from source again (~0.1 s of start-up a real install
does not pay). The benchmarks time what users run, so they compile it once first.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def compile_package(root: Path) -> None:
    """Byte-compile the scanner package of the checkout at ``root``."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "scanner")], check=False,
                   stdout=subprocess.DEVNULL)
