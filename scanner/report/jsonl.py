"""JSON Lines: one finding object per line (the same objects as the JSON report's ``findings``)."""

from __future__ import annotations

import json
from typing import Sequence

from scanner.models import Finding


def render(findings: Sequence[Finding], ctx) -> str:
    return "".join(json.dumps(f.to_dict(), ensure_ascii=False) + "\n" for f in findings)
