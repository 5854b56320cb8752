"""SSM Parameter Store: one SecureString parameter per value (``values`` is ``{"": value}``)."""

from __future__ import annotations

import json
import re
import shlex
from typing import Callable, Optional

from scanner.errors import LeakstopError
from scanner.remediate.aws import aws_call, make_client
from scanner.remediate.stores.base import LazyClient, Remote, tf_label, unique

_NAME = re.compile(r"/[A-Za-z0-9_./-]+")


def _cfn(name: str, key: Optional[str], arn: Optional[str]) -> str:
    return f"{{{{resolve:ssm-secure:{name}}}}}"


def _ecs(name: str, key: Optional[str], arn: Optional[str]) -> str:
    return arn or name


def _serverless(name: str, key: Optional[str], arn: Optional[str]) -> str:
    return f"${{ssm:{name}}}"


def _shell(name: str, key: Optional[str], arn: Optional[str]) -> str:
    return f"aws ssm get-parameter --name '{name}' --with-decryption --query Parameter.Value --output text"


def _terraform(name: str, key: Optional[str], arn: Optional[str]) -> str:
    return f"data.aws_ssm_parameter.{tf_label(name)}.value"


def _terraform_data(name: str, key: Optional[str], arn: Optional[str]) -> str:
    return f'data "aws_ssm_parameter" "{tf_label(name)}" {{\n  name            = "{name}"\n  with_decryption = true\n}}\n'


def _sam_policy(name: str, key: Optional[str], arn: Optional[str]) -> str:
    # The SAM policy template granting GetParameter(s) on one parameter (its name, without the leading /)
    return json.dumps({"SSMParameterReadPolicy": {"ParameterName": name.lstrip("/")}})


def _terraform_arn(name: str, key: Optional[str], arn: Optional[str]) -> str:
    return f"data.aws_ssm_parameter.{tf_label(name)}.arn"


class SsmStore:
    kind = "ssm"
    title = "SSM Parameter Store (SecureString)"
    label = "SSM parameter"
    noun = "parameter"
    grouped = False
    template_setting = "ssm_name_template"
    default_template = "/{project}/{env}/{service}/{key}"
    template_fields: tuple[str, ...] = ("project", "env", "service", "group", "key")
    supports_rotation = False
    rotation_principal: Optional[str] = None
    default_key = "aws/ssm"
    emits_iac = False  # a parameter is created with its value: code would have to hold it
    supports_resource_policy = False
    references = {"cloudformation": _cfn, "ecs": _ecs, "serverless": _serverless, "shell": _shell,
                  "terraform": _terraform, "terraform-data": _terraform_data, "sam-policy": _sam_policy,
                  "terraform-arn": _terraform_arn, "terraform-arn-data": _terraform_data}
    eso_service = "ParameterStore"  # the External Secrets Operator's AWS provider service
    csi_object_type = "ssmparameter"  # the Secrets Store CSI driver AWS provider's objectType
    helper_read = "parameter"  # the generated code helpers' function reading one value

    def __init__(self, region: Optional[str], client_factory: Callable = make_client, token_key: bytes = b"") -> None:
        # PutParameter takes no client token: token_key is accepted for the common constructor only.
        self.region = region
        self._client = LazyClient("ssm", region, client_factory)
        self._sts = LazyClient("sts", region, client_factory)
        self._account: Optional[str] = None

    @property
    def client(self):
        return self._client()

    # -- before anything exists -------------------------------------------------------------
    def check_name(self, name: str) -> None:
        if not _NAME.fullmatch(name):
            raise LeakstopError(f"parameter name {name!r} has characters SSM does not allow")

    def reference(self, platform: str, name: str, key: Optional[str], arn: Optional[str] = None) -> Optional[str]:
        fn = self.references.get(platform)
        return fn(name, key, arn) if fn else None

    def resource_pattern(self, name: str, region: str = "*", account: str = "*") -> str:
        return f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}"

    def read_statements(self, resources: list, region: str, kms_key_arn: Optional[object]) -> list[dict]:
        out: list[dict] = [{"Sid": "LeakstopReadParameters", "Effect": "Allow", "Action": ["ssm:GetParameter"],
                "Resource": unique(resources)}]
        if kms_key_arn:
            out.append({"Sid": "LeakstopDecryptViaService", "Effect": "Allow", "Action": "kms:Decrypt",
                        "Resource": kms_key_arn,
                        "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{region}.amazonaws.com"}}})
        return out

    def _no_iac(self, *args: object) -> tuple[str, dict]:
        raise LeakstopError("an SSM parameter is created with its value: it cannot be declared as code (--emit)")

    iac_secret = iac_policy = iac_arn = _no_iac  # emits_iac is False: never asked

    # -- against the service ----------------------------------------------------------------
    def read(self, name: str) -> Optional[Remote]:
        try:
            with aws_call(f"GetParameter {name}"):
                p = self.client.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        except LeakstopError as exc:
            if "ParameterNotFound" in exc.message:
                return None
            raise
        return Remote(name=name, arn=p.get("ARN") or self.arn(name), values={"": p["Value"]},
                      version_id=str(p.get("Version", "")), versions=int(p.get("Version", 0)),
                      tags=self._tags(name))

    def current_values(self, remote: Remote) -> dict:
        with aws_call(f"GetParameter {remote.name}"):
            return {"": self.client.get_parameter(Name=remote.name, WithDecryption=True)["Parameter"]["Value"]}

    def version_values(self, name: str, version_id: str) -> Optional[dict]:
        try:
            with aws_call(f"GetParameter {name}:{version_id}"):
                p = self.client.get_parameter(Name=f"{name}:{version_id}", WithDecryption=True)["Parameter"]
        except LeakstopError as exc:
            if "ParameterVersionNotFound" in exc.message or "ParameterNotFound" in exc.message:
                return None
            raise
        return {"": p["Value"]}

    def _tags(self, name: str) -> dict:
        with aws_call(f"ListTagsForResource {name}"):
            tags = self.client.list_tags_for_resource(ResourceType="Parameter", ResourceId=name).get("TagList", [])
        return {t["Key"]: t["Value"] for t in tags}

    def write(self, name: str, values: dict, kms_key_id: Optional[str], exists: bool) -> str:
        kw = {"KeyId": kms_key_id} if kms_key_id else {}
        with aws_call(f"PutParameter {name}"):
            r = self.client.put_parameter(Name=name, Value=values[""], Type="SecureString", Overwrite=exists,
                                          Description="Moved out of source code by leakstop remediate", **kw)
        return str(r.get("Version", ""))

    def tag(self, name: str, tags: dict) -> None:
        with aws_call(f"AddTagsToResource {name}"):
            self.client.add_tags_to_resource(ResourceType="Parameter", ResourceId=name,
                                             Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])

    def untag(self, name: str, keys: list[str]) -> None:
        if keys:
            with aws_call(f"RemoveTagsFromResource {name}"):
                self.client.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name, TagKeys=sorted(keys))

    def arn(self, name: str) -> str:
        if self._account is None:
            with aws_call("GetCallerIdentity"):
                self._account = self._sts().get_caller_identity()["Account"]
        return self.resource_pattern(name, self.region or "us-east-1", self._account)

    def enable_rotation(self, name: str, lambda_arn: str, days: int) -> None:
        raise LeakstopError("scheduled rotation (--rotation-lambda-arn) needs a store that rotates (Secrets Manager)")

    def cli_read(self, name: str, key: Optional[str]) -> str:
        region = f" --region {shlex.quote(self.region)}" if self.region else ""
        return (f"aws ssm get-parameter{region} --name {shlex.quote(name)} --with-decryption "
                f"--query Parameter.Value --output text")

    def resource_policy(self, read_roles: list[str]) -> dict:
        raise LeakstopError("SSM parameters take no resource policy: restrict reads with IAM (iam-policy.json)")

    def put_policy(self, name: str, policy: dict) -> None:
        raise LeakstopError("SSM parameters take no resource policy: restrict reads with IAM (iam-policy.json)")

    def list_flagged(self) -> list[Remote]:
        out = []
        kw: dict = {"ParameterFilters": [{"Key": "tag:leakstop:rotation", "Values": ["required"]}]}
        while True:
            with aws_call("DescribeParameters"):
                page = self.client.describe_parameters(**kw)
            for p in page.get("Parameters", []):
                out.append(Remote(name=p["Name"], arn=p.get("ARN", ""), values={}, version_id=str(p.get("Version", "")),
                                  versions=int(p.get("Version", 0)), kms_key_id=p.get("KeyId"),
                                  tags=self._tags(p["Name"]), last_accessed=None))
            if not page.get("NextToken"):
                return out
            kw["NextToken"] = page["NextToken"]
