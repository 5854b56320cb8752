"""Monitoring: Datadog (the documented key-validation endpoint), New Relic (NerdGraph, one
read-only query naming the key's user)."""

from __future__ import annotations

import json

from scanner.verify.base import ERROR, INVALID, VERIFIED, Result, Verifier
from scanner.verify.http import Request, Response, http_check, simple

DATADOG = simple(
    "datadog", "datadog", ("datadog-api-key",), "api.datadoghq.com", "/api/v1/validate",
    lambda c: {"DD-API-KEY": c.text}, "DD-API-KEY: … (US1 site)", who=lambda r: "valid" if r.json()["valid"] else "")

_NERDGRAPH_QUERY = json.dumps({"query": "{ actor { user { email } } }"}).encode()


def _newrelic(resp: Response) -> Result:
    body = resp.json() if resp.status == 200 else None
    user = (((body or {}).get("data") or {}).get("actor") or {}).get("user") if isinstance(body, dict) else None
    if user:
        return Result(VERIFIED, f"user {user.get('email', '?')}")
    if resp.status in (401, 403) or (isinstance(body, dict) and body.get("errors")):
        return Result(INVALID, f"rejected (HTTP {resp.status})")
    return Result(ERROR, f"unexpected answer (HTTP {resp.status})")


NEWRELIC = Verifier(
    name="newrelic", provider="newrelic", rule_ids=("newrelic-user-api-key",), hosts=("api.newrelic.com",),
    request="POST https://api.newrelic.com/graphql (API-Key: …; the read-only query { actor { user { email } } })",
    check=http_check(lambda c: Request("POST", "api.newrelic.com", "/graphql",
                                       {"API-Key": c.text, "Content-Type": "application/json"}, _NERDGRAPH_QUERY),
                     _newrelic, ("api.newrelic.com",)))
