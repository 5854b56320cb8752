"""Stripe: the balance endpoint, read-only. A restricted key without access to it is answered
403 (it is live, only scoped), a revoked or unknown key 401."""

from __future__ import annotations

from scanner.verify.base import ERROR, INVALID, VERIFIED, Result
from scanner.verify.http import Response, bearer, simple


def _stripe(resp: Response) -> Result:
    if resp.status == 200:
        body = resp.json() or {}
        return Result(VERIFIED, "live mode" if body.get("livemode") else "accepted (test mode)")
    if resp.status == 403:
        return Result(VERIFIED, "restricted key: accepted, without access to the balance")
    if resp.status == 401:
        return Result(INVALID, "rejected (HTTP 401)")
    return Result(ERROR, f"unexpected answer (HTTP {resp.status})")


STRIPE = simple(
    "stripe", "stripe", ("stripe-live-secret-key", "stripe-restricted-key", "stripe-test-secret-key"),
    "api.stripe.com", "/v1/balance", lambda c: bearer(c.text), "Authorization: Bearer …", interpret=_stripe)
