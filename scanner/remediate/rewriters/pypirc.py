"""``.pypirc``: the file has no interpolation, so a ``password`` line is removed (with a comment)
and twine reads ``TWINE_PASSWORD`` (and ``TWINE_USERNAME``) from the environment instead. The
plan notes the command that sets it from the store."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Optional

from scanner.remediate.records import Manual, Workspace
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, lines_or_manual, locate

_PASSWORD = re.compile(r"^([ \t]*)password[ \t]*[=:]")


def rewrite_pypirc(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    f = lines_or_manual(ws, path, pairs, ctx)
    if f is None:
        return
    text, nl, starts, lines = f
    moved = []
    for site, item in sorted(pairs, key=lambda p: -p[0].line):
        raw = lines[site.line - 1]
        m = _PASSWORD.match(raw)
        if m is None or locate(text, starts, site, item) is None or item.value.count(b"\n"):
            ctx.manual.append(Manual(site, "not a password line of .pypirc: replace by hand"))
            continue
        cr = "\r" if raw.endswith("\r") else ""
        lines[site.line - 1] = (f"{m.group(1)}# leakstop: password removed ({ctx.store.label} {item.ref}): "
                                f"twine reads TWINE_PASSWORD from the environment{cr}")
        moved.append(item)
        cmd = ctx.store.reference("shell", item.secret_name, item.json_key, None)
        ctx.notes.append(f"{path}: before twine upload: export TWINE_PASSWORD=\"$({cmd})\" "
                         f"(and TWINE_USERNAME=__token__ for an API token; in CI: a masked secret variable)")
    if moved:
        ws.write(path, "\n".join(lines).encode("utf-8"), "pypirc", "password removed: TWINE_PASSWORD from the environment")
        ctx.grant(path, "whoever runs twine (developer, CI)", moved)


def claims(path: str, data: Optional[bytes]) -> bool:
    return PurePosixPath(path).name.lower() == ".pypirc"


REWRITER = Rewriter(claims, rewrite_pypirc)
