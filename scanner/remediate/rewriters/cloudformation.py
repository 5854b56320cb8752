"""CloudFormation / SAM templates: a literal becomes the store's dynamic reference
(``{{resolve:...}}``), resolved by CloudFormation at deploy time; a Lambda function's environment
value goes through the AWS Parameters and Secrets Lambda Extension instead
(:mod:`scanner.remediate.rewriters.lambda_env`), an ECS container's environment value becomes one
of its ``Secrets`` (:mod:`scanner.remediate.rewriters.cfn_ecs`)."""

from __future__ import annotations

import os
import re
from typing import Optional

import yaml

from scanner.remediate.records import Manual, Workspace
from scanner.remediate.rewriters import cfn_ecs, lambda_env
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, splice, text_or_manual, value_edits

_CFN = re.compile(r"AWSTemplateFormatVersion|Transform:\s*['\"]?AWS::Serverless|\"Transform\"\s*:\s*\"AWS::Serverless|"
                  r"^\s*Type:\s*['\"]?AWS::|\"Type\"\s*:\s*\"AWS::", re.M)


def rewrite_cloudformation(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    dec = text_or_manual(ws, path, pairs, ctx)
    if dec is None:
        return
    text, nl = dec
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        root = None
    edits: list[tuple[int, int, str]] = []
    rest = pairs
    if root is not None:
        edits, rest = lambda_env.lambda_edits(ws, ctx, path, text, root, rest, nl)
        more, rest = cfn_ecs.task_edits(ctx, path, text, root, rest, nl)
        edits += more
    refs = {it.value_hash: ref for _, it in rest
            if (ref := ctx.store.reference("cloudformation", it.secret_name, it.json_key)) is not None}
    ok = [(s, it) for s, it in rest if it.value_hash in refs]
    ctx.manual += [Manual(s, f"{ctx.store.title} has no CloudFormation dynamic reference: replace by hand")
                   for s, it in rest if it.value_hash not in refs]
    edits += value_edits(text, path, ok, ctx, lambda it: refs[it.value_hash])
    if edits:
        ws.write(path, splice(text, edits).encode("utf-8"), "cloudformation",
                 "literal -> {{resolve:...}} dynamic reference; Lambda environment -> Parameters and Secrets "
                 "extension; ECS container environment -> Secrets")


def claims(path: str, data: Optional[bytes]) -> bool:
    if not data:
        return False
    ext = os.path.splitext(path.lower())[1]
    return ext in (".yaml", ".yml", ".json", ".template") and bool(
        _CFN.search(data.decode("utf-8", "replace")))


REWRITER = Rewriter(claims, rewrite_cloudformation)
