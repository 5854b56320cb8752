"""AWS Lambda functions declared in CloudFormation / SAM: a dynamic reference in
``Environment.Variables`` is resolved at deploy time into the function's configuration, where
anyone allowed ``lambda:GetFunctionConfiguration`` reads it in plain text. So a whole value there
goes through the AWS Parameters and Secrets Lambda Extension instead:

* the variable ``VAR`` becomes ``VAR_SECRET_ID`` (the stored name) and ``VAR_SECRET_KEY`` (its JSON
  key): names, never the value. The function's code reads the value with the generated helpers,
  which ask the extension's local endpoint (``lookup(os.environ["VAR_SECRET_ID"],
  os.environ["VAR_SECRET_KEY"])``); a note says so;
* ``PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`` is set (the helpers use the extension only then);
* the extension's layer is added, by region from the ``LeakstopSecretsExtension`` mapping (the
  layer ARNs AWS publishes, one account per region; ``-Arm64`` for ``Architectures: [arm64]``);
* the function may read exactly those secrets: a SAM function gets the store's policy template in
  ``Policies`` (``AWSSecretsManagerGetSecretValuePolicy`` with the secret's ARN), a plain
  ``AWS::Lambda::Function`` whose ``Role`` is a role of the same template gets an inline policy
  there; a role given by ARN is listed for iam-policy.json.

A function whose parts cannot be added (a flow-style JSON template, ``Policies`` given as one
name) keeps the dynamic reference, with a note. ``remediation.lambda_env: dynamic-reference``
(``--lambda-env``) keeps dynamic references everywhere.
"""

from __future__ import annotations

import json
import posixpath
from typing import Optional

import yaml

from scanner.remediate.records import Item, Site, Workspace, arn_marker
from scanner.remediate.rewriters import python
from scanner.remediate.rewriters.base import Context, line_starts, locate
from scanner.remediate.rewriters.cfn_roles import role_policy
from scanner.remediate.rewriters.yamlpos import add_under, get, in_scalar, path_to, text_of

MAPPING = "LeakstopSecretsExtension"
PORT = "2773"  # the extension's default port, set explicitly: the helpers look for the variable
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
_LAYER = "AWS-Parameters-and-Secrets-Lambda-Extension"
# Region -> (publishing account, x86_64 layer version, arm64 layer version or None): the ARNs of
# release 1.0.103 as the Secrets Manager User Guide lists them ("Use AWS Secrets Manager secrets in
# AWS Lambda functions": Lambda extension ARNs).
_PUBLISHED = {
    "af-south-1": ("317013901791", 4, 1),
    "ap-east-1": ("768336418462", 4, 1),
    "ap-northeast-1": ("133490724326", 4, 4),
    "ap-northeast-2": ("738900069198", 4, 1),
    "ap-northeast-3": ("576959938190", 4, None),
    "ap-south-1": ("176022468876", 4, 4),
    "ap-south-2": ("070087711984", 1, None),
    "ap-southeast-1": ("044395824272", 4, 4),
    "ap-southeast-2": ("665172237481", 4, 4),
    "ap-southeast-3": ("490737872127", 4, 1),
    "ca-central-1": ("200266452380", 4, 1),
    "cn-north-1": ("287114880934", 4, None),
    "cn-northwest-1": ("287310001119", 4, None),
    "eu-central-1": ("187925254637", 4, 4),
    "eu-central-2": ("772501565639", 1, None),
    "eu-north-1": ("427196147048", 4, 1),
    "eu-south-1": ("325218067255", 4, 1),
    "eu-south-2": ("524103009944", 1, None),
    "eu-west-1": ("015030872274", 4, 4),
    "eu-west-2": ("133256977650", 4, 4),
    "eu-west-3": ("780235371811", 4, 1),
    "me-central-1": ("858974508948", 4, None),
    "me-south-1": ("832021897121", 4, 1),
    "sa-east-1": ("933737806257", 4, 1),
    "us-east-1": ("177933569100", 4, 4),
    "us-east-2": ("590474943231", 4, 4),
    "us-gov-east-1": ("129776340158", 4, None),
    "us-gov-west-1": ("127562683043", 4, None),
    "us-west-1": ("997803712105", 4, 1),
    "us-west-2": ("345057560386", 4, 4),
}


def _partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def mapping() -> dict:
    """The template's ``Mappings`` entry: region -> {x8664: layer ARN, arm64: layer ARN}."""
    out = {}
    for region, (account, x86, arm) in sorted(_PUBLISHED.items()):
        base = f"arn:{_partition(region)}:lambda:{region}:{account}:layer:{_LAYER}"
        out[region] = {"x8664": f"{base}:{x86}", **({"arm64": f"{base}-Arm64:{arm}"} if arm else {})}
    return out


def layer_ref(props: yaml.Node) -> dict:
    arch = get(props, "Architectures")
    arm = isinstance(arch, yaml.SequenceNode) and any(getattr(a, "value", "") == "arm64" for a in arch.value)
    return {"Fn::FindInMap": [MAPPING, {"Ref": "AWS::Region"}, "arm64" if arm else "x8664"]}


def env_site(root: yaml.Node, text: str, loc: tuple[int, int]) -> Optional[tuple[str, yaml.Node, yaml.Node, yaml.Node]]:
    """(function id, its Properties, the Variables entry's key and value) when [a, b) is the whole value
    of a function's Environment.Variables entry in a block-style template."""
    steps = path_to(root, *loc) if root is not None else []
    keys = [s[1] for s in steps]
    if len(keys) != 6 or keys[0] != "Resources" or keys[2:5] != ["Properties", "Environment", "Variables"]:
        return None
    if text_of(steps[1][2], "Type") not in FUNCTION_TYPES or steps[2][2].flow_style:
        return None
    node = steps[5][2]
    if in_scalar(text, node, 0, *loc) != (0, len(node.value)) or steps[4][2].flow_style:
        return None
    key = next(k for k, v in steps[4][2].value if v is node)
    return str(keys[1]), steps[2][2], key, node  # the function's logical id (a key under Resources)


def _variables(key: yaml.Node, value: yaml.Node, item: Item, nl: str) -> tuple[int, int, str]:
    """The edit turning ``VAR: value`` into the name (and key) variables."""
    pairs = [(key.value + "_SECRET_ID", item.secret_name)]
    if item.json_key is not None:
        pairs.append((key.value + "_SECRET_KEY", item.json_key))
    sep = nl + " " * key.start_mark.column
    return key.start_mark.index, value.end_mark.index, sep.join(f"{k}: {json.dumps(v)}" for k, v in pairs)


def _read_permission(ctx: Context, text: str, root: yaml.Node, fn: str, props: yaml.Node,
                     names: list[str], nl: str) -> tuple[Optional[tuple[int, int, str]], bool]:
    """(the edit letting function ``fn`` read ``names``, or None; False when nothing could be said
    where the function is declared and the role must be given the statements elsewhere)."""
    res = get(root, "Resources")
    if text_of(get(res, fn), "Type") == "AWS::Serverless::Function":
        policies = [p for n in names if (p := ctx.store.reference("sam-policy", n, None, arn_marker(n)))]
        if len(policies) < len(names):
            return None, False
        edit = add_under(text, root, ["Resources", fn, "Properties", "Policies"], [json.loads(p) for p in policies], nl)
        return edit, edit is not None  # Policies given as one name: no list to add to
    return role_policy(ctx, text, root, get(props, "Role"), f"leakstop-read-{fn}", names, nl), True


def function_edits(ws: Workspace, ctx: Context, path: str, text: str, root: yaml.Node, fn: str, props: yaml.Node,
                   hits: list[tuple[Site, Item, yaml.Node, yaml.Node]], nl: str) -> Optional[list]:
    """The edits moving function ``fn``'s variables to the extension, or None when one of them
    cannot be made (the caller keeps dynamic references)."""
    edits: list[Optional[tuple[int, int, str]]] = [_variables(key, value, item, nl) for _, item, key, value in hits]
    base = ["Resources", fn, "Properties"]
    if get(get(get(props, "Environment"), "Variables"), "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT") is None:
        edits.append(add_under(text, root, base + ["Environment", "Variables"],
                               {"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": PORT}, nl))
    edits.append(add_under(text, root, base + ["Layers"], [layer_ref(props)], nl))
    names = sorted({it.secret_name for _, it, _, _ in hits})
    grant, possible = _read_permission(ctx, text, root, fn, props, names, nl)
    done = [e for e in edits if e is not None]
    if len(done) < len(edits) or not possible:
        return None
    items = [it for _, it, _, _ in hits]
    ctx.grant(path, f"function {fn}", items, attached=grant is not None)
    if grant is None:
        ctx.notes.append(f"{path}: function {fn}'s role is not declared in this template: give it the statements "
                         f"in iam-policy.json")
    _python_helper(ws, ctx, path, props)
    variables = ", ".join(sorted({k.value for _, _, k, _ in hits}))
    key = ', os.environ.get("VAR_SECRET_KEY")' if ctx.store.grouped else ""
    read = f'{ctx.store.helper_read}(os.environ["VAR_SECRET_ID"]{key})'
    ctx.notes.append(f"{path}: function {fn} reads {variables} through the AWS Parameters and Secrets Lambda "
                     f"Extension: its code must read VAR with the generated helper, which asks the extension, "
                     f"not os.environ[\"VAR\"]: Python {read}; JS/TS await resolve() of the "
                     f"{{{{leakstop:...}}}} placeholder naming the same secret and key")
    return done + ([grant] if grant else [])


def _python_helper(ws: Workspace, ctx: Context, path: str, props: yaml.Node) -> None:
    """A Python function's code directory (a local CodeUri) gets the helper its code reads with."""
    code = text_of(props, "CodeUri")
    if not (text_of(props, "Runtime") or "").startswith("python") or not code or "://" in code:
        return
    directory = posixpath.normpath(posixpath.join(posixpath.dirname(path), code))
    if not directory.startswith("..") and (ws.base / directory).is_dir():
        python.write_helper(ws, posixpath.join(directory, "handler.py"), ctx)


def mapping_edit(text: str, root: yaml.Node, nl: str) -> Optional[tuple[int, int, str]]:
    """The region -> layer ARN mapping, once per template."""
    if get(get(root, "Mappings"), MAPPING) is not None:
        return None
    return add_under(text, root, ["Mappings", MAPPING], mapping(), nl)


def lambda_edits(ws: Workspace, ctx: Context, path: str, text: str, root: yaml.Node, pairs: list, nl: str) -> tuple[list, list]:
    """(edits for the function variables that go through the extension, the pairs left for
    dynamic references)."""
    per_fn: dict[str, list] = {}
    props_of: dict[str, yaml.Node] = {}
    rest, starts = [], line_starts(text)
    for site, item in pairs:
        loc = locate(text, starts, site, item)
        hit = env_site(root, text, loc) if loc and ctx.settings.lambda_env == "extension" else None
        if hit is None:
            rest.append((site, item))
            continue
        fn, props, key, value = hit
        props_of[fn] = props
        per_fn.setdefault(fn, []).append((site, item, key, value))
    edits = []
    for fn, hits in per_fn.items():
        got = function_edits(ws, ctx, path, text, root, fn, props_of[fn], hits, nl)
        if got is None:
            rest += [(s, it) for s, it, _, _ in hits]
            ctx.notes.append(f"{path}: function {fn}: the extension's layer, variables or policy cannot be added "
                             f"here (flow style, or Policies/Layers not a list): its values became dynamic references, "
                             f"which CloudFormation writes into the function's configuration in plain text")
        else:
            edits += got
    if edits:
        m = mapping_edit(text, root, nl)
        edits += [m] if m else []
    return edits, rest
