"""JSON Lines: one finding object per line (the same objects as the JSON report's ``findings``),
then one line per notice (the JSON report's ``notices`` objects, marked ``"type": "notice"``)."""

from __future__ import annotations

import json
from typing import Sequence

from scanner.models import Finding
from scanner.report.json import notice_dict


def render(findings: Sequence[Finding], ctx) -> str:
    # A notice (a pull request changing the settings the gate applies) is what a reviewer must
    # see; a stream consumer tells it from a finding by its type (findings have a rule_id).
    lines = [f.to_dict() for f in findings] + [{"type": "notice", **notice_dict(n)} for n in ctx.notices]
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
