"""The one HTTPS client verifiers use, and the helpers most of them are made of.

Every request goes to ``https://HOST:443`` with certificate checks on, where HOST is one of the
verifier's declared hosts (checked here, so a verifier cannot reach anywhere else). Nothing in
this module reads the environment or the configuration: the production endpoints are the
constants in each provider module. Tests reach their local fakes by replacing
:func:`_connection` in-process (tests/verify/conftest.py, and a ``sitecustomize`` hook that
only the tests put on the path); no switch of leakstop's own can do that.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping, Optional

from scanner.verify.base import ERROR, INVALID, UNKNOWN, VERIFIED, Context, Credential, Result, Retry, Verifier

if TYPE_CHECKING:
    from scanner.models import Finding

MAX_BODY = 1 << 20  # a verifier reads at most this much of an answer
USER_AGENT = "leakstop-verify"


@dataclass(frozen=True)
class Request:
    method: str
    host: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    body: Optional[bytes] = field(default=None, repr=False)


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None


def _connection(host: str, timeout: float) -> http.client.HTTPConnection:
    return http.client.HTTPSConnection(host, 443, timeout=timeout, context=ssl.create_default_context())


LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def host_allowed(host: str, hosts: tuple[str, ...]) -> bool:
    """``host`` is one of ``hosts``, or one DNS label under a ``*.suffix`` of them (a Shopify shop)."""
    return any(host == h or (h.startswith("*.") and host.endswith(h[1:]) and bool(LABEL.fullmatch(host[: -len(h) + 1])))
               for h in hosts)


def send(req: Request, hosts: tuple[str, ...], timeout: float) -> Response:
    """Make one request to one of ``hosts``; the answer's body is read up to MAX_BODY."""
    if not host_allowed(req.host, hosts):
        raise ValueError("a verifier asked for a host it does not declare")
    conn = _connection(req.host, timeout)
    try:
        conn.request(req.method, req.path, body=req.body, headers={"User-Agent": USER_AGENT, **req.headers})
        resp = conn.getresponse()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read(MAX_BODY))
    finally:
        conn.close()


def retry_after(resp: Response) -> Optional[float]:
    try:
        return max(0.0, float(resp.headers.get("retry-after", "")))
    except ValueError:
        return None


def transient(resp: Response) -> None:
    """Raise :class:`Retry` for an answer that may differ next time (429, 5xx)."""
    if resp.status == 429:
        raise Retry("rate limited (HTTP 429)", retry_after(resp), UNKNOWN)
    if resp.status >= 500:
        raise Retry(f"HTTP {resp.status}", retry_after(resp), ERROR)


Interpret = Callable[[Response], Result]


def http_check(build: Callable[[Credential], Request], interpret: Interpret, hosts: tuple[str, ...]):
    """A check that sends ``build(credential)`` and maps the answer with ``interpret``."""

    def check(cred: Credential, ctx: Context) -> Result:
        resp = send(build(cred), hosts, ctx.timeout)
        transient(resp)
        return interpret(resp)

    return check


Who = Callable[[Response], str]  # names the credential's owner from an accepted answer


def by_status(who: Optional[Who] = None, ok: tuple[int, ...] = (200,),
              bad: tuple[int, ...] = (401, 403)) -> Interpret:
    """The usual mapping: ``ok`` statuses are live (``who`` names the owner from the JSON body),
    ``bad`` ones are rejected, anything else is an error naming the status."""

    def interpret(resp: Response) -> Result:
        if resp.status in ok:
            return Result(VERIFIED, describe(who, resp))
        if resp.status in bad:
            return Result(INVALID, f"rejected (HTTP {resp.status})")
        return Result(ERROR, f"unexpected answer (HTTP {resp.status})")

    return interpret


def describe(who: Optional[Who], resp: Response) -> str:
    """``who(resp)``, or the status when the answer does not have what it expects."""
    if who is not None:
        try:
            text = who(resp)
        except (AttributeError, KeyError, TypeError, IndexError):
            text = ""
        if text:
            return text
    return f"accepted (HTTP {resp.status})"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(user: str, password: str) -> dict[str, str]:
    import base64

    raw = f"{user}:{password}".encode("utf-8")
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def get(host: str, path: str, headers: Callable[[Credential], Mapping[str, str]]) -> Callable[[Credential], Request]:
    """A request builder for ``GET https://host/path`` with headers made from the credential."""
    return lambda cred: Request("GET", host, path, headers(cred))


def simple(name: str, provider: str, rule_ids: tuple[str, ...], host: str, path: str,
           auth: Callable[[Credential], Mapping[str, str]], auth_text: str,
           who: Optional[Who] = None, interpret: Optional[Interpret] = None,
           method: str = "GET", rate: float = 20.0) -> Verifier:
    """The common shape: one request to one fixed URL, the credential in a header."""
    build = lambda cred: Request(method, host, path, auth(cred))  # noqa: E731
    return Verifier(name=name, provider=provider, rule_ids=rule_ids, hosts=(host,),
                    request=f"{method} https://{host}{path} ({auth_text})",
                    check=http_check(build, interpret or by_status(who), (host,)), rate=rate)


@dataclass(frozen=True)
class Site:
    label: str  # the provider's name for the region (US1, EU1...)
    host: str


def regional(name: str, provider: str, rule_ids: tuple[str, ...], sites: tuple[Site, ...], path: str,
             auth: Callable[[Credential], Mapping[str, str]], auth_text: str, who: Optional[Who],
             locate: Callable[["Finding"], bytes]) -> Verifier:
    """A provider whose keys each work at one regional API host, and the key does not say which:
    the site its file names (``locate`` returns its label), else each site in turn until one
    accepts it; ``invalid`` only when every site asked rejected it."""
    hosts = tuple(s.host for s in sites)
    interpret = by_status(who)

    def check(cred: Credential, ctx: Context) -> Result:
        order = [s for s in sites if s.label == cred.context_text] or list(sites)
        deadline = time.monotonic() + ctx.timeout
        for site in order:
            resp = send(Request("GET", site.host, path, auth(cred)), hosts, max(0.05, deadline - time.monotonic()))
            transient(resp)
            result = interpret(resp)
            if result.status != INVALID:
                return Result(result.status, f"{result.detail} ({site.label} site)")
        where = f"the {order[0].label} site its file names" if len(order) == 1 else f"all {len(order)} sites"
        return Result(INVALID, f"rejected (HTTP {resp.status}) at {where}")

    return Verifier(name=name, provider=provider, rule_ids=rule_ids, hosts=hosts,
                    request=f"GET https://{sites[0].host}{path} ({auth_text}; the site its file names, else "
                            f"each site in turn until one accepts: {', '.join(s.label for s in sites)})",
                    check=check, locate=locate)


def graphql(name: str, provider: str, rule_ids: tuple[str, ...], host: str, header: str, query: str,
            path: tuple[str, ...], prefix: str = "") -> Verifier:
    """One read-only GraphQL query to ``https://host/graphql``, the token in ``header``; live when
    ``data`` holds ``path`` (its ``email`` names the owner), rejected on 400/401/403 or ``errors``."""
    body = json.dumps({"query": query}).encode()

    def interpret(resp: Response) -> Result:
        data = resp.json() if resp.status == 200 else None
        node = data.get("data") if isinstance(data, dict) else None
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node:
            return Result(VERIFIED, f"user {node.get('email', '?')}")
        if resp.status in (400, 401, 403) or (isinstance(data, dict) and data.get("errors")):
            return Result(INVALID, f"rejected (HTTP {resp.status})")
        return Result(ERROR, f"unexpected answer (HTTP {resp.status})")

    build = lambda c: Request("POST", host, "/graphql", {header: prefix + c.text, "Content-Type": "application/json"},  # noqa: E731
                              body)
    return Verifier(name=name, provider=provider, rule_ids=rule_ids, hosts=(host,),
                    request=f"POST https://{host}/graphql ({header}: …; the read-only query {query})",
                    check=http_check(build, interpret, (host,)))
