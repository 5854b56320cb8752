"""Python: a string literal becomes a call to the generated ``leakstop_secrets`` helper."""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from pathlib import PurePosixPath
from typing import Optional

from scanner.remediate import helper_templates as H
from scanner.remediate.records import Item, Manual, Site, Workspace
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, line_starts, locate, q, splice, text_or_manual


_STR_PREFIX = re.compile(r"([A-Za-z]*)('''|\"\"\"|'|\")")


def _python_call(item: Item) -> str:
    if item.json_key is None:
        return f"leakstop_parameter({q(item.secret_name)})"
    return f"leakstop_lookup({q(item.secret_name)}, {q(item.json_key)})"


def _uses_caching_lib(ws: Workspace) -> bool:
    for name in ("requirements.txt", "requirements.in", "pyproject.toml", "setup.py", "setup.cfg", "Pipfile"):
        data = ws.read(name)
        if data and re.search(rb"aws[-_]secretsmanager[-_]caching", data, re.I):
            return True
    return False


def rewrite_python(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    dec = text_or_manual(ws, path, pairs, ctx)
    if dec is None:
        return
    text, nl = dec
    starts = line_starts(text)
    try:
        toks = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.STRING]
        tree = ast.parse(text)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        ctx.manual += [Manual(s, "Python file does not parse") for s, _ in pairs]
        return
    spans = [(starts[t.start[0] - 1] + t.start[1], starts[t.end[0] - 1] + t.end[1], t.string) for t in toks]
    by_token: dict[int, list[tuple[int, int, Site, Item]]] = {}
    for site, item in pairs:
        loc = locate(text, starts, site, item)
        tok = next((i for i, (a, b, _) in enumerate(spans) if loc and a <= loc[0] and loc[1] <= b), None)
        if loc is None or tok is None:
            ctx.manual.append(Manual(site, "value is not inside a plain string literal"))
            continue
        by_token.setdefault(tok, []).append((loc[0], loc[1], site, item))
    repl = []
    used = set()
    for tok, hits in by_token.items():
        a, b, s = spans[tok]
        m = _STR_PREFIX.match(s)
        prefix, quote = m.group(1), m.group(2)
        if set(prefix.lower()) & {"f", "b"}:
            ctx.manual += [Manual(h[2], "f-string or bytes literal: replace by hand") for h in hits]
            continue
        body_a, body_b = a + len(prefix) + len(quote), b - len(quote)
        parts, cur = [], body_a
        for va, vb, site, item in sorted(hits, key=lambda h: h[0]):
            if va > cur:
                parts.append(prefix + quote + text[cur:va] + quote)
            parts.append(_python_call(item))
            used.add("parameter" if item.json_key is None else "lookup")
            cur = vb
        if body_b > cur:
            parts.append(prefix + quote + text[cur:body_b] + quote)
        expr = parts[0] if len(parts) == 1 else "(" + " + ".join(parts) + ")"
        repl.append((a, b, expr))
    if not repl:
        return
    new = splice(text, repl)
    # The import goes after the module docstring and __future__ imports; nothing else moves.
    names = ", ".join(f"{n} as leakstop_{n}" for n in sorted(used))
    directory = str(PurePosixPath(path).parent)
    in_package = ws.read(os.path.join(directory, "__init__.py")) is not None
    if in_package:
        imp = (f"try:{nl}    from .leakstop_secrets import {names}{nl}"
               f"except ImportError:  # run as a script{nl}    from leakstop_secrets import {names}{nl}")
    else:
        imp = f"from leakstop_secrets import {names}{nl}"
    after = 0
    for node in tree.body:
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                and node is tree.body[0]) or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            after = node.end_lineno or after
        else:
            break
    if after == 0:  # keep a shebang / encoding cookie first
        lines = text.split("\n")
        while after < min(2, len(lines)) and lines[after].startswith("#") and (
            lines[after].startswith("#!") or "coding" in lines[after]
        ):
            after += 1
    if f"import {names}" not in new:
        # the splice never changes line count before the first replaced literal's line... but it can
        # change later lines' offsets; insert by line number on the new text (replacements are
        # within lines >= the docstring end, so line numbers up to `after` are unchanged).
        new_starts = line_starts(new)
        pos = new_starts[after] if after < len(new_starts) else len(new)
        if pos == len(new) and new and not new.endswith("\n"):
            imp = nl + imp
        new = new[:pos] + imp + new[pos:]
    try:
        compile(new, path, "exec")
    except SyntaxError:
        ctx.manual += [Manual(h[2], "the rewritten file would not compile: replace by hand")
                       for hits in by_token.values() for h in hits]
        return
    ws.write(path, new.encode("utf-8"), "python", "literal -> leakstop_secrets lookup (boto3, cached)")
    helper = os.path.join(directory, H.PY_HELPER_NAME) if directory != "." else H.PY_HELPER_NAME
    if ws.read(helper) is None:
        caching = _uses_caching_lib(ws)
        ws.write(helper, H.python_helper(ctx.region, ctx.settings.cache_ttl, caching).encode(), "helper",
                 "run-time helper (aws-secretsmanager-caching)" if caching else "run-time helper (boto3, in-process cache)")


def claims(path: str, data: Optional[bytes]) -> bool:
    return os.path.splitext(path)[1].lower() in (".py", ".pyw")


REWRITER = Rewriter(claims, rewrite_python)
