"""Remediation settings: the ``remediation:`` section of .leakstop.yaml, validated here (the core
config loader keeps it raw), then overridden by command-line options."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Optional

from scanner.config import Config
from scanner.errors import LeakstopError

if TYPE_CHECKING:  # annotations only: the store registry is imported where it is used (load_settings)
    from scanner.remediate.stores.base import SecretStore

KEYS = ("backend", "region", "kms_key_id", "output_dir", "cache_ttl", "services", "rotation_lambdas", "owner", "tags",
        "read_roles", "lambda_env", "kubernetes")  # + each store's template_setting
LAMBDA_ENV = ("extension", "dynamic-reference")  # remediation.lambda_env / --lambda-env
K8S_OUTPUTS = ("external-secrets", "csi")  # remediation.kubernetes / --kubernetes
_NAME_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Settings:
    project: str
    env: str
    backend: str = "secretsmanager"
    region: Optional[str] = None
    kms_key_id: Optional[str] = None
    name_template: Optional[str] = None  # Secrets Manager (None: the store's default)
    ssm_name_template: Optional[str] = None  # SSM Parameter Store
    output_dir: str = "leakstop-remediation"
    cache_ttl: int = 300  # seconds the generated helpers keep a value in memory
    overwrite: bool = False
    rotation_lambda_arn: Optional[str] = None
    rotate_after_days: Optional[int] = None
    services: Optional[dict] = None  # provider or name word -> service name (the {service} of names)
    rotation_lambdas: Optional[dict] = None  # service or group -> rotation Lambda ARN
    owner: Optional[str] = None  # the `owner` tag
    tags: Optional[dict] = None  # more tags (app and env default to --project and --env)
    read_roles: tuple = ()  # with a resource policy: only these role ARNs may read; deletion denied
    # A Lambda function's environment value in CloudFormation/SAM: "extension" (the AWS Parameters and
    # Secrets Lambda Extension reads it at run time) or "dynamic-reference" (resolved into the configuration)
    lambda_env: str = "extension"
    # Kubernetes manifests: an ExternalSecret (External Secrets Operator) or a SecretProviderClass (CSI driver)
    kubernetes: str = "external-secrets"

    def resource_tags(self) -> dict:
        """The organisation's tags every stored secret gets, beside the leakstop:* ones."""
        out = {"app": self.project, "env": self.env}
        if self.owner:
            out["owner"] = self.owner
        return {**out, **(self.tags or {})}

    def rotation_lambda_for(self, service: str, group: str) -> Optional[str]:
        """The rotation Lambda of a secret: by its service, else its group, else --rotation-lambda-arn."""
        by = self.rotation_lambdas or {}
        return by.get(service) or by.get(group) or self.rotation_lambda_arn

    def rotation_lambdas_used(self) -> bool:
        return bool(self.rotation_lambda_arn or self.rotation_lambdas)

    def template_for(self, store: SecretStore) -> str:
        """The name template of ``store`` (its ``template_setting``), else the store's default."""
        return getattr(self, store.template_setting, None) or store.default_template


def _check_template(value: Any, where: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or not value:
        raise LeakstopError(f"{where} must be a non-empty string")
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
    except ValueError as exc:
        raise LeakstopError(f"{where}: invalid template: {exc}") from None
    for f in fields:
        if f not in allowed:
            raise LeakstopError(f"{where}: unknown field '{{{f}}}' (known: {', '.join('{%s}' % a for a in allowed)})")
    return value


def _check_store_template(value: Any, where: str, cls: type[SecretStore]) -> str:
    """A template with only the store's fields, whose names the store accepts."""
    t = _check_template(value, where, cls.template_fields)
    sample = t.format(**{f: "x" for f in cls.template_fields})
    try:
        cls(None).check_name(sample)
    except LeakstopError as exc:
        raise LeakstopError(f"{where}: gives names the store refuses ({exc.message})") from None
    return t


def _check_services(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise LeakstopError(f"{where} must map a provider (or a word of a variable name) to a service name")
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str) or not _NAME_PART.match(v):
            raise LeakstopError(f"{where}: '{k}' must map to a service name of letters, digits, '.', '_' or '-'")
    return {k.lower(): v for k, v in value.items()}


_TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


def check_tags(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise LeakstopError(f"{where} must map tag keys to values")
    for k, v in value.items():
        if not isinstance(k, str) or not _TAG_KEY.match(k) or k.lower().startswith(("aws:", "leakstop:")):
            raise LeakstopError(f"{where}: {k!r} is not a tag key you can set (letters, digits, spaces, _.:/=+-@; "
                                f"not aws: or leakstop:)")
        if not isinstance(v, str) or not _TAG_VALUE.match(v):
            raise LeakstopError(f"{where}: the value of {k!r} must be text of letters, digits, spaces and _.:/=+-@")
    return dict(value)


def check_roles(value: Any, where: str) -> tuple:
    roles = [value] if isinstance(value, str) else value
    if not isinstance(roles, (list, tuple)) or not roles or not all(isinstance(r, str) and _ROLE_ARN.match(r) for r in roles):
        raise LeakstopError(f"{where} must be IAM role ARNs (arn:aws:iam::ACCOUNT:role/NAME)")
    return tuple(roles)


_LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$")


def _check_lambdas(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise LeakstopError(f"{where} must map a service or group (database, postgres...) to a Lambda ARN")
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str) or not _LAMBDA_ARN.match(v):
            raise LeakstopError(f"{where}: '{k}' must map to a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)")
    return dict(value)


def load_settings(config: Config, project: str, env: str, **cli: Any) -> Settings:
    """Validate ``remediation:`` (errors name the file and the key), then apply CLI overrides."""
    from scanner.remediate.stores import STORES

    src = config.source or ".leakstop.yaml"
    raw = dict(config.remediation)
    templates = {cls.template_setting: cls for cls in STORES.values()}
    known = tuple(templates) + KEYS
    for key in raw:
        if key not in known:
            raise LeakstopError(f"{src}: unknown key 'remediation.{key}' (known: {', '.join(known)})")
    vals: dict[str, Any] = {}
    for key, cls in templates.items():
        if key in raw:
            vals[key] = _check_store_template(raw[key], f"{src}: 'remediation.{key}'", cls)
    for key in ("backend", "region", "kms_key_id", "output_dir", "lambda_env", "kubernetes"):
        if key in raw:
            if not isinstance(raw[key], str) or not raw[key]:
                raise LeakstopError(f"{src}: 'remediation.{key}' must be a non-empty string")
            vals[key] = raw[key]
    if "cache_ttl" in raw:
        if not isinstance(raw["cache_ttl"], int) or isinstance(raw["cache_ttl"], bool) or raw["cache_ttl"] < 0:
            raise LeakstopError(f"{src}: 'remediation.cache_ttl' must be a number of seconds >= 0")
        vals["cache_ttl"] = raw["cache_ttl"]
    if "services" in raw:
        vals["services"] = _check_services(raw["services"], f"{src}: 'remediation.services'")
    if "owner" in raw:
        if not isinstance(raw["owner"], str) or not raw["owner"]:
            raise LeakstopError(f"{src}: 'remediation.owner' must be a non-empty string (a team or an e-mail)")
        vals["owner"] = raw["owner"]
    if "tags" in raw:
        vals["tags"] = check_tags(raw["tags"], f"{src}: 'remediation.tags'")
    if "read_roles" in raw:
        vals["read_roles"] = check_roles(raw["read_roles"], f"{src}: 'remediation.read_roles'")
    if "rotation_lambdas" in raw:
        vals["rotation_lambdas"] = _check_lambdas(raw["rotation_lambdas"], f"{src}: 'remediation.rotation_lambdas'")
    for key, choices in (("lambda_env", LAMBDA_ENV), ("kubernetes", K8S_OUTPUTS)):
        if vals.get(key, choices[0]) not in choices:
            raise LeakstopError(f"{src}: 'remediation.{key}' must be one of {', '.join(choices)}")
    if vals.get("backend") and vals["backend"] not in STORES:
        raise LeakstopError(f"{src}: 'remediation.backend' must be one of {', '.join(sorted(STORES))}")
    for what, v in (("--project", project), ("--env", env)):
        if not v or not _NAME_PART.match(v):
            raise LeakstopError(f"{what} must be letters, digits, '.', '_' or '-' (got {v!r})")
    s = Settings(project=project, env=env, **vals)
    cli_tags = cli.pop("tags", None)
    s = replace(s, **{k: v for k, v in cli.items() if v is not None and v is not False and v != ()})
    if cli_tags:
        s = replace(s, tags={**(s.tags or {}), **cli_tags})
    if s.read_roles and not STORES[s.backend].supports_resource_policy:
        raise LeakstopError(f"read_roles (--read-role) needs a store with resource policies; '{s.backend}' has none")
    if s.rotate_after_days is not None and not s.rotation_lambdas_used():
        raise LeakstopError("--rotate-after-days needs --rotation-lambda-arn")
    if s.rotation_lambdas_used() and s.rotate_after_days is None:
        s = replace(s, rotate_after_days=30)
    if s.rotate_after_days is not None and not 1 <= s.rotate_after_days <= 1000:
        raise LeakstopError("--rotate-after-days must be between 1 and 1000")
    if s.rotation_lambdas_used() and not STORES[s.backend].supports_rotation:
        raise LeakstopError(f"--rotation-lambda-arn needs a store with scheduled rotation; '{s.backend}' has none")
    return s
