"""Remediation settings: the ``remediation:`` section of .leakstop.yaml, validated here (the core
config loader keeps it raw), then overridden by command-line options."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, replace
from typing import Any, Optional

from scanner.config import Config
from scanner.errors import LeakstopError

DEFAULT_SM_TEMPLATE = "{project}/{env}/{group}"
DEFAULT_SSM_TEMPLATE = "/{project}/{env}/{group}/{key}"
KEYS = ("name_template", "ssm_name_template", "backend", "region", "kms_key_id", "output_dir", "cache_ttl")
_NAME_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Settings:
    project: str
    env: str
    backend: str = "secretsmanager"
    region: Optional[str] = None
    kms_key_id: Optional[str] = None
    name_template: str = DEFAULT_SM_TEMPLATE
    ssm_name_template: str = DEFAULT_SSM_TEMPLATE
    output_dir: str = "leakstop-remediation"
    cache_ttl: int = 300  # seconds the generated helpers keep a value in memory
    overwrite: bool = False
    rotation_lambda_arn: Optional[str] = None
    rotate_after_days: Optional[int] = None

    @property
    def template(self) -> str:
        return self.ssm_name_template if self.backend == "ssm" else self.name_template


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


def load_settings(config: Config, project: str, env: str, **cli: Any) -> Settings:
    """Validate ``remediation:`` (errors name the file and the key), then apply CLI overrides."""
    src = config.source or ".leakstop.yaml"
    raw = dict(config.remediation)
    for key in raw:
        if key not in KEYS:
            raise LeakstopError(f"{src}: unknown key 'remediation.{key}' (known: {', '.join(KEYS)})")
    vals: dict[str, Any] = {}
    if "name_template" in raw:
        vals["name_template"] = _check_template(raw["name_template"], f"{src}: 'remediation.name_template'",
                                                ("project", "env", "group"))
    if "ssm_name_template" in raw:
        t = _check_template(raw["ssm_name_template"], f"{src}: 'remediation.ssm_name_template'",
                            ("project", "env", "group", "key"))
        if not t.startswith("/"):
            raise LeakstopError(f"{src}: 'remediation.ssm_name_template' must start with '/'")
        vals["ssm_name_template"] = t
    for key in ("backend", "region", "kms_key_id", "output_dir"):
        if key in raw:
            if not isinstance(raw[key], str) or not raw[key]:
                raise LeakstopError(f"{src}: 'remediation.{key}' must be a non-empty string")
            vals[key] = raw[key]
    if "cache_ttl" in raw:
        if not isinstance(raw["cache_ttl"], int) or isinstance(raw["cache_ttl"], bool) or raw["cache_ttl"] < 0:
            raise LeakstopError(f"{src}: 'remediation.cache_ttl' must be a number of seconds >= 0")
        vals["cache_ttl"] = raw["cache_ttl"]
    from scanner.remediate.backends import BACKENDS

    if vals.get("backend") and vals["backend"] not in BACKENDS:
        raise LeakstopError(f"{src}: 'remediation.backend' must be one of {', '.join(sorted(BACKENDS))}")
    for what, v in (("--project", project), ("--env", env)):
        if not v or not _NAME_PART.match(v):
            raise LeakstopError(f"{what} must be letters, digits, '.', '_' or '-' (got {v!r})")
    s = Settings(project=project, env=env, **vals)
    s = replace(s, **{k: v for k, v in cli.items() if v is not None and v is not False})
    if s.rotate_after_days is not None and not s.rotation_lambda_arn:
        raise LeakstopError("--rotate-after-days needs --rotation-lambda-arn")
    if s.rotation_lambda_arn and s.rotate_after_days is None:
        s = replace(s, rotate_after_days=30)
    if s.rotate_after_days is not None and not 1 <= s.rotate_after_days <= 1000:
        raise LeakstopError("--rotate-after-days must be between 1 and 1000")
    if s.rotation_lambda_arn and s.backend != "secretsmanager":
        raise LeakstopError("--rotation-lambda-arn needs the Secrets Manager backend")
    return s
