"""Stripe: the balance endpoint, read-only. A restricted key without access to it is answered
403 (it is live, only scoped), a revoked or unknown key 401. Shopify: the shop's own details,
at the one ``NAME.myshopify.com`` shop its file names (a token works only at its shop)."""

from __future__ import annotations

from scanner.verify.base import ERROR, INVALID, VERIFIED, Credential, Result, Verifier
from scanner.verify.context import subdomain_of
from scanner.verify.http import Request, Response, bearer, by_status, http_check, simple


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

SHOPIFY_HOSTS = ("*.myshopify.com",)


def _shopify_request(cred: Credential) -> Request:
    return Request("GET", f"{cred.context_text}.myshopify.com", "/admin/api/2024-10/shop.json",
                   {"X-Shopify-Access-Token": cred.text})


SHOPIFY = Verifier(
    name="shopify", provider="shopify",
    rule_ids=("shopify-access-token", "shopify-custom-app-access-token", "shopify-private-app-access-token"),
    hosts=SHOPIFY_HOSTS,
    request="GET https://SHOP.myshopify.com/admin/api/2024-10/shop.json (X-Shopify-Access-Token: …; SHOP: the one "
            "shop its file names)",
    check=http_check(_shopify_request, by_status(lambda r: f"shop {r.json()['shop']['name']}"), SHOPIFY_HOSTS),
    locate=subdomain_of(".myshopify.com"), locate_missing="needs its shop (one NAME.myshopify.com) in the same file")
