"""ECS task definitions in Terraform (``resource "aws_ecs_task_definition"``): a container's
``environment`` entry holding a value (``{ name = "X", value = "…" }`` on one line, or the same
object over four lines, as ``terraform fmt`` writes them inside ``jsonencode([...])``) would put the value into the task
definition (and the state) in plain text, so it moves to the container's ``secrets`` list,
``{ name = "X", valueFrom = "${data.aws_secretsmanager_secret.L.arn}:KEY::" }``, which ECS reads
with the task execution role when the task starts. The role the resource names
(``execution_role_arn = aws_iam_role.R.arn``) gets an ``aws_iam_role_policy`` with the read
statement, written to leakstop_secrets.tf with the ARN data sources; another role is listed for
iam-policy.json. Entries in other shapes take the data-source value, with a note."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Optional

from scanner.remediate.records import Item, Site
from scanner.remediate.rewriters.base import Context

_ENTRY = re.compile(r'^([ \t]*)\{[ \t]*name[ \t]*=[ \t]*"([^"\\]+)"[ \t]*,[ \t]*value[ \t]*=[ \t]*"([^"\\]*)"[ \t]*\}[ \t]*(?:,[ \t]*)?$')
# the lines of a multi-line entry: {, name = "X", value = "…", } (name and value in either order)
_PART = re.compile(r'^[ \t]*(?:(\{)|(\})|(name|value)[ \t]*=[ \t]*"([^"\\]*)")[ \t]*(?:,[ \t]*)?$')
_OPEN = re.compile(r"^([ \t]*)(environment|secrets)\s*=\s*\[\s*$")
_CLOSE = re.compile(r"^[ \t]*\][ \t]*(?:,[ \t]*)?\r?$")
_ROLE = re.compile(r"^\s*execution_role_arn\s*=\s*aws_iam_role\.([A-Za-z_][\w-]*)\.arn\s*$")


@dataclass
class Hit:
    site: Site
    item: Item
    name: str  # the environment variable
    first: int  # 0-based lines of the entry (one, or an object's { to })
    last: int
    opens: int  # the `environment = [` line
    closes: int  # its `]` line


def _part(line: str) -> Optional[tuple[str, str]]:
    m = _PART.match(line.rstrip("\r"))
    return None if m is None else ("{", "") if m.group(1) else ("}", "") if m.group(2) else (m.group(3), m.group(4))


def _entry_lines(lines: list[str], n: int, value: str) -> Optional[tuple[int, int, str]]:
    """(first line, last line, variable name) of the entry whose value at line ``n`` is ``value``."""
    m = _ENTRY.match(lines[n].rstrip("\r"))
    if m:
        return (n, n, m.group(2)) if m.group(3) == value else None
    for first in (n - 2, n - 1):  # { name value } or { value name }
        parts = [p for line in lines[first : first + 4] if (p := _part(line)) is not None] if first >= 0 else []
        if len(parts) == 4 and parts[0][0] == "{" and parts[3][0] == "}":
            fields = dict(parts[1:3])
            if fields.get("value") == value and fields.get("name") and n - first in (1, 2):
                return first, first + 3, fields["name"]
    return None


def _is_entry_line(line: str) -> bool:
    return bool(_ENTRY.match(line.rstrip("\r"))) or _part(line) is not None


def entry(lines: list[str], site: Site, item: Item) -> Optional[Hit]:
    """The environment entry (one line, or a ``{ name, value }`` object over four) holding exactly
    the value at the site, with its list."""
    got = _entry_lines(lines, site.line - 1, item.value.decode("utf-8", "replace"))
    if got is None:
        return None
    first, last, name = got
    up = first - 1
    while up >= 0 and _is_entry_line(lines[up]):
        up -= 1
    down = last + 1
    while down < len(lines) and _is_entry_line(lines[down]):
        down += 1
    opened = _OPEN.match(lines[up]) if up >= 0 else None
    if not opened or opened.group(2) != "environment" or down >= len(lines) or not _CLOSE.match(lines[down]):
        return None
    return Hit(site, item, name, first, last, up, down)


def _secrets_line(lines: list[str], closes: int, indent: str) -> Optional[int]:
    """An existing ``secrets = [`` of the same container object, after its environment list."""
    for i in range(closes + 1, len(lines)):
        line = lines[i]
        if line.strip() and len(line) - len(line.lstrip()) < len(indent):
            return None  # the object ended
        m = _OPEN.match(line)
        if m and m.group(1) == indent and m.group(2) == "secrets":
            return i
    return None


def value_from(ctx: Context, item: Item) -> Optional[str]:
    arn = ctx.store.reference("terraform-arn", item.secret_name, None)
    return ctx.store.reference("ecs", item.secret_name, item.json_key, "${" + arn + "}") if arn else None


def edits(ctx: Context, lines: list[str], starts: list[int], text_len: int, hits: list[Hit],
          nl: str) -> list[tuple[int, int, str]]:
    """The edits: entry lines removed, ``secrets`` entries added after each environment list."""
    out: list[tuple[int, int, str]] = []
    by_list: dict[int, list[Hit]] = {}
    for h in hits:
        by_list.setdefault(h.opens, []).append(h)
    for opens, group in by_list.items():
        opened = _OPEN.match(lines[opens])
        assert opened is not None, "entry() found the list at this line"
        indent = opened.group(1)
        entry_line = lines[group[0].first]
        inner = entry_line[: len(entry_line) - len(entry_line.lstrip(" \t"))]
        seen, rendered = set(), []
        for h in sorted(group, key=lambda h: h.first):
            end = starts[h.last + 1] if h.last + 1 < len(starts) else text_len
            out.append((starts[h.first], end, ""))
            if h.name not in seen:
                seen.add(h.name)
                rendered.append(f"{inner}{{ name = {json.dumps(h.name)}, valueFrom = {json.dumps(value_from(ctx, h.item))} }},{nl}")
        existing = _secrets_line(lines, group[0].closes, indent)
        at_line = existing + 1 if existing is not None else group[0].closes + 1
        at = starts[at_line] if at_line < len(starts) else text_len
        block = "".join(rendered) if existing is not None else f"{indent}secrets = [{nl}{''.join(rendered)}{indent}]{nl}"
        out.append((at, at, block))
    return out


def role(lines: list[str], where: list[list[str]], header: str) -> Optional[str]:
    """The ``aws_iam_role`` the task definition's execution_role_arn names, else None."""
    for i, line in enumerate(lines):
        m = _ROLE.match(line.rstrip("\r"))
        if m and where[i] and where[i][0] == header:
            return m.group(1)
    return None


def _arn(ctx: Context, name: str) -> str:
    arn = ctx.store.reference("terraform-arn", name, None)
    assert arn is not None, "only values value_from wired reach here: the store has ARN expressions"
    return arn


def role_policy(ctx: Context, task: str, role_label: str, items: list[Item]) -> str:
    """An aws_iam_role_policy letting the execution role read the secrets (jsonencode of the
    store's statements, the ARNs from the data sources)."""
    arns = ["${" + _arn(ctx, n) + "}" for n in sorted({i.secret_name for i in items})]
    doc = {"Version": "2012-10-17", "Statement": ctx.store.read_statements(arns, ctx.region, None)}
    label = re.sub(r"[^A-Za-z0-9_]", "_", f"leakstop_read_{task}")
    return (f'resource "aws_iam_role_policy" "{label}" {{\n'
            f'  name   = {json.dumps(label.replace("_", "-"))}\n'
            f"  role   = aws_iam_role.{role_label}.id\n"
            f"  policy = jsonencode({json.dumps(doc, indent=2).replace(chr(10), chr(10) + '  ')})\n"
            f"}}\n")
