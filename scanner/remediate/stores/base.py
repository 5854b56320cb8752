"""The ``SecretStore`` protocol: everything remediation asks of the place moved values go.

A store answers two kinds of question. Before anything exists (planning, dry runs, IaC emit):
how names are built and checked, whether one name holds several keys (a JSON document) or one
value, how each platform refers to a stored value, what an IAM statement that reads it looks
like, which extra features it has (scheduled rotation, a resource policy). Against the service
(apply, ``rotation status``): read, write, tag, rotate, list what leakstop flagged. Its client is
made on first use, so planning never touches the network.

Code outside a store module never asks "which store is this": whatever differs is a method or an
attribute here. A new store (Vault KV v2, GCP Secret Manager) is one module plus one line in
:data:`scanner.remediate.stores.STORES`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Callable, Optional, Protocol

# A platform's way to name a stored value in its own configuration; the store fills in the
# platforms it supports, a rewriter asks and lists a manual step on None.
#   reference(platform, name, key, arn) -> text, or None when the platform cannot refer to it.
# Platforms known today (the rewriter modules that ask):
#   "cloudformation"  a dynamic reference resolved at deploy time ({{resolve:...}})
#   "ecs"             a task definition's secrets[].valueFrom (arn: the secret's ARN or pattern)
#   "serverless"      a serverless.yml variable
#   "shell"           a command (AWS CLI, jq) printing the value, for deploy-time scripts
#   "terraform"       an expression reading the value from the data source "terraform-data" declares
#   "terraform-arn"   an expression giving the stored name's ARN, from the data source "terraform-arn-data" declares
#   "sam-policy"      a SAM policy template (JSON) letting a function read the name (arn: its ARN)
#   "github-actions"  the env variable aws-secretsmanager-get-secrets sets ("github-actions-id": its secret-ids line)
Reference = Callable[[str, Optional[str], Optional[str]], str]


@dataclass
class Remote:
    """What the store holds under one name (values only in memory)."""

    name: str
    arn: str
    values: dict = field(repr=False)  # key -> value; a one-value store uses {"": value}
    version_id: str = ""
    versions: int = 0
    deleted: bool = False
    kms_key_id: Optional[str] = None
    tags: dict = field(default_factory=dict)
    stages: dict = field(default_factory=dict)  # version id -> stage labels (AWSCURRENT, AWSPENDING...)
    last_accessed: Optional[str] = None  # ISO date the value was last read, when the store knows it
    rotation: dict = field(default_factory=dict)  # enabled, lambda, last_rotated, next_rotation


class SecretStore(Protocol):
    kind: str  # the registry key (--backend)
    title: str  # "AWS Secrets Manager": the service, in plan headers
    label: str  # "Secrets Manager secret": one stored name, in comments and messages
    noun: str  # "secret": what one name is called
    grouped: bool  # one name holds a JSON document of several keys (else: one value per name)
    template_setting: str  # the remediation.* setting holding this store's name template
    default_template: str
    template_fields: tuple[str, ...]  # fields a name template may use
    supports_rotation: bool  # scheduled rotation with a Lambda
    rotation_principal: Optional[str]  # the service principal that invokes the rotation Lambda
    default_key: str  # the AWS-managed KMS key used without --kms-key-id
    emits_iac: bool  # infrastructure code can declare a name without its value (--emit)
    supports_resource_policy: bool
    region: Optional[str]
    eso_service: str  # the External Secrets Operator's AWS provider service (Kubernetes)
    csi_object_type: str  # the Secrets Store CSI driver AWS provider's objectType (Kubernetes)
    # The generated code helpers' function reading one value: "lookup" (name, key of a JSON
    # document) or "parameter" (name); code calls env_or_<it>(ENV, name[, key]).
    helper_read: str

    def __init__(self, region: Optional[str], client_factory: Callable = ..., token_key: bytes = b"") -> None:
        """A store for ``region``; ``client_factory(service, region)`` makes its AWS client on first
        use, ``token_key`` keys its idempotency tokens (the registry builds stores this way)."""

    def check_name(self, name: str) -> None:
        """Raise LeakstopError when the service would refuse ``name``."""

    def reference(self, platform: str, name: str, key: Optional[str], arn: Optional[str] = None) -> Optional[str]:
        """How ``platform`` refers to key ``key`` of ``name`` (see :data:`Reference`), or None."""

    def resource_pattern(self, name: str, region: str = "*", account: str = "*") -> str:
        """An ARN that matches ``name`` before it exists (for policies written at plan time);
        ``region``/``account`` may be wildcards or IaC expressions such as ``${AWS::Region}``."""

    def read_statements(self, resources: list, region: str, kms_key_arn: Optional[object]) -> list[dict]:
        """IAM statements that let a runtime role read exactly ``resources`` (and decrypt them);
        resources, region and key may be IaC expressions (``${...}`` text, CloudFormation dicts)."""

    # -- infrastructure as code (emits_iac): declared names, never values ------------------------
    def iac_secret(self, kind: str, name: str, key_ref: object, tags: dict) -> tuple[str, dict]:
        """The resource declaring ``name`` without a value in IaC ``kind`` (terraform,
        cloudformation): its type and arguments (:class:`Expr` for a Terraform expression)."""

    def iac_policy(self, kind: str, secret_ref: object, policy: dict) -> tuple[str, dict]:
        """The resource attaching resource policy ``policy`` to the declared secret ``secret_ref``."""

    def iac_arn(self, kind: str, label: str) -> object:
        """The declared secret ``label``'s ARN: a Terraform expression, a CloudFormation intrinsic."""

    def read(self, name: str) -> Optional[Remote]: ...

    def write(self, name: str, values: dict, kms_key_id: Optional[str], exists: bool) -> str: ...

    def tag(self, name: str, tags: dict) -> None: ...

    def untag(self, name: str, keys: list[str]) -> None: ...

    def enable_rotation(self, name: str, lambda_arn: str, days: int) -> None: ...

    def put_policy(self, name: str, policy: dict) -> None: ...

    def cli_read(self, name: str, key: Optional[str]) -> str:
        """A shell command (AWS CLI) printing the value of ``key`` in ``name``, for procedures the
        user runs (the history purge); leakstop itself never writes a value out."""

    def resource_policy(self, read_roles: list[str]) -> dict:
        """A policy for one stored name: only ``read_roles`` may read the value; nobody may delete it."""

    def list_flagged(self) -> list[Remote]: ...

    def current_values(self, remote: Remote) -> dict:
        """The values ``remote`` holds now (key -> value), read only to compare hashes."""

    def version_values(self, name: str, version_id: str) -> Optional[dict]:
        """The values one version of ``name`` held (key -> value), or None when that version is
        gone; read only by ``rotation status --verify`` to ask providers about the old value."""


class Expr(str):
    """A Terraform expression (written as is), not a string literal."""


def unique(resources: list) -> list:
    """Resources once each: plain ARNs sorted, IaC expressions in their order."""
    if all(isinstance(r, str) for r in resources):
        return sorted(set(resources))
    seen, out = set(), []
    for r in resources:
        k = json.dumps(r, sort_keys=True)
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def request_token(name: str, payload: str, key: bytes) -> str:
    """Idempotency token derived from the content: a re-run sends the same token, so AWS creates
    no second version. Keyed (the fingerprint key, scanner.identity) and a slow KDF, because the
    token is visible as the version id (tags, journal, `rotation status`)."""
    salt = hmac.new(key, b"leakstop-token:" + name.encode(), hashlib.sha256).digest()
    digest = hashlib.pbkdf2_hmac("sha256", payload.encode(), salt, 20_000)
    return str(uuid.UUID(bytes=digest[:16]))


def encode_json(values: dict) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class LazyClient:
    """A boto3 client made on first use: a store is built for planning without any AWS call."""

    def __init__(self, service: str, region: Optional[str], factory: Callable) -> None:
        self._service, self._region, self._factory = service, region, factory
        self._client = None

    def __call__(self):
        if self._client is None:
            self._client = self._factory(self._service, self._region)
        return self._client


def tf_label(name: str) -> str:
    """A Terraform block label for a stored name (letters, digits, underscores; a letter first)."""
    label = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")
    return label if label[:1].isalpha() else "s_" + label
