"""Developer and business SaaS APIs whose check is one GET (or one read-only query) naming the
token's owner: each answers 200 for a live token and 401/403 for a dead one, unless noted."""

from __future__ import annotations

from scanner.verify.base import Verifier
from scanner.verify.http import Request, Response, bearer, by_status, graphql, http_check, simple

BEARER = "Authorization: Bearer …"


def _header(name: str):
    return lambda c: {name: c.text}


def _json_path(*keys: str, label: str = ""):
    """A ``who`` reading ``body[k1][k2]...``."""

    def who(resp: Response) -> str:
        value = resp.json()
        for k in keys:
            value = value[k]
        return f"{label}{value}" if value not in (None, "") else ""

    return who


LINEAR = graphql("linear", "linear", ("linear-api-key",), "api.linear.app", "Authorization", "{ viewer { email } }",
                 ("viewer",))
NOTION = simple(
    "notion", "notion", ("notion-integration-token", "notion-secret-token"), "api.notion.com", "/v1/users/me",
    lambda c: {**bearer(c.text), "Notion-Version": "2022-06-28"}, BEARER, who=_json_path("name", label="bot "))
AIRTABLE = simple(
    "airtable", "airtable", ("airtable-personal-access-token",), "api.airtable.com", "/v0/meta/whoami",
    lambda c: bearer(c.text), BEARER, who=_json_path("id", label="user "))
ASANA = simple(
    "asana", "asana", ("asana-personal-access-token",), "app.asana.com", "/api/1.0/users/me",
    lambda c: bearer(c.text), BEARER, who=_json_path("data", "name", label="user "))
DIGITALOCEAN = simple(
    "digitalocean", "digitalocean", ("digitalocean-pat", "digitalocean-oauth-token"), "api.digitalocean.com",
    "/v2/account", lambda c: bearer(c.text), BEARER, who=_json_path("account", "email", label="account "))
CLOUDFLARE = simple(
    "cloudflare", "cloudflare", ("cloudflare-api-token",), "api.cloudflare.com", "/client/v4/user/tokens/verify",
    lambda c: bearer(c.text), BEARER,
    interpret=by_status(_json_path("result", "status", label="token "), bad=(400, 401, 403)))
FASTLY = simple(
    "fastly", "fastly", ("fastly-api-token",), "api.fastly.com", "/current_user", _header("Fastly-Key"),
    "Fastly-Key: …", who=_json_path("login", label="user "))
VERCEL = simple(
    "vercel", "vercel", ("vercel-access-token",), "api.vercel.com", "/v2/user", lambda c: bearer(c.text), BEARER,
    who=_json_path("user", "username", label="user "))
NETLIFY = simple(
    "netlify", "netlify", ("netlify-access-token", "netlify-pat"), "api.netlify.com", "/api/v1/user",
    lambda c: bearer(c.text), BEARER, who=_json_path("email", label="user "))
SENTRY = simple(
    "sentry", "sentry", ("sentry-org-token", "sentry-user-token", "sentry-access-token"), "sentry.io",
    "/api/0/organizations/", lambda c: bearer(c.text), BEARER,
    who=lambda r: f"{len(r.json())} organization(s)")
PAGERDUTY = simple(
    "pagerduty", "pagerduty", ("pagerduty-api-key",), "api.pagerduty.com", "/abilities",
    lambda c: {"Authorization": f"Token token={c.text}", "Accept": "application/vnd.pagerduty+json;version=2"},
    "Authorization: Token token=…", who=lambda r: f"{len(r.json()['abilities'])} abilities")
SQUARE = simple(
    "square", "square", ("square-access-token",), "connect.squareup.com", "/v2/merchants/me",
    lambda c: bearer(c.text), BEARER, who=_json_path("merchant", "business_name", label="merchant "))
POSTMAN = simple(
    "postman", "postman", ("postman-api-key",), "api.getpostman.com", "/me", _header("X-Api-Key"), "X-Api-Key: …",
    who=_json_path("user", "username", label="user "))
FIGMA = simple(
    "figma", "figma", ("figma-personal-access-token",), "api.figma.com", "/v1/me", _header("X-Figma-Token"),
    "X-Figma-Token: …", who=_json_path("handle", label="user "))
DROPBOX = simple(
    "dropbox", "dropbox", ("dropbox-long-lived-token", "dropbox-short-lived-token"), "api.dropboxapi.com",
    "/2/users/get_current_account", lambda c: bearer(c.text), BEARER + "; no arguments",
    who=_json_path("email", label="account "), method="POST")


def _mapbox_request(cred) -> Request:
    from urllib.parse import quote

    return Request("GET", "api.mapbox.com", f"/tokens/v2?access_token={quote(cred.text, safe='')}")


MAPBOX = Verifier(
    name="mapbox", provider="mapbox", rule_ids=("mapbox-secret-token",), hosts=("api.mapbox.com",),
    request="GET https://api.mapbox.com/tokens/v2?access_token=… (the token in the query, as Mapbox's token API requires)",
    check=http_check(_mapbox_request, by_status(_json_path("code")), ("api.mapbox.com",)))
DOPPLER = simple(
    "doppler", "doppler", ("doppler-api-token",), "api.doppler.com", "/v3/me", lambda c: bearer(c.text), BEARER,
    who=_json_path("name", label="token "))
CIRCLECI = simple(
    "circleci", "circleci", ("circleci-personal-token", "circleci-api-token"), "circleci.com", "/api/v2/me",
    _header("Circle-Token"), "Circle-Token: …", who=_json_path("login", label="user "))
BUILDKITE = simple(
    "buildkite", "buildkite", ("buildkite-api-token",), "api.buildkite.com", "/v2/access-token",
    lambda c: bearer(c.text), BEARER, who=lambda r: f"scopes {','.join(r.json()['scopes'])}")
SNYK = simple(
    "snyk", "snyk", ("snyk-api-token",), "api.snyk.io", "/rest/self?version=2024-06-10",
    lambda c: {"Authorization": f"token {c.text}"}, "Authorization: token …",
    who=_json_path("data", "attributes", "username", label="user "))
PULUMI = simple(
    "pulumi", "pulumi", ("pulumi-api-token",), "api.pulumi.com", "/api/user",
    lambda c: {"Authorization": f"token {c.text}", "Accept": "application/vnd.pulumi+8"}, "Authorization: token …",
    who=_json_path("githubLogin", label="user "))
INTERCOM = simple(
    "intercom", "intercom", ("intercom-access-token",), "api.intercom.io", "/me", lambda c: bearer(c.text), BEARER,
    who=_json_path("email", label="admin "))
TYPEFORM = simple(
    "typeform", "typeform", ("typeform-api-token",), "api.typeform.com", "/me", lambda c: bearer(c.text), BEARER,
    who=_json_path("alias", label="user "))
HONEYCOMB = simple(
    "honeycomb", "honeycomb", ("honeycomb-api-key",), "api.honeycomb.io", "/1/auth", _header("X-Honeycomb-Team"),
    "X-Honeycomb-Team: …", who=_json_path("team", "name", label="team "))
POSTMARK = simple(
    "postmark", "postmark", ("postmark-server-token",), "api.postmarkapp.com", "/server",
    lambda c: {"X-Postmark-Server-Token": c.text, "Accept": "application/json"}, "X-Postmark-Server-Token: …",
    who=_json_path("Name", label="server "))
BREVO = simple(
    "brevo", "brevo", ("sendinblue-api-key",), "api.brevo.com", "/v3/account", _header("api-key"), "api-key: …",
    who=_json_path("email", label="account "))
LAUNCHDARKLY = simple(
    "launchdarkly", "launchdarkly", ("launchdarkly-access-token",), "app.launchdarkly.com",
    "/api/v2/caller-identity", lambda c: {"Authorization": c.text}, "Authorization: …",
    who=_json_path("tokenName", label="token "))
