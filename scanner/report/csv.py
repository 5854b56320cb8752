"""CSV for spreadsheets and ad-hoc triage: one row per finding, a fixed header."""

from __future__ import annotations

import csv
import io
from typing import Sequence

from scanner.display import display_path
from scanner.models import Finding

COLUMNS = ["rule_id", "provider", "severity", "confidence", "path", "line", "column", "masked", "key", "fingerprint",
           "commit", "author", "date", "description"]
# A cell starting with one of these is a formula to Excel/LibreOffice/Sheets: a file name or key
# from a scanned repository could run one on the triager's machine ("CSV injection").
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def row(f: Finding) -> list[str]:
    c = f.commit
    values = [f.rule_id, f.provider, f.severity, f.confidence, display_path(f.path), f.line, f.column, f.masked, f.key or "",
              f.fingerprint, c.sha if c else "", c.author if c else "", c.date if c else "", f.description]
    return [_cell(v) if isinstance(v, str) else str(v) for v in values]


def render(findings: Sequence[Finding], ctx) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for f in findings:
        w.writerow(row(f))
    return buf.getvalue()
