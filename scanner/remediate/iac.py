"""``--emit terraform|cloudformation DIR``: the plan's secrets as infrastructure code. What is
specific to the store (the secret's resource type, its resource policy, the read statements)
comes from the store (``iac_secret``, ``iac_policy``, ``iac_arn``, ``read_statements``); this module
writes the files, the KMS key and the runtime read policy around them.

Written: each secret (name, description, tags: the organisation's and the leakstop:* ones, each
key's keyed value hash included, never a value), a customer-managed KMS key with rotation on (or
the one given with --kms-key-id), the runtime read policy, and with read roles the resource
policy. Not written: any value. There is no ``aws_secretsmanager_secret_version`` or
``SecretString``: a value there would land in the Terraform state or the stack's template. The
secrets carry ``leakstop:managed-by=iac``; ``remediate --apply`` then only puts their values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.errors import LeakstopError
from scanner.fsutil import atomic_write
from scanner.remediate.rotation import tags_for
from scanner.remediate.stores.base import Expr

if TYPE_CHECKING:  # annotations only: the runner imports this module when --emit asks
    from scanner.remediate.plan import Plan
    from scanner.remediate.settings import Settings

MANAGED_TAG = "leakstop:managed-by"
KINDS = ("terraform", "cloudformation")


def secret_tags(plan: Plan, key_id: str) -> dict[str, dict]:
    """Every secret's tags as code declares them (no flagged version: nothing is stored yet)."""
    out = {}
    for name, items in plan.secrets().items():
        metas = [it.meta() | {"in_git_history": it.in_git_history, "first_commit": it.first_commit} for it in items]
        tags = {**plan.settings.resource_tags(), **tags_for(metas, "", key_id), MANAGED_TAG: "iac"}
        tags.pop("leakstop:flagged-version", None)
        out[name] = tags
    return out


def emit(plan: Plan, kind: str, out_dir: Path, key_id: str) -> list[Path]:
    if not getattr(plan.store, "emits_iac", False):
        raise LeakstopError(f"--emit needs a store that code can declare without its value; '{plan.settings.backend}' "
                            f"cannot (an SSM parameter is created with its value)")
    if not plan.items:
        return []
    tags = secret_tags(plan, key_id)
    if kind == "terraform":
        files = {"leakstop-secrets.tf": _terraform(plan, tags)}
    else:
        files = {"leakstop-secrets.template.json": _cloudformation(plan, tags)}
    written = []
    for name, text in files.items():
        p = out_dir / name
        if any(it.value and it.value in text.encode("utf-8") for it in plan.items):
            raise LeakstopError(f"{p}: internal error: infrastructure code would hold a value")
        atomic_write(p, text.encode("utf-8"), parents=True)
        written.append(p)
    return written


def _ident(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "secret"


def _logical(name: str) -> str:
    return "Secret" + "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", name) if w)


def _hcl(s: str) -> str:
    """An HCL string literal: JSON's escapes, and template sequences made literal."""
    return json.dumps(s).replace("${", "$${").replace("%{", "%%{")


def _hcl_map(d: dict, indent: str) -> str:
    body = "".join(f"{indent}  {_hcl(k)} = {_hcl(v)}\n" for k, v in sorted(d.items()))
    return "{\n" + body + indent + "}"


def _terraform(plan: Plan, tags: dict[str, dict]) -> str:
    s = plan.settings
    out = ["# Written by leakstop remediate --emit terraform. No value is declared here (no",
           "# aws_secretsmanager_secret_version): `leakstop remediate --apply` puts the values after",
           "# `terraform apply`, so they never reach the state.", ""]
    key_ref = _hcl(s.kms_key_id) if s.kms_key_id else "aws_kms_key.leakstop.arn"
    if not s.kms_key_id:
        out += _tf_key(s)
    refs = []
    for name in plan.secrets():
        refs.append(plan.store.iac_arn("terraform", _ident(name)))
        out += _tf_secret(plan, name, tags[name], key_ref)
    return "\n".join(out + _tf_read_policy(plan, refs, key_ref))


def _tf_key(s: Settings) -> list[str]:
    """A customer-managed key, rotated yearly by KMS, and its alias."""
    return ['resource "aws_kms_key" "leakstop" {',
            f"  description             = {_hcl(f'leakstop: secrets of {s.project}/{s.env}')}",
            "  enable_key_rotation     = true",
            "  deletion_window_in_days = 30",
            f"  tags = {_hcl_map(s.resource_tags(), '  ')}",
            "}", "",
            'resource "aws_kms_alias" "leakstop" {',
            f"  name          = {_hcl(f'alias/{s.project}-{s.env}-secrets')}",
            "  target_key_id = aws_kms_key.leakstop.key_id",
            "}", ""]


def _tf_secret(plan: Plan, name: str, tags: dict, key_ref: str) -> list[str]:
    r, store = _ident(name), plan.store
    out = _tf_block(*store.iac_secret("terraform", name, Expr(key_ref), tags), r)
    if plan.settings.read_roles:
        policy = store.resource_policy(list(plan.settings.read_roles))
        out += _tf_block(*store.iac_policy("terraform", store.iac_arn("terraform", r), policy), r)
    return out


def _tf_value(v: object, indent: str) -> str:
    if isinstance(v, Expr):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return _hcl_map(v, indent) if isinstance(v, dict) else _hcl(str(v))


def _tf_block(rtype: str, args: dict, label: str) -> list[str]:
    width = max(len(k) for k in args)
    return ([f'resource "{rtype}" "{label}" {{']
            + [f"  {k.ljust(width)} = {_tf_value(v, '  ')}" for k, v in args.items()] + ["}", ""])


def _tf_read_policy(plan: Plan, refs: list, key_ref: str) -> list[str]:
    """The runtime role's policy: the store's read statements on exactly these secrets (and the
    key, through the store's service only), ARNs interpolated by Terraform."""
    s = plan.settings
    stmts = plan.store.read_statements(["${%s}" % r for r in refs], s.region or "us-east-1",
                                       "${%s}" % key_ref if not s.kms_key_id else s.kms_key_id)
    doc = json.dumps({"Version": "2012-10-17", "Statement": stmts}, indent=2).replace("%{", "%%{")
    return ['resource "aws_iam_policy" "leakstop_read" {',
            f"  name        = {_hcl(f'{s.project}-{s.env}-read-secrets')}",
            f"  description = {_hcl('Read the secrets leakstop moved out of code (attach to the runtime role)')}",
            "  policy      = jsonencode(" + doc.replace("\n", "\n  ") + ")",
            "}", "",
            'output "secret_arns" {',
            f"  value = [{', '.join(refs)}]",
            "}", ""]


def _sub(obj: object) -> object:
    """Text naming a pseudo parameter (``${AWS::Region}``) as CloudFormation substitutes it."""
    if isinstance(obj, str) and "${AWS::" in obj:
        return {"Fn::Sub": obj}
    if isinstance(obj, dict):
        return {k: _sub(v) for k, v in obj.items()}
    return [_sub(v) for v in obj] if isinstance(obj, list) else obj


def _cfn_tags(tags: dict) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def _cloudformation(plan: Plan, tags: dict[str, dict]) -> str:
    s = plan.settings
    res: dict = {}
    keep = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    if s.kms_key_id:
        key_ref: object = s.kms_key_id
    else:
        key_ref = {"Fn::GetAtt": ["LeakstopKey", "Arn"]}
        res["LeakstopKey"] = {"Type": "AWS::KMS::Key", **keep, "Properties": {
            "Description": f"leakstop: secrets of {s.project}/{s.env}", "EnableKeyRotation": True,
            "PendingWindowInDays": 30,
            "KeyPolicy": {"Version": "2012-10-17", "Statement": [{
                "Sid": "AccountAdministers", "Effect": "Allow",
                "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                "Action": "kms:*", "Resource": "*"}]},
            "Tags": _cfn_tags(s.resource_tags())}}
        res["LeakstopKeyAlias"] = {"Type": "AWS::KMS::Alias", "Properties": {
            "AliasName": f"alias/{s.project}-{s.env}-secrets", "TargetKeyId": {"Ref": "LeakstopKey"}}}
    refs = []
    for name in plan.secrets():
        lid = _logical(name)
        refs.append(plan.store.iac_arn("cloudformation", lid))
        rtype, props = plan.store.iac_secret("cloudformation", name, key_ref, tags[name])
        res[lid] = {"Type": rtype, **keep, "Properties": props}
        if s.read_roles:
            rtype, props = plan.store.iac_policy("cloudformation", {"Ref": lid},
                                                 plan.store.resource_policy(list(s.read_roles)))
            res[lid + "Policy"] = {"Type": rtype, "Properties": props}
    stmts = plan.store.read_statements(refs, "${AWS::Region}", key_ref)
    res["LeakstopReadPolicy"] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
        "Description": "Read the secrets leakstop moved out of code (attach to the runtime role)",
        "PolicyDocument": {"Version": "2012-10-17", "Statement": _sub(stmts)}}}
    doc = {"AWSTemplateFormatVersion": "2010-09-09",
           "Description": "Secrets moved out of code by leakstop remediate; values are put by "
                          "`leakstop remediate --apply`, never declared here",
           "Resources": res,
           "Outputs": {"ReadPolicyArn": {"Value": {"Ref": "LeakstopReadPolicy"}}}}
    return json.dumps(doc, indent=2) + "\n"
