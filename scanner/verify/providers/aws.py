"""AWS access keys: STS GetCallerIdentity, signed with SigV4 by botocore, nothing else.

GetCallerIdentity needs no permission and changes nothing; it names the key's account and ARN.
The endpoint is the global ``https://sts.amazonaws.com`` unless boto3's standard settings
(``AWS_ENDPOINT_URL_STS``, else ``AWS_ENDPOINT_URL``) name another, which is honoured only when it
is loopback or listed in ``verify.allowed_endpoints``; anything else is refused, and the key is
not sent. The client is always given its endpoint explicitly, so no profile setting can move it.
"""

from __future__ import annotations

import ipaddress
from typing import Optional
from urllib.parse import urlsplit

from scanner.verify.base import ERROR, INVALID, UNKNOWN, VERIFIED, Context, Credential, Result, Retry, Unverifiable, Verifier

STS_HOST = "sts.amazonaws.com"
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL")
REJECTED = frozenset({"InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException",
                      "AuthFailure", "ExpiredToken", "InvalidAccessKeyId"})
THROTTLED = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"})


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint(ctx: Context) -> str:
    """The STS endpoint to use: the global one, or a configured one that is allowed."""
    if ctx.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return f"https://{STS_HOST}"
    for var in ENDPOINT_VARIABLES:
        url = ctx.environ.get(var, "").strip()
        if url:
            host = (urlsplit(url).hostname or "").lower()
            if loopback(host) or _allowed(url, host, ctx.allowed_endpoints):
                return url
            raise Unverifiable(f"{var} names {host or 'no host'}, which is neither loopback nor in "
                               "verify.allowed_endpoints: the key was not sent")
    return f"https://{STS_HOST}"


def _allowed(url: str, host: str, allowed: tuple[str, ...]) -> bool:
    return any(a.rstrip("/") == url.rstrip("/") or a.lower() == host for a in allowed)


def _client(key_id: str, secret: str, url: str, timeout: float):
    import botocore.config
    import botocore.session

    config = botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=timeout,
                                    read_timeout=timeout)
    return botocore.session.Session().create_client(
        "sts", region_name="us-east-1", endpoint_url=url, aws_access_key_id=key_id,
        aws_secret_access_key=secret, config=config)


def _check(cred: Credential, ctx: Context) -> Result:
    key_id = cred.companion_text
    if key_id.startswith("ASIA"):
        raise Unverifiable("a temporary key (ASIA…) needs its session token")
    from botocore import exceptions as bx

    try:
        got = _client(key_id, cred.text, endpoint(ctx), ctx.timeout).get_caller_identity()
    except bx.ClientError as exc:
        return _client_error(exc.response.get("Error", {}).get("Code", ""), exc)
    except (bx.ConnectTimeoutError, bx.ReadTimeoutError):
        raise TimeoutError from None
    except bx.EndpointConnectionError:
        return Result(ERROR, "network error: cannot connect to STS")
    return Result(VERIFIED, f"account {got.get('Account', '?')}, {got.get('Arn', '?')}")


def _client_error(code: str, exc: Exception) -> Result:
    if code in REJECTED:
        return Result(INVALID, f"rejected ({code})")
    if code in THROTTLED:
        raise Retry(f"throttled ({code})", None, UNKNOWN) from None
    status: Optional[int] = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    if status and status >= 500:
        raise Retry(f"HTTP {status}", None) from None
    return Result(ERROR, f"unexpected answer ({code or status})")


AWS = Verifier(
    name="aws", provider="aws", rule_ids=("aws-secret-access-key",), companions=("aws-access-key-id",),
    hosts=(STS_HOST,),
    request="POST https://sts.amazonaws.com/ Action=GetCallerIdentity (SigV4-signed by botocore; needs no permission)",
    check=_check)
