"""Where moved values go: a small ``SecretStore`` protocol with two implementations (Secrets
Manager JSON secrets, SSM Parameter Store SecureString), listed in the plain-dict ``BACKENDS``.

Every AWS call goes through :func:`aws_call`, which turns the errors users meet (no credentials,
access denied, throttling after retries, unknown KMS key, endpoint unreachable) into one-line
:class:`LeakstopError` messages. Values are never part of a message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional, Protocol

from scanner.errors import LeakstopError

# Standard retry mode: exponential backoff with jitter on throttling and transient errors. The
# attempt count comes from AWS_MAX_ATTEMPTS when set (botocore's own variable), else 5.
DEFAULT_MAX_ATTEMPTS = 5
# Secrets Manager, SSM, STS and KMS answer in well under a second: a dead network or a silent
# proxy must fail in seconds, not after botocore's default 60 s read timeout per attempt.
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 15
_THROTTLE_CODES = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
                   "ThrottledException", "SlowDown"}
_DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
                 "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch"}


NO_REGION = ("no AWS region: pass --region, set remediation.region in .leakstop.yaml, or set AWS_REGION "
             "or AWS_DEFAULT_REGION (or region in the AWS profile)")


def resolve_region(explicit: Optional[str]) -> Optional[str]:
    """--region / remediation.region, else AWS_REGION (which the AWS CLI, the other SDKs and Lambda
    use, but botocore before 1.4x ignores), else boto3's own chain: AWS_DEFAULT_REGION, the profile."""
    import os

    if explicit:
        return explicit
    if os.environ.get("AWS_REGION"):
        return os.environ["AWS_REGION"]
    try:
        import boto3

        return boto3.session.Session().region_name  # configuration only, no network
    except Exception:  # a broken profile: make_client reports it
        return None


def make_client(service: str, region: Optional[str]):
    """A boto3 client using the standard credential chain (and AWS_ENDPOINT_URL when set)."""
    import os

    import boto3
    from botocore.config import Config as BotoConfig

    retries: dict = {"mode": "standard"}
    if not os.environ.get("AWS_MAX_ATTEMPTS"):
        retries["max_attempts"] = DEFAULT_MAX_ATTEMPTS
    try:
        session = boto3.session.Session(region_name=resolve_region(region))
    except Exception as exc:  # e.g. a broken profile name
        raise LeakstopError(f"cannot start an AWS session: {type(exc).__name__}: {exc}") from None
    if not session.region_name:
        raise LeakstopError(NO_REGION)
    config = BotoConfig(retries=retries, connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
                        user_agent_extra="leakstop-remediate")
    return session.client(service, config=config)


@contextmanager
def aws_call(what: str) -> Iterator[None]:
    """Map botocore failures to a clear one-line error naming the operation and resource."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        HTTPClientError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )
    from botocore.exceptions import ConnectionError as BotoConnectionError

    try:
        yield
    except (NoCredentialsError, PartialCredentialsError):
        raise LeakstopError(
            f"{what}: no AWS credentials found (standard chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE / ~/.aws, SSO, or an instance/task role)"
        ) from None
    except NoRegionError:
        raise LeakstopError(f"{what}: {NO_REGION}") from None
    except (BotoConnectionError, HTTPClientError) as exc:  # after botocore's retries
        raise LeakstopError(f"{what}: {_network_fault(exc)} ({exc.kwargs.get('endpoint_url', '?')}); "
                            "re-running is safe (stores are idempotent, the journal resumes)") from None
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code = err.get("Code", "")
        msg = (err.get("Message") or "").splitlines()[0][:200] if err.get("Message") else ""
        attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        if code in _THROTTLE_CODES:
            raise LeakstopError(
                f"{what}: throttled by AWS ({code}) after {attempts + 1} attempts with backoff; "
                "try again later or raise AWS_MAX_ATTEMPTS"
            ) from None
        if code in _DENIED_CODES:
            raise LeakstopError(f"{what}: access denied ({code}): the caller needs permission for this action. {msg}") from None
        if code == "NotFoundException" and "kms" in what.lower():
            raise LeakstopError(f"{what}: KMS key not found in this account/region. {msg}") from None
        if code in ("KMSInvalidStateException", "DisabledException"):
            raise LeakstopError(f"{what}: the KMS key is disabled or pending deletion. {msg}") from None
        raise LeakstopError(f"{what}: AWS error {code}: {msg}") from None
    except BotoCoreError as exc:  # its message can quote request parameters (a value): only the type
        raise LeakstopError(f"{what}: AWS client error ({type(exc).__name__})") from None


def _network_fault(exc: Exception) -> str:
    """What went wrong on the wire, in the words a user can act on (most specific class first)."""
    from botocore import exceptions as e

    if isinstance(exc, e.ConnectTimeoutError):
        return f"no connection to the AWS endpoint within {CONNECT_TIMEOUT} s"
    if isinstance(exc, e.ProxyConnectionError):
        return "cannot connect through the proxy (HTTPS_PROXY)"
    if isinstance(exc, e.SSLError):
        return "TLS error talking to the AWS endpoint (certificates: AWS_CA_BUNDLE)"
    if isinstance(exc, e.EndpointConnectionError):
        return "cannot reach the AWS endpoint"
    if isinstance(exc, e.ReadTimeoutError):
        return f"no answer from the AWS endpoint within {READ_TIMEOUT} s"
    if isinstance(exc, e.ConnectionClosedError):
        return "the AWS endpoint closed the connection before answering"
    return f"network error talking to the AWS endpoint ({type(exc).__name__})"


@dataclass
class Remote:
    """What the store holds under one name (values only in memory)."""

    name: str
    arn: str
    values: dict = field(repr=False)  # json key -> value (SSM: {"": value})
    version_id: str = ""
    versions: int = 0
    deleted: bool = False
    kms_key_id: Optional[str] = None
    tags: dict = field(default_factory=dict)


class SecretStore(Protocol):
    kind: str  # "secretsmanager" | "ssm"
    grouped: bool  # True when one name holds a JSON document of several keys

    def read(self, name: str) -> Optional[Remote]: ...

    def write(self, name: str, values: dict, kms_key_id: Optional[str], exists: bool) -> str: ...

    def tag(self, name: str, tags: dict) -> None: ...

    def arn(self, name: str) -> str: ...

    def enable_rotation(self, name: str, lambda_arn: str, days: int) -> None: ...

    def list_flagged(self) -> list[Remote]: ...


def request_token(name: str, payload: str, key: bytes) -> str:
    """Idempotency token derived from the content: a re-run sends the same token, so AWS creates
    no second version. Keyed (the fingerprint key, scanner.identity) and a slow KDF, because the
    token is visible as the version id (tags, journal, `rotation status`)."""
    salt = hmac.new(key, b"leakstop-token:" + name.encode(), hashlib.sha256).digest()
    digest = hashlib.pbkdf2_hmac("sha256", payload.encode(), salt, 20_000)
    return str(uuid.UUID(bytes=digest[:16]))


def encode_json(values: dict) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class SecretsManagerStore:
    kind = "secretsmanager"
    grouped = True

    def __init__(self, region: Optional[str], client_factory: Callable = make_client, token_key: bytes = b"") -> None:
        self.client = client_factory("secretsmanager", region)
        self.region = self.client.meta.region_name
        self.token_key = token_key  # keys the idempotency tokens (request_token)

    def read(self, name: str) -> Optional[Remote]:
        c = self.client
        try:
            with aws_call(f"DescribeSecret {name}"):
                desc = c.describe_secret(SecretId=name)
        except LeakstopError as exc:
            if "ResourceNotFoundException" in exc.message:
                return None
            raise
        deleted = bool(desc.get("DeletedDate"))
        current = ""
        for vid, stages in (desc.get("VersionIdsToStages") or {}).items():
            if "AWSCURRENT" in stages:
                current = vid
        values: dict = {}
        if not deleted and current:
            with aws_call(f"GetSecretValue {name}"):
                got = c.get_secret_value(SecretId=name)
            text = got.get("SecretString")
            if text is None:
                raise LeakstopError(f"secret {name} holds binary data, not a JSON document: choose another name_template")
            try:
                values = json.loads(text)
            except ValueError:
                raise LeakstopError(f"secret {name} exists but is not a JSON document: choose another name_template") from None
            if not isinstance(values, dict):
                raise LeakstopError(f"secret {name} exists but is not a JSON object: choose another name_template")
        tags = {t["Key"]: t["Value"] for t in desc.get("Tags") or []}
        return Remote(name=name, arn=desc["ARN"], values=values, version_id=current,
                      versions=len(desc.get("VersionIdsToStages") or {}), deleted=deleted,
                      kms_key_id=desc.get("KmsKeyId"), tags=tags)

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

    def arn(self, name: str) -> str:
        with aws_call(f"DescribeSecret {name}"):
            return self.client.describe_secret(SecretId=name)["ARN"]

    def enable_rotation(self, name: str, lambda_arn: str, days: int) -> None:
        with aws_call(f"RotateSecret {name}"):
            self.client.rotate_secret(SecretId=name, RotationLambdaARN=lambda_arn,
                                      RotationRules={"AutomaticallyAfterDays": days}, RotateImmediately=False)

    def list_flagged(self) -> list[Remote]:
        out = []
        kw: dict = {"Filters": [{"Key": "tag-key", "Values": ["leakstop:rotation"]}]}
        while True:
            with aws_call("ListSecrets"):
                page = self.client.list_secrets(**kw)
            for s in page.get("SecretList", []):
                current = next((v for v, st in (s.get("SecretVersionsToStages") or {}).items() if "AWSCURRENT" in st), "")
                out.append(Remote(name=s["Name"], arn=s["ARN"], values={}, version_id=current,
                                  versions=len(s.get("SecretVersionsToStages") or {}),
                                  deleted=bool(s.get("DeletedDate")), kms_key_id=s.get("KmsKeyId"),
                                  tags={t["Key"]: t["Value"] for t in s.get("Tags") or []}))
            if not page.get("NextToken"):
                return out
            kw["NextToken"] = page["NextToken"]


class SsmStore:
    """One SecureString parameter per value; ``values`` is ``{"": value}``."""

    kind = "ssm"
    grouped = False

    def __init__(self, region: Optional[str], client_factory: Callable = make_client, token_key: bytes = b"") -> None:
        # PutParameter takes no client token: token_key is accepted for the common constructor only.
        self.client = client_factory("ssm", region)
        self.region = self.client.meta.region_name
        self._account: Optional[str] = None

    def read(self, name: str) -> Optional[Remote]:
        try:
            with aws_call(f"GetParameter {name}"):
                p = self.client.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        except LeakstopError as exc:
            if "ParameterNotFound" in exc.message:
                return None
            raise
        with aws_call(f"ListTagsForResource {name}"):
            tags = self.client.list_tags_for_resource(ResourceType="Parameter", ResourceId=name).get("TagList", [])
        return Remote(name=name, arn=p.get("ARN") or self.arn(name), values={"": p["Value"]},
                      version_id=str(p.get("Version", "")), versions=int(p.get("Version", 0)),
                      tags={t["Key"]: t["Value"] for t in tags})

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

    def arn(self, name: str) -> str:
        if self._account is None:
            sts = make_client("sts", self.region)
            with aws_call("GetCallerIdentity"):
                self._account = sts.get_caller_identity()["Account"]
        return f"arn:aws:ssm:{self.region}:{self._account}:parameter/{name.lstrip('/')}"

    def enable_rotation(self, name: str, lambda_arn: str, days: int) -> None:
        raise LeakstopError("scheduled rotation (--rotation-lambda-arn) needs the Secrets Manager backend")

    def list_flagged(self) -> list[Remote]:
        out = []
        kw: dict = {"ParameterFilters": [{"Key": "tag:leakstop:rotation", "Values": ["required"]}]}
        while True:
            with aws_call("DescribeParameters"):
                page = self.client.describe_parameters(**kw)
            for p in page.get("Parameters", []):
                with aws_call(f"ListTagsForResource {p['Name']}"):
                    tags = self.client.list_tags_for_resource(ResourceType="Parameter", ResourceId=p["Name"])
                out.append(Remote(name=p["Name"], arn=p.get("ARN", ""), values={}, version_id=str(p.get("Version", "")),
                                  versions=int(p.get("Version", 0)), kms_key_id=p.get("KeyId"),
                                  tags={t["Key"]: t["Value"] for t in tags.get("TagList", [])}))
            if not page.get("NextToken"):
                return out
            kw["NextToken"] = page["NextToken"]


# backend name -> class; a new store is one class + one line here.
BACKENDS: dict[str, type] = {
    "secretsmanager": SecretsManagerStore,
    "ssm": SsmStore,
}


def make_store(kind: str, region: Optional[str], client_factory: Callable = make_client,
               token_key: bytes = b"") -> SecretStore:
    """``token_key`` keys the idempotency tokens of stores that send them (a reading store needs none)."""
    cls = BACKENDS.get(kind)
    if cls is None:
        raise LeakstopError(f"unknown backend '{kind}' (choose from {', '.join(sorted(BACKENDS))})")
    return cls(region, client_factory, token_key)


def resolve_kms_key(key_id: str, region: Optional[str], client_factory: Callable = make_client) -> str:
    """The key's ARN; a clear error when it does not exist (Secrets Manager would only fail later)."""
    kms = client_factory("kms", region)
    with aws_call(f"KMS DescribeKey {key_id}"):
        meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    if meta.get("KeyState") not in (None, "Enabled"):
        raise LeakstopError(f"KMS key {key_id} is {meta.get('KeyState')}, not Enabled")
    return meta["Arn"]


def check_credentials(region: Optional[str], client_factory: Callable = make_client) -> str:
    """Fail early and clearly when there are no credentials; returns the account id."""
    sts = client_factory("sts", region)
    with aws_call("GetCallerIdentity"):
        return sts.get_caller_identity()["Account"]
