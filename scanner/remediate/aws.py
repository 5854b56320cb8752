"""AWS plumbing shared by the stores and checks: clients with bounded timeouts and standard
retries, and :func:`aws_call`, which turns the errors users meet (no credentials, access denied,
throttling after retries, unknown KMS key, endpoint unreachable) into one-line
:class:`LeakstopError` messages. Values are never part of a message.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

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


def check_rotation_lambda(arn: str, principal: str, region: Optional[str], client_factory: Callable = make_client) -> None:
    """Before anything changes: the rotation Lambda exists and its resource policy lets
    ``principal`` (the store's service, e.g. secretsmanager.amazonaws.com) invoke it; otherwise
    every RotateSecret would be accepted now and fail at the first rotation."""
    lam = client_factory("lambda", region)
    try:
        with aws_call(f"Lambda GetFunction {arn}"):
            lam.get_function(FunctionName=arn)
    except LeakstopError as exc:
        if "ResourceNotFoundException" in exc.message:
            raise LeakstopError(f"rotation Lambda {arn}: no such function in this account/region") from None
        raise
    try:
        with aws_call(f"Lambda GetPolicy {arn}"):
            policy = json.loads(lam.get_policy(FunctionName=arn)["Policy"])
    except LeakstopError as exc:
        if "ResourceNotFoundException" not in exc.message:
            raise
        policy = {}
    if not any(_allows_invoke(st, principal) for st in policy.get("Statement", [])):
        raise LeakstopError(
            f"rotation Lambda {arn}: its resource policy does not let {principal} invoke it; add it with "
            f"`aws lambda add-permission --function-name {arn} --statement-id SecretsManagerRotation "
            f"--action lambda:InvokeFunction --principal {principal}`")


def _allows_invoke(st: dict, principal: str) -> bool:
    actions = st.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    who = (st.get("Principal") or {})
    services = who.get("Service", []) if isinstance(who, dict) else []
    services = [services] if isinstance(services, str) else services
    return (st.get("Effect") == "Allow" and any(a in ("lambda:InvokeFunction", "lambda:*", "*") for a in actions)
            and (principal in services or who == "*"))


def caller_principal(region: Optional[str], client_factory: Callable = make_client) -> str:
    """The caller as IAM policies name it (``aws:PrincipalArn``): an assumed role's role ARN."""
    sts = client_factory("sts", region)
    with aws_call("GetCallerIdentity"):
        arn = sts.get_caller_identity()["Arn"]
    parts = arn.split(":")
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{parts[5].split('/')[1]}"
    return arn
