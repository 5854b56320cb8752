"""A role declared in the same CloudFormation template: the consumer (a Lambda function, an ECS
task's execution role) names it with ``!GetAtt ROLE.Arn``; the read statement goes into that
role's ``Policies``. A role given by ARN is outside the template: the caller lists it."""

from __future__ import annotations

from typing import Optional

import yaml

from scanner.remediate.records import arn_marker
from scanner.remediate.rewriters.base import Context
from scanner.remediate.rewriters.yamlpos import add_under, get, text_of


def role_id(ref: Optional[yaml.Node]) -> Optional[str]:
    """The logical id a ``!GetAtt X.Arn`` / ``{"Fn::GetAtt": [X, "Arn"]}`` names, else None."""
    if isinstance(ref, yaml.ScalarNode) and ref.tag == "!GetAtt":
        return ref.value.split(".")[0]
    target = get(ref, "Fn::GetAtt")
    if isinstance(target, yaml.SequenceNode) and target.value:
        return getattr(target.value[0], "value", None)
    if isinstance(target, yaml.ScalarNode):
        return target.value.split(".")[0]
    return None


def role_policy(ctx: Context, text: str, root: yaml.Node, ref: Optional[yaml.Node], policy_name: str,
                names: list[str], nl: str) -> Optional[tuple[int, int, str]]:
    """The edit giving the template's role ``ref`` names an inline policy reading ``names`` (ARNs
    filled in at apply), or None when the role is not one of the template's (or not block YAML)."""
    role = role_id(ref)
    if not role or text_of(get(get(root, "Resources"), role), "Type") != "AWS::IAM::Role":
        return None
    stmts = ctx.store.read_statements([arn_marker(n) for n in names], ctx.region, None)
    policy = {"PolicyName": policy_name, "PolicyDocument": {"Version": "2012-10-17", "Statement": stmts}}
    return add_under(text, root, ["Resources", role, "Properties", "Policies"], [policy], nl)
