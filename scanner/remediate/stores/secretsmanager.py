"""AWS Secrets Manager: one JSON secret per credential, its keys naming what each value is."""

from __future__ import annotations

import json
import re
import shlex
from typing import Callable, Optional

from scanner.errors import LeakstopError
from scanner.remediate.aws import aws_call, make_client
from scanner.remediate.stores.base import Expr, LazyClient, Remote, encode_json, request_token, tf_label, unique

_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")


def _cfn(name: str, key: Optional[str], arn: Optional[str]) -> str:
    return f"{{{{resolve:secretsmanager:{name}:SecretString:{key}}}}}" if key else f"{{{{resolve:secretsmanager:{name}}}}}"


def _ecs(name: str, key: Optional[str], arn: Optional[str]) -> str:
    # valueFrom: ARN[:json-key:version-stage:version-id]; the ARN, not the name, when a key is used
    target = arn or name
    return f"{target}:{key}::" if key else target


def _serverless(name: str, key: Optional[str], arn: Optional[str]) -> str:
    # The whole secret through SSM's Secrets Manager reference path (a JSON secret is parsed into
    # an object by the Framework); a key is then selected by the rewriter where the version allows.
    return f"${{ssm:/aws/reference/secretsmanager/{name}}}"


def _shell(name: str, key: Optional[str], arn: Optional[str]) -> str:
    # A command printing the value (AWS CLI + jq; jq -e fails on a missing key).
    got = f"aws secretsmanager get-secret-value --secret-id '{name}' --query SecretString --output text"
    return f"{got} | jq -er '.[\"{key}\"]'" if key else got


def _terraform(name: str, key: Optional[str], arn: Optional[str]) -> str:
    got = f"data.aws_secretsmanager_secret_version.{tf_label(name)}.secret_string"
    return f'jsondecode({got})["{key}"]' if key else got


def _terraform_data(name: str, key: Optional[str], arn: Optional[str]) -> str:
    return f'data "aws_secretsmanager_secret_version" "{tf_label(name)}" {{\n  secret_id = "{name}"\n}}\n'


def _sam_policy(name: str, key: Optional[str], arn: Optional[str]) -> str:
    # The SAM policy template granting GetSecretValue on one secret (its ARN)
    return json.dumps({"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": arn or name}})


def _terraform_arn(name: str, key: Optional[str], arn: Optional[str]) -> str:
    return f"data.aws_secretsmanager_secret.{tf_label(name)}.arn"


def _terraform_arn_data(name: str, key: Optional[str], arn: Optional[str]) -> str:
    return f'data "aws_secretsmanager_secret" "{tf_label(name)}" {{\n  name = "{name}"\n}}\n'


def _gha_alias(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()


def _gha_env(name: str, key: Optional[str], arn: Optional[str]) -> str:
    # aws-secretsmanager-get-secrets with parse-json-secrets: ALIAS_KEY, upper case
    return f"{_gha_alias(name)}_{re.sub(r'[^A-Za-z0-9]+', '_', key).upper()}" if key else _gha_alias(name)


def _gha_id(name: str, key: Optional[str], arn: Optional[str]) -> str:
    return f"{_gha_alias(name)},{name}"  # a secret-ids line: ALIAS,secret-id


class SecretsManagerStore:
    kind = "secretsmanager"
    title = "AWS Secrets Manager"
    label = "Secrets Manager secret"
    noun = "secret"
    grouped = True
    template_setting = "name_template"
    default_template = "{project}/{env}/{service}"
    template_fields: tuple[str, ...] = ("project", "env", "service", "group")
    supports_rotation = True
    rotation_principal: Optional[str] = "secretsmanager.amazonaws.com"
    default_key = "aws/secretsmanager"
    emits_iac = True
    supports_resource_policy = True
    references = {"cloudformation": _cfn, "ecs": _ecs, "serverless": _serverless, "shell": _shell,
                  "terraform": _terraform, "terraform-data": _terraform_data,
                  "github-actions": _gha_env, "github-actions-id": _gha_id, "sam-policy": _sam_policy,
                  "terraform-arn": _terraform_arn, "terraform-arn-data": _terraform_arn_data}
    eso_service = "SecretsManager"  # the External Secrets Operator's AWS provider service
    csi_object_type = "secretsmanager"  # the Secrets Store CSI driver AWS provider's objectType
    helper_read = "lookup"  # the generated code helpers' function reading one value

    def __init__(self, region: Optional[str], client_factory: Callable = make_client, token_key: bytes = b"") -> None:
        self.region = region
        self.token_key = token_key  # keys the idempotency tokens (request_token)
        self._client = LazyClient("secretsmanager", region, client_factory)

    @property
    def client(self):
        return self._client()

    # -- before anything exists -------------------------------------------------------------
    def check_name(self, name: str) -> None:
        if not _NAME.fullmatch(name):
            raise LeakstopError(f"secret name {name!r} has characters Secrets Manager does not allow")

    def reference(self, platform: str, name: str, key: Optional[str], arn: Optional[str] = None) -> Optional[str]:
        fn = self.references.get(platform)
        return fn(name, key, arn) if fn else None

    def resource_pattern(self, name: str, region: str = "*", account: str = "*") -> str:
        # Secrets Manager appends "-" and 6 random characters to every secret's ARN.
        return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-??????"

    def read_statements(self, resources: list, region: str, kms_key_arn: Optional[object]) -> list[dict]:
        out: list[dict] = [{"Sid": "LeakstopReadSecrets", "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": unique(resources)}]
        if kms_key_arn:
            out.append({"Sid": "LeakstopDecryptViaService", "Effect": "Allow", "Action": "kms:Decrypt",
                        "Resource": kms_key_arn,
                        "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}})
        return out

    # -- infrastructure as code ------------------------------------------------------------
    def iac_secret(self, kind: str, name: str, key_ref: object, tags: dict) -> tuple[str, dict]:
        desc = "Moved out of source code by leakstop remediate"
        if kind == "terraform":
            return "aws_secretsmanager_secret", {"name": name, "description": desc, "kms_key_id": key_ref,
                                                 "recovery_window_in_days": 30, "tags": tags}
        return "AWS::SecretsManager::Secret", {"Name": name, "Description": desc, "KmsKeyId": key_ref,
                                               "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}

    def iac_policy(self, kind: str, secret_ref: object, policy: dict) -> tuple[str, dict]:
        if kind == "terraform":
            return "aws_secretsmanager_secret_policy", {"secret_arn": secret_ref, "block_public_policy": True,
                                                        "policy": json.dumps(policy, sort_keys=True)}
        return "AWS::SecretsManager::ResourcePolicy", {"SecretId": secret_ref, "BlockPublicPolicy": True,
                                                       "ResourcePolicy": policy}

    def iac_arn(self, kind: str, label: str) -> object:
        return Expr(f"aws_secretsmanager_secret.{label}.arn") if kind == "terraform" else {"Ref": label}

    # -- against the service ----------------------------------------------------------------
    def read(self, name: str) -> Optional[Remote]:
        try:
            with aws_call(f"DescribeSecret {name}"):
                desc = self.client.describe_secret(SecretId=name)
        except LeakstopError as exc:
            if "ResourceNotFoundException" in exc.message:
                return None
            raise
        remote = _remote(desc, desc.get("VersionIdsToStages") or {})
        if not remote.deleted and remote.version_id:
            remote.values = self.current_values(remote)
        return remote

    def current_values(self, remote: Remote) -> dict:
        with aws_call(f"GetSecretValue {remote.name}"):
            got = self.client.get_secret_value(SecretId=remote.name)
        return _document(remote.name, got.get("SecretString"))

    def version_values(self, name: str, version_id: str) -> Optional[dict]:
        try:
            with aws_call(f"GetSecretValue {name}"):
                got = self.client.get_secret_value(SecretId=name, VersionId=version_id)
        except LeakstopError as exc:
            if "ResourceNotFoundException" in exc.message:
                return None
            raise
        return _document(name, got.get("SecretString"))

    def write(self, name: str, values: dict, kms_key_id: Optional[str], exists: bool) -> str:
        payload = encode_json(values)
        token = request_token(name, payload, self.token_key)
        with aws_call(f"{'PutSecretValue' if exists else 'CreateSecret'} {name}"):
            if exists:
                r = self.client.put_secret_value(SecretId=name, SecretString=payload, ClientRequestToken=token)
            else:
                kw = {"KmsKeyId": kms_key_id} if kms_key_id else {}
                r = self.client.create_secret(
                    Name=name, SecretString=payload, ClientRequestToken=token,
                    Description="Moved out of source code by leakstop remediate", **kw,
                )
        return r.get("VersionId", token)

    def tag(self, name: str, tags: dict) -> None:
        with aws_call(f"TagResource {name}"):
            self.client.tag_resource(SecretId=name, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])

    def untag(self, name: str, keys: list[str]) -> None:
        if keys:
            with aws_call(f"UntagResource {name}"):
                self.client.untag_resource(SecretId=name, TagKeys=sorted(keys))

    def enable_rotation(self, name: str, lambda_arn: str, days: int) -> None:
        with aws_call(f"RotateSecret {name}"):
            self.client.rotate_secret(SecretId=name, RotationLambdaARN=lambda_arn,
                                      RotationRules={"AutomaticallyAfterDays": days}, RotateImmediately=False)

    def cli_read(self, name: str, key: Optional[str]) -> str:
        region = f" --region {shlex.quote(self.region)}" if self.region else ""
        cmd = (f"aws secretsmanager get-secret-value{region} --secret-id {shlex.quote(name)} "
               f"--query SecretString --output text")
        return cmd + (f" | jq -r {shlex.quote('.' + json.dumps([key]))}" if key else "")

    def resource_policy(self, read_roles: list[str]) -> dict:
        # Deny-only: the policy grants nothing (IAM still must), it takes reading away from every
        # other principal of the account and deletion from everyone (Resource "*" = this secret).
        return {"Version": "2012-10-17", "Statement": [
            {"Sid": "LeakstopOnlyNamedRolesRead", "Effect": "Deny", "Principal": "*",
             "Action": "secretsmanager:GetSecretValue", "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:PrincipalArn": sorted(set(read_roles))}}},
            {"Sid": "LeakstopNoDeletion", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:DeleteSecret",
             "Resource": "*"},
        ]}

    def put_policy(self, name: str, policy: dict) -> None:
        with aws_call(f"PutResourcePolicy {name}"):
            self.client.put_resource_policy(SecretId=name, ResourcePolicy=json.dumps(policy), BlockPublicPolicy=True)

    def list_flagged(self) -> list[Remote]:
        out = []
        kw: dict = {"Filters": [{"Key": "tag-key", "Values": ["leakstop:rotation"]}]}
        while True:
            with aws_call("ListSecrets"):
                page = self.client.list_secrets(**kw)
            for s in page.get("SecretList", []):
                out.append(_remote(s, s.get("SecretVersionsToStages") or {}))
            if not page.get("NextToken"):
                return out
            kw["NextToken"] = page["NextToken"]


def _document(name: str, text: Optional[str]) -> dict:
    """A secret's JSON object of keys and values."""
    if text is None:
        raise LeakstopError(f"secret {name} holds binary data, not a JSON document: choose another name_template")
    try:
        values = json.loads(text)
    except ValueError:
        raise LeakstopError(f"secret {name} exists but is not a JSON document: choose another name_template") from None
    if not isinstance(values, dict):
        raise LeakstopError(f"secret {name} exists but is not a JSON object: choose another name_template")
    return values


def _date(value) -> Optional[str]:
    return value.isoformat() if hasattr(value, "isoformat") else (str(value) if value else None)


def _remote(desc: dict, stages: dict) -> Remote:
    """A Remote from DescribeSecret or a ListSecrets entry (same fields, one name differs)."""
    current = next((vid for vid, st in stages.items() if "AWSCURRENT" in st), "")
    return Remote(
        name=desc["Name"], arn=desc["ARN"], values={}, version_id=current, versions=len(stages),
        deleted=bool(desc.get("DeletedDate")), kms_key_id=desc.get("KmsKeyId"),
        tags={t["Key"]: t["Value"] for t in desc.get("Tags") or []}, stages={k: list(v) for k, v in stages.items()},
        last_accessed=_date(desc.get("LastAccessedDate")),
        rotation={"enabled": bool(desc.get("RotationEnabled")), "lambda": desc.get("RotationLambdaARN"),
                  "last_rotated": _date(desc.get("LastRotatedDate")), "next_rotation": _date(desc.get("NextRotationDate"))},
    )
