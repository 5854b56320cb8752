"""Jupyter notebooks (``.ipynb``): each cell's source, and each of its outputs, scanned as its own
text, so a finding names the cell and the line within it (``analysis.ipynb#cell3``,
``analysis.ipynb#cell3/output1``) rather than a line of the JSON, where a cell's lines are
escaped strings. Outputs matter: a printed token, an ``env`` dump or an error echoing a
connection string stays in the file after the code that printed it is fixed."""

from __future__ import annotations

import json
from typing import Iterator, Optional

SUFFIX = ".ipynb"
# Output data worth reading as text; images and widgets are base64 or markup of no interest.
TEXT_TYPES = ("text/plain", "text/html", "text/markdown", "application/json", "text/latex")


def _text(value) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    if isinstance(value, (dict, int, float)):
        return json.dumps(value, indent=1)
    return str(value or "")


def _outputs(cell: dict) -> Iterator[str]:
    for out in cell.get("outputs") or []:
        if not isinstance(out, dict):
            continue
        parts = [_text(out.get("text"))] if "text" in out else []
        data = out.get("data") or {}
        parts += [_text(data[t]) for t in TEXT_TYPES if isinstance(data, dict) and t in data]
        if out.get("output_type") == "error":
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}\n" + "\n".join(map(str, out.get("traceback") or [])))
        yield "\n".join(p for p in parts if p)


def cells(name: str, data: bytes) -> Optional[list[tuple[str, bytes]]]:
    """``(name#cellN[/outputM], text)`` for each cell source and output of the notebook in
    ``data``; None when ``name`` is not a notebook or ``data`` not one (then the file is
    scanned as it is)."""
    if not name.endswith(SUFFIX):
        return None
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        return None
    out = []
    for i, cell in enumerate(doc["cells"], 1):
        if not isinstance(cell, dict):
            continue
        out.append((f"{name}#cell{i}", _text(cell.get("source")).encode("utf-8", "surrogatepass")))
        for j, text in enumerate(_outputs(cell), 1):
            if text:
                out.append((f"{name}#cell{i}/output{j}", text.encode("utf-8", "surrogatepass")))
    meta = doc.get("metadata")
    if meta:  # kernel and widget state may hold tokens too
        out.append((f"{name}#metadata", json.dumps(meta, indent=1).encode("utf-8", "surrogatepass")))
    return out
