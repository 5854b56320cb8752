"""ECS task definitions (``containerDefinitions`` JSON, as registered with ``aws ecs
register-task-definition --cli-input-json``): an ``environment`` entry holding a value becomes a
``secrets`` entry whose ``valueFrom`` is the secret's ARN and JSON key
(``arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf:KEY::``), which ECS resolves when the
task starts, with the task execution role.

The full ARN (with the random suffix Secrets Manager adds) exists only once the secret does: the
plan holds a marker (:func:`scanner.remediate.records.arn_marker`) that apply replaces with the
ARN read back from the store. Only the edited spans change; the rest of the file keeps its bytes.
"""

from __future__ import annotations

import json
import os
import re
from typing import Optional

import yaml

from scanner.remediate.records import Item, Manual, Workspace, arn_marker
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, locate, splice
from scanner.remediate.rewriters.yamlpos import get, parsed_or_manual, path_to, text_of

_TASKDEF = re.compile(r'"containerDefinitions"\s*:\s*\[')


def value_from(ctx: Context, item: Item) -> Optional[str]:
    return ctx.store.reference("ecs", item.secret_name, item.json_key, arn_marker(item.secret_name))


def _indent_of(text: str, pos: int) -> str:
    line = text[text.rfind("\n", 0, pos) + 1 :]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _drop_elements(seq: yaml.SequenceNode, gone: set[int]) -> list[tuple[int, int, str]]:
    """The edits removing elements ``gone`` of a JSON array, each run of them with one comma."""
    items, out, i = seq.value, [], 0
    if len(gone) == len(items):
        return [(seq.start_mark.index + 1, seq.end_mark.index - 1, "")]
    while i < len(items):
        if i not in gone:
            i += 1
            continue
        j = i
        while j + 1 in gone:
            j += 1
        if j + 1 < len(items):
            out.append((items[i].start_mark.index, items[j + 1].start_mark.index, ""))
        else:
            out.append((items[i - 1].end_mark.index, items[j].end_mark.index, ""))
        i = j + 1
    return out


def _add_secrets(text: str, container: yaml.MappingNode, env_key: yaml.Node, env: yaml.Node,
                 entries: list[dict], nl: str) -> tuple[int, int, str]:
    """The edit adding ``entries`` to the container's ``secrets`` (created after ``environment``)."""
    rendered = [json.dumps(e) for e in entries]
    secrets = get(container, "secrets")
    if isinstance(secrets, yaml.SequenceNode):
        if secrets.value:
            end = secrets.value[-1].end_mark.index
            return end, end, "".join(", " + r for r in rendered)
        at = secrets.start_mark.index + 1
        return at, secrets.end_mark.index - 1, ", ".join(rendered)
    indent = _indent_of(text, env_key.start_mark.index)
    multiline = "\n" in text[env.start_mark.index : env.end_mark.index]
    if multiline:
        inner = indent + ("  " if "\t" not in indent else "\t")
        body = "[" + nl + ("," + nl).join(inner + r for r in rendered) + nl + indent + "]"
    else:
        body = "[" + ", ".join(rendered) + "]"
    sep = ("," + nl + indent) if "\n" in text[container.start_mark.index : container.end_mark.index] else ", "
    return env.end_mark.index, env.end_mark.index, sep + '"secrets": ' + body


def rewrite_ecs(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    parsed = parsed_or_manual(ws, path, pairs, ctx, "task definition")
    if parsed is None:
        return
    text, nl, starts, root = parsed
    per_container: dict[int, list] = {}
    for site, item in pairs:
        loc = locate(text, starts, site, item)
        steps = path_to(root, *loc) if loc and root is not None else []
        keys = [s[1] for s in steps]
        ok = (len(keys) == 5 and keys[0] == "containerDefinitions" and keys[2] == "environment" and keys[4] == "value"
              and steps[4][2].value == item.value.decode("utf-8", "replace") and text_of(steps[3][2], "name")
              and value_from(ctx, item))
        if not ok:
            ctx.manual.append(Manual(site, "not a whole containerDefinitions[].environment[].value: replace by hand"))
            continue
        per_container.setdefault(id(steps[1][2]), []).append((site, item, steps))
    repl, moved = [], []
    for hits in per_container.values():
        container, env = hits[0][2][1][2], hits[0][2][2][2]
        env_key = next(k for k, v in container.value if v is env)
        gone = {h[2][3][1] for h in hits}
        entries, seen = [], set()
        for site, item, steps in sorted(hits, key=lambda h: h[2][3][1]):
            name = text_of(steps[3][2], "name")
            if name not in seen:
                seen.add(name)
                entries.append({"name": name, "valueFrom": value_from(ctx, item)})
            moved.append(item)
        repl += _drop_elements(env, gone)
        repl.append(_add_secrets(text, container, env_key, env, entries, nl))
    if not repl:
        return
    ws.write(path, splice(text, repl).encode("utf-8"), "ecs",
             "environment value -> secrets[].valueFrom (secret ARN:key, filled in at apply)")
    role = text_of(root, "executionRoleArn")
    ctx.grant(path, role or "the task execution role", moved, attached=False)
    if not role:
        ctx.notes.append(f"{path}: no executionRoleArn: ECS reads secrets[] with the task execution role; add one "
                         f"with iam-policy.json's statements")


def claims(path: str, data: Optional[bytes]) -> bool:
    if not data:
        return False
    return os.path.splitext(path.lower())[1] == ".json" and bool(_TASKDEF.search(data.decode("utf-8", "replace")))


REWRITER = Rewriter(claims, rewrite_ecs)
