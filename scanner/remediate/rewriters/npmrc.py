"""``.npmrc`` (npm, pnpm, and Yarn 1): a token or password becomes ``${VAR}``, which npm expands
from the environment when it reads the file. VAR is ``NPM_TOKEN`` for the public registry (or the
only registry), ``NPM_TOKEN_<HOST>`` for others; ``_password`` / ``_auth`` give ``NPM_PASSWORD`` /
``NPM_AUTH``. The plan notes the command that sets VAR from the store."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Optional

from scanner.remediate.records import Item, Manual, Workspace
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, lines_or_manual, locate, splice

_LINE = re.compile(r"^[ \t]*(?://([^/:\s]+)(?:[:/][^\s=]*)?:)?(_authToken|_password|_auth|[A-Za-z_][\w.-]*)[ \t]*=")
_VAR = {"_authToken": "NPM_TOKEN", "_password": "NPM_PASSWORD", "_auth": "NPM_AUTH"}


def var_for(host: Optional[str], key: str, hosts: set[str], item: Item) -> str:
    base = _VAR.get(key)
    if base is None:
        return re.sub(r"[^A-Za-z0-9_]", "_", item.env_name) or "NPM_SECRET"
    if host and host != "registry.npmjs.org" and len(hosts) > 1:
        return base + "_" + re.sub(r"[^A-Za-z0-9]+", "_", host).strip("_").upper()
    return base


def rewrite_npmrc(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    f = lines_or_manual(ws, path, pairs, ctx)
    if f is None:
        return
    text, nl, starts, lines = f
    hosts = {m.group(1) for m in map(_LINE.match, lines) if m and m.group(1)}
    repl: list[tuple[int, int, str]] = []
    used: dict[str, Item] = {}  # variable -> the value it carries
    for site, item in pairs:
        loc = locate(text, starts, site, item)
        m = _LINE.match(lines[site.line - 1]) if site.line <= len(lines) else None
        if loc is None or m is None or loc[0] < starts[site.line - 1] + m.end() or "\n" in text[loc[0]:loc[1]]:
            ctx.manual.append(Manual(site, "not a key=value line of .npmrc: replace by hand"))
            continue
        var = var_for(m.group(1), m.group(2), hosts, item)
        while var in used and used[var].value_hash != item.value_hash:
            var += "_2"
        used[var] = item
        repl.append((loc[0], loc[1], "${%s}" % var))
    if not repl:
        return
    ws.write(path, splice(text, repl).encode("utf-8"), "npmrc", "value -> ${VAR} (npm expands it from the environment)")
    for var, item in sorted(used.items()):
        cmd = ctx.store.reference("shell", item.secret_name, item.json_key, None)
        ctx.notes.append(f"{path}: npm needs {var} in its environment: export {var}=\"$({cmd})\" "
                         f"(in CI: a masked secret variable)")
    ctx.grant(path, "whoever runs npm with this .npmrc (developer, CI)", list(used.values()))


def claims(path: str, data: Optional[bytes]) -> bool:
    return PurePosixPath(path).name.lower() == ".npmrc"


REWRITER = Rewriter(claims, rewrite_npmrc)
