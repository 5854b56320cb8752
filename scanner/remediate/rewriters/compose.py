"""docker-compose files: a value becomes compose interpolation, ``${VAR:?}`` (compose refuses to
start when VAR is unset or empty, so the container never gets an empty or literal value), fed by
an env file that a generated script writes at deploy time from the store and that git ignores::

    bash leakstop-remediation/compose-secrets-docker-compose.sh secrets.env
    docker compose --env-file secrets.env up -d

``environment`` entries (mapping or ``KEY=value`` list) keep their variable name; a value inside
a longer string (``command: redis-server --requirepass <pw>``, a URL) becomes ``${NAME:?}`` in
place, NAME the value's variable name. Only the edited spans change.
"""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath
from typing import Optional

from scanner.remediate.records import Item, Manual, Workspace
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, ensure_ignored, locate, splice
from scanner.remediate.rewriters.yamlpos import in_scalar, parsed_or_manual, path_to

_NAME = re.compile(r"^(?:docker-)?compose(?:[.-][\w.-]+)?\.ya?ml$")
_SERVICES = re.compile(r"^services:[ \t]*(?:#.*)?$", re.M)
_ENV_ITEM = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*)=")
ENV_FILE = "secrets.env"


def _var_name(steps: list, scalar: str, whole: bool, item: Item) -> str:
    """The variable a site is interpolated from: the environment entry's own name when the value
    is the whole entry, else the value's variable name."""
    keys = [s[1] for s in steps]
    if whole and len(keys) == 4 and keys[0] == "services" and keys[2] == "environment":
        if isinstance(keys[3], str):
            return keys[3]
        m = _ENV_ITEM.match(scalar)
        if m:
            return m.group(1)
    return re.sub(r"[^A-Za-z0-9_]", "_", item.env_name) or "SECRET"


def script(ctx: Context, path: str, env: dict[str, Item]) -> str:
    """A bash script writing ``VAR='value'`` lines for ``env`` to the file named by $1."""
    lines = [
        "#!/usr/bin/env bash",
        f"# leakstop remediate: writes the variables {path} interpolates (${{VAR:?}}) from {ctx.store.title}",
        "# to an env file git ignores. Run it at deploy time, then start compose with that file:",
        f"#   bash {script_path(ctx, path)} {ENV_FILE}",
        f"#   docker compose -f {path} --env-file {ENV_FILE} up -d",
        "set -euo pipefail",
        f'out="${{1:-{ENV_FILE}}}"',
        f'export AWS_REGION="${{AWS_REGION:-{ctx.region}}}"',
        "umask 077",
        'tmp="$out.tmp.$$"',
        ': > "$tmp"',
        "put() {  # NAME VALUE; a value with a quote or a line break cannot be written to an env file safely",
        "  case \"$2\" in *\"'\"*|*$'\\n'*) echo \"leakstop: $1 holds a quote or a line break: export it instead\" >&2;"
        " rm -f \"$tmp\"; exit 1;; esac",
        "  printf \"%s='%s'\\n\" \"$1\" \"$2\" >> \"$tmp\"",
        "}",
    ]
    for var, item in sorted(env.items()):
        cmd = ctx.store.reference("shell", item.secret_name, item.json_key, None)
        lines.append(f'v=$({cmd}); put {var} "$v"')
    lines.append('mv "$tmp" "$out"')
    return "\n".join(lines) + "\n"


def script_path(ctx: Context, path: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", os.path.splitext(path)[0]).strip("-")
    return os.path.join(ctx.settings.output_dir, f"compose-secrets-{slug}.sh")


def rewrite_compose(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    parsed = parsed_or_manual(ws, path, pairs, ctx, "compose file")
    if parsed is None:
        return
    text, nl, starts, root = parsed
    repl: list[tuple[int, int, str]] = []
    env: dict[str, Item] = {}
    moved: list[Item] = []
    for site, item in sorted(pairs, key=lambda p: (p[0].line, p[0].column)):
        loc = locate(text, starts, site, item)
        steps = path_to(root, *loc) if loc and root is not None else []
        span = in_scalar(text, steps[-1][2], 0, *loc) if loc and steps else None
        if loc is None or span is None or not ctx.store.reference("shell", item.secret_name, item.json_key, None):
            ctx.manual.append(Manual(site, "not a one-line value in the compose file: replace by hand"))
            continue
        node = steps[-1][2]
        body = node.value
        entry = _ENV_ITEM.match(body) if isinstance(steps[-1][1], int) else None  # a list entry: VAR=value
        after_eq = entry.end() if entry else 0
        whole = span == (after_eq, len(body))
        var = _var_name(steps, body, whole, item)
        while var in env and env[var].value_hash != item.value_hash:
            var += "_2"
        env[var] = item
        ref = "${%s:?}" % var
        if node.style is None and whole and not after_eq:
            repl.append((loc[0], loc[1], f'"{ref}"'))  # quoted: a plain scalar may sit in a flow collection
        elif node.style is None and getattr(steps[-1][0], "flow_style", False):
            ctx.manual.append(Manual(site, "a value inside a plain scalar in a flow collection: replace by hand"))
            continue
        else:
            repl.append((loc[0], loc[1], ref))
        moved.append(item)
    if not repl:
        return
    ws.write(path, splice(text, repl).encode("utf-8"), "compose", "literal -> ${VAR:?} (compose interpolation)")
    spath = script_path(ctx, path)
    ws.write(spath, script(ctx, path, env).encode(), "helper", "writes the compose env file from the store")
    directory = str(PurePosixPath(path).parent)
    ensure_ignored(ws, os.path.join(directory, ENV_FILE) if directory != "." else ENV_FILE)
    ctx.notes.append(f"{path}: before `docker compose up`: bash {spath} {ENV_FILE}, then "
                     f"docker compose --env-file {ENV_FILE} up (compose refuses to start while a variable is unset)")
    ctx.grant(path, "the identity that runs the compose secrets script at deploy time", moved)


def claims(path: str, data: Optional[bytes]) -> bool:
    name = PurePosixPath(path).name.lower()
    if _NAME.match(name):
        return True
    if os.path.splitext(name)[1] not in (".yaml", ".yml") or not data:
        return False
    head = data.decode("utf-8", "replace")
    return bool(_SERVICES.search(head)) and not re.search(r"^(apiVersion|AWSTemplateFormatVersion|provider):", head, re.M)


REWRITER = Rewriter(claims, rewrite_compose)
