"""ECS task definitions declared in CloudFormation (``AWS::ECS::TaskDefinition``): a container's
``Environment`` entry holding a value would be resolved into the task definition in plain text,
so it moves to the container's ``Secrets`` (``Name`` and ``ValueFrom``: the secret's ARN and JSON
key, ``arn:…:secret:NAME-AbCdEf:KEY::``, filled in at apply), which ECS reads with the task
execution role when the task starts. That role, when the template declares it
(``ExecutionRoleArn: !GetAtt ROLE.Arn``), gets the read statement; otherwise the plan names it.
A task definition that cannot be edited this way (flow style) keeps dynamic references."""

from __future__ import annotations

from typing import Optional

import yaml

from scanner.remediate.records import arn_marker
from scanner.remediate.rewriters.base import Context, line_starts, locate
from scanner.remediate.rewriters.cfn_roles import role_policy
from scanner.remediate.rewriters.yamlpos import add_under, drop_items, get, in_scalar, path_to, text_of

TASK_TYPE = "AWS::ECS::TaskDefinition"


def _env_site(root: yaml.Node, text: str, loc: tuple[int, int]) -> Optional[tuple]:
    """(task id, container node, its Environment key and sequence, entry index, variable name)
    when [a, b) is the whole Value of a container's Environment entry."""
    steps = path_to(root, *loc)
    keys = [s[1] for s in steps]
    if (len(keys) != 8 or keys[0] != "Resources" or keys[2:4] != ["Properties", "ContainerDefinitions"]
            or keys[5] != "Environment" or keys[7] != "Value" or text_of(steps[1][2], "Type") != TASK_TYPE):
        return None
    node = steps[7][2]
    name = text_of(steps[6][2], "Name")
    if not name or in_scalar(text, node, 0, *loc) != (0, len(node.value)):
        return None
    container, env = steps[4][2], steps[5][2]
    key = next(k for k, v in container.value if v is env)
    return keys[1], container, key, env, keys[6], name


def _container_edits(ctx: Context, text: str, container, key, env, hits: list, nl: str) -> Optional[list]:
    """Drop the container's moved Environment entries and add them to its Secrets."""
    dropped = drop_items(text, env, {h[1] for h in hits}, key)
    seen, secrets = set(), []
    for item, _, name in sorted(hits, key=lambda h: h[1]):
        ref = ctx.store.reference("ecs", item.secret_name, item.json_key, arn_marker(item.secret_name))
        if ref is None:
            return None
        if name not in seen:
            seen.add(name)
            secrets.append({"Name": name, "ValueFrom": ref})
    added = add_under(text, container, ["Secrets"], secrets, nl)
    return None if dropped is None or added is None else dropped + [added]


def task_edits(ctx: Context, path: str, text: str, root: yaml.Node, pairs: list, nl: str) -> tuple[list, list]:
    """(edits moving task definitions' environment values to Secrets, the pairs left)."""
    per_task: dict[str, dict] = {}
    rest, starts = [], line_starts(text)
    for site, item in pairs:
        loc = locate(text, starts, site, item)
        hit = _env_site(root, text, loc) if loc else None
        if hit is None:
            rest.append((site, item))
            continue
        task, container, key, env, index, name = hit
        c = per_task.setdefault(task, {}).setdefault(id(container), (container, key, env, []))
        c[3].append((item, index, name, site))
    edits = []
    res = get(root, "Resources")
    for task, containers in per_task.items():
        mine = [_container_edits(ctx, text, c, k, e, [h[:3] for h in hits], nl) for c, k, e, hits in containers.values()]
        items = [h[0] for *_, hits in containers.values() for h in hits]
        done = [m for m in mine if m is not None]
        if len(done) < len(mine):
            rest += [(h[3], h[0]) for *_, hits in containers.values() for h in hits]
            ctx.notes.append(f"{path}: task definition {task}: its containers are not block YAML: its values became "
                             f"dynamic references, resolved into the task definition in plain text")
            continue
        edits += [e for m in done for e in m]
        role_ref = get(get(get(res, task), "Properties"), "ExecutionRoleArn")
        names = sorted({it.secret_name for it in items})
        grant = role_policy(ctx, text, root, role_ref, f"leakstop-read-{task}", names, nl)
        edits += [grant] if grant else []
        ctx.grant(path, f"task definition {task}'s execution role", items, attached=grant is not None)
        if grant is None:
            ctx.notes.append(f"{path}: task definition {task}: ECS reads Secrets with the task execution role "
                             f"({'not declared in this template' if role_ref is not None else 'none: add ExecutionRoleArn'}): "
                             f"give it the statements in iam-policy.json")
    return edits, rest
