"""JavaScript / TypeScript: a string literal becomes a call to the generated ``leakstop-secrets`` helper."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import PurePosixPath
from typing import Optional

from scanner.remediate import helper_templates as H
from scanner.remediate.records import Manual, Workspace
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, line_starts, locate, q, splice, text_or_manual


def _js_flavour(path: str, text: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext in (".ts", ".tsx", ".mts", ".cts"):
        return "ts"
    if ext == ".mjs" or (ext != ".cjs" and re.search(r"^\s*(import\s.+from\s|import\s*[\"'{*]|export\s)", text, re.M)):
        return "esm"
    return "cjs"


def _node_check(source: str, flavour: str) -> bool:
    """Syntax-check a rewritten JS file when node is installed (otherwise trust the splice).

    The source goes to node on a pipe, never to a file: a site left for manual handling still
    holds its value. (Node's error message quotes the source; it is captured and dropped.)"""
    node = shutil.which("node")
    if node is None or flavour == "ts":
        return True
    kind = "module" if flavour == "esm" else "commonjs"
    try:
        return subprocess.run([node, "--check", f"--input-type={kind}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return True


def rewrite_js(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    dec = text_or_manual(ws, path, pairs, ctx)
    if dec is None:
        return
    text, nl = dec
    starts = line_starts(text)
    flavour = _js_flavour(path, text)
    literals: dict[tuple[int, int], list] = {}
    for site, item in pairs:
        loc = locate(text, starts, site, item)
        lit = None
        if loc:
            line_a = starts[site.line - 1]
            line_b = text.find("\n", loc[1]) if text.find("\n", loc[1]) != -1 else len(text)
            for i in range(loc[0] - 1, line_a - 1, -1):
                quote = text[i]
                if quote in "'\"`":
                    j = text.find(quote, loc[1], line_b)
                    if j != -1 and quote not in text[i + 1 : loc[0]]:
                        lit = (i, j + 1)
                    break
        if lit is None:
            ctx.manual.append(Manual(site, "value is not inside a one-line string literal"))
            continue
        literals.setdefault(lit, []).append((loc[0], loc[1], site, item))
    repl = []
    for (a, b), hits in literals.items():
        quote = text[a]
        parts, cur = [], a + 1
        for va, vb, site, item in sorted(hits, key=lambda h: h[0]):
            if va > cur:
                parts.append(quote + text[cur:va] + quote)
            args = q(item.secret_name) + (f", {q(item.json_key)}" if item.json_key else "")
            fn = "leakstopLookup" if item.json_key else "leakstopParameter"
            parts.append(f"(await {fn}({args}))" if flavour != "cjs" else f"{fn}({args})")
            cur = vb
        if b - 1 > cur:
            parts.append(quote + text[cur : b - 1] + quote)
        repl.append((a, b, parts[0] if len(parts) == 1 else "(" + " + ".join(parts) + ")"))
    if not repl:
        return
    new = splice(text, repl)
    helper = {"ts": H.TS_HELPER_NAME, "esm": H.JS_HELPER_NAME, "cjs": H.CJS_HELPER_NAME}[flavour]
    spec = "./" + (helper[:-3] if flavour == "ts" else helper)
    if flavour == "cjs":
        imp = f'const {{ leakstopLookup, leakstopParameter }} = require("{spec}");{nl}'
        ctx.notes.append(f"{path}: CommonJS has no top-level await: each lookup is now a Promise; await it where used")
    else:
        imp = f'import {{ leakstopLookup, leakstopParameter }} from "{spec}";{nl}'
    lines = new.split("\n")
    at = 0
    while at < len(lines) and (lines[at].startswith("#!") or re.match(r"""\s*["']use strict["'];?\s*$""", lines[at])):
        at += 1
    if spec not in new:
        pos = line_starts(new)[at] if at < len(lines) else len(new)
        new = new[:pos] + imp + new[pos:]
    if not _node_check(new, flavour):
        ctx.manual += [Manual(h[2], "await is not allowed at this place: replace by hand") for hs in literals.values() for h in hs]
        return
    ws.write(path, new.encode("utf-8"), "javascript", f"literal -> {helper} lookup (AWS SDK v3 GetSecretValueCommand)")
    directory = str(PurePosixPath(path).parent)
    hpath = os.path.join(directory, helper) if directory != "." else helper
    if ws.read(hpath) is None:
        content = H.ts_helper(ctx.region, ctx.settings.cache_ttl) if flavour == "ts" else H.js_helper(
            ctx.region, ctx.settings.cache_ttl, flavour)
        ws.write(hpath, content.encode(), "helper", "run-time helper (AWS SDK v3, in-process cache)")


def claims(path: str, data: Optional[bytes]) -> bool:
    return os.path.splitext(path)[1].lower() in (".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts", ".cts")


REWRITER = Rewriter(claims, rewrite_js)
