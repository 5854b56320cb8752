"""CloudFormation / SAM templates: a literal becomes the store's dynamic reference
(``{{resolve:...}}``), resolved by CloudFormation at deploy time."""

from __future__ import annotations

import os
import re
from typing import Optional

from scanner.remediate.records import Item, Manual, Workspace
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, replace_values

_CFN = re.compile(r"AWSTemplateFormatVersion|Transform:\s*['\"]?AWS::Serverless|\"Transform\"\s*:\s*\"AWS::Serverless|"
                  r"^\s*Type:\s*['\"]?AWS::|\"Type\"\s*:\s*\"AWS::", re.M)


def rewrite_cloudformation(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    def ph(item: Item) -> str:
        return ctx.store.reference("cloudformation", item.secret_name, item.json_key)

    ok = [(s, it) for s, it in pairs if ph(it) is not None]
    ctx.manual += [Manual(s, f"{ctx.store.title} has no CloudFormation dynamic reference: replace by hand")
                   for s, it in pairs if ph(it) is None]
    replace_values(ws, path, ok, ctx, ph, "cloudformation", "literal -> {{resolve:...}} dynamic reference")


def claims(path: str, data: Optional[bytes]) -> bool:
    ext = os.path.splitext(path.lower())[1]
    return bool(data) and ext in (".yaml", ".yml", ".json", ".template") and bool(
        _CFN.search(data.decode("utf-8", "replace")))


REWRITER = Rewriter(claims, rewrite_cloudformation)
