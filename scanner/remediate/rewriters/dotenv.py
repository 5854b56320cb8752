"""``.env`` files: the value is removed, a comment names the secret; ``.env.example`` and ``.gitignore`` follow."""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath
from typing import Optional

from scanner.remediate.records import Item, Manual, Workspace
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, ensure_ignored, lines_or_manual, locate


# The value starts at its first non-blank (linear time: scanner/redos.py checks it).
_ENV_LINE = re.compile(r"^([ \t]*)(export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)([ \t]*=[ \t]*)(\S.*|)$")


def rebuild_note(ctx: Context, key: str, item: Item) -> str:
    """For a password inside a connection URI (stored with its RDS-style fields): the command that
    rebuilds the whole URI from the secret, so host, port and database are never lost."""
    c = item.connection
    cmd = ctx.store.reference("shell", item.secret_name, None, None) if ctx.store.grouped else None
    if not c or not cmd or "'" in c.get("query", "") + c.get("scheme", ""):
        return ""
    port = ":\\(.port)" if c.get("port") else ""
    query = "?" + c["query"] if c.get("query") else ""
    uri = f'"{c["scheme"]}://\\(.username | @uri):\\(.["{item.json_key}"] | @uri)@\\(.host){port}/\\(.dbname){query}"'
    return (f" (with its host, port, user and database); rebuild the URI: "
            f"{key}=\"$({cmd} | jq -r '{uri}')\"")


def rewrite_env(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    f = lines_or_manual(ws, path, pairs, ctx)
    if f is None:
        return
    text, nl, starts, lines = f
    label = ctx.store.label
    keys = []
    for site, item in sorted(pairs, key=lambda p: -p[0].line):
        raw = lines[site.line - 1]
        cr = "\r" if raw.endswith("\r") else ""
        m = _ENV_LINE.match(raw[:-1] if cr else raw)
        if not m or locate(text, starts, site, item) is None:
            ctx.manual.append(Manual(site, "not a KEY=value line"))
            continue
        indent, export, key = m.group(1), m.group(2) or "", m.group(3)
        # A multi-line quoted value (a key block) goes whole: the line it starts on to the line it ends on.
        last = site.line + item.value.decode("utf-8", "replace").count("\n")
        lines[site.line - 1 : last] = [
            f"{indent}# leakstop: {key} moved to {label} {item.ref}{rebuild_note(ctx, key, item)}{cr}",
            f"{indent}{export}{key}={cr}",
        ]
        keys.append(key)
    if not keys:
        return
    ws.write(path, "\n".join(lines).encode("utf-8"), "env", "value removed; comment names the secret")
    directory = str(PurePosixPath(path).parent)
    join = (lambda n: os.path.join(directory, n)) if directory != "." else (lambda n: n)
    example = join(".env.example")
    ex = (ws.read(example) or b"").decode("utf-8", "replace")
    add = [k for k in sorted(set(keys)) if not re.search(r"^\s*(export\s+)?" + re.escape(k) + r"\s*=", ex, re.M)]
    if add:
        if ex and not ex.endswith("\n"):
            ex += "\n"
        ex += "".join(f"{k}=\n" for k in add)
        ws.write(example, ex.encode("utf-8"), "env-example", "keys listed without values")
    if ensure_ignored(ws, path):
        ctx.notes.append(f"{path}: if it is tracked, also run `git rm --cached {path}`")


_ENV_EXAMPLES = (".env.example", ".env.sample", ".env.template", ".env.dist")


def claims(path: str, data: Optional[bytes]) -> bool:
    lower = PurePosixPath(path).name.lower()
    return (lower == ".env" or lower.startswith(".env.") or lower.endswith(".env")) and lower not in _ENV_EXAMPLES


REWRITER = Rewriter(claims, rewrite_env, rebuilds_uris=True)
