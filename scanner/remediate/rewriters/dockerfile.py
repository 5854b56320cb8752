"""Dockerfile: ``ENV`` values leave the image (ECS task-definition secrets at run time), ``ARG`` values become BuildKit secrets."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Optional

from scanner.remediate.records import Item, Manual, Workspace
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, text_or_manual


# Each repeat ends where the next cannot start (linear time: scanner/redos.py checks it).
# Matched against the line without trailing blanks.
_DOCKER_INSTR = re.compile(r"^([ \t]*)(ENV|ARG)([ \t]+)(\S.*)$", re.I)
_PAIR = re.compile(r"""([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)""")


def rewrite_dockerfile(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    dec = text_or_manual(ws, path, pairs, ctx)
    if dec is None:
        return
    text, nl = dec
    lines = text.split("\n")
    label = ctx.store.label
    build_secrets: dict[str, Item] = {}
    changed = False
    for site, item in sorted(pairs, key=lambda p: (p[0].line, -p[0].column)):
        raw = lines[site.line - 1]
        cr = "\r" if raw.endswith("\r") else ""
        line = raw[:-1] if cr else raw
        m = _DOCKER_INSTR.match(line.rstrip())
        col = site.column - 1
        if not m or line[col : col + len(item.value.decode("utf-8", "replace"))] != item.value.decode("utf-8", "replace"):
            ctx.manual.append(Manual(site, "not a one-line ENV/ARG instruction"))
            continue
        indent, instr, args = m.group(1), m.group(2).upper(), m.group(4)
        args_at = m.start(4)
        kept, name = [], None
        pairs_found = list(_PAIR.finditer(args))
        if pairs_found and "=" in args.split()[0]:
            for p in pairs_found:
                if p.start(2) + args_at <= col < p.end(2) + args_at or (p.start(2) == p.end(2) and False):
                    name = p.group(1)
                else:
                    kept.append(p.group(0))
        else:  # legacy `ENV KEY value`
            name = args.split()[0] if args.split() else None
        if name is None:
            ctx.manual.append(Manual(site, "cannot find the variable name in the instruction"))
            continue
        if instr == "ENV":
            comment = (f"{indent}# leakstop: {name} is no longer baked into the image: inject it at run time from "
                       f"{label} {item.ref} (ECS: {ctx.settings.output_dir}/ecs-task-definition-secrets.json)")
            ctx.ecs.append({"name": name, "secret_name": item.secret_name, "json_key": item.json_key, "dockerfile": path})
        else:
            comment = (f"{indent}# leakstop: build-time secret {name} comes from {label} {item.ref} as a BuildKit "
                       f"secret: docker build --secret id={name},env={name} (RUN --mount=type=secret,id={name},env={name})")
            build_secrets[name] = item
        new = [comment + cr]
        if kept:
            new.append(f"{indent}{instr} {' '.join(kept)}{cr}")
        lines[site.line - 1 : site.line] = new
        changed = True
    if build_secrets:
        for i, raw in enumerate(lines):
            m = re.match(r"^(\s*RUN\s+)(.*)$", raw, re.I)
            if not m:
                continue
            mounts = [f"--mount=type=secret,id={n},env={n}" for n in build_secrets
                      if re.search(r"\$\{?" + n + r"\b", m.group(2)) and f"id={n}" not in m.group(2)]
            if mounts:
                lines[i] = m.group(1) + " ".join(mounts) + " " + m.group(2)
        if not re.match(r"#\s*syntax=", lines[0]):
            ctx.notes.append(f"{path}: RUN --mount=type=secret,...,env= needs BuildKit with Dockerfile syntax >= 1.10")
    if changed:
        ws.write(path, "\n".join(lines).encode("utf-8"), "dockerfile",
                 "ENV -> ECS task-definition secrets (run time); ARG -> BuildKit RUN --mount=type=secret (build time)")


def claims(path: str, data: Optional[bytes]) -> bool:
    lower = PurePosixPath(path).name.lower()
    return lower in ("dockerfile", "containerfile") or lower.startswith("dockerfile.") or lower.endswith(".dockerfile")


REWRITER = Rewriter(claims, rewrite_dockerfile)
