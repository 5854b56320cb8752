"""For each verifier: a credential of its provider's shape (random at run time), what the
provider documents for a live and a dead one, and what the finding's detail should then say."""

from __future__ import annotations

import base64
import secrets
import string
from dataclasses import dataclass
from typing import Callable, Optional

from tests.verify.fakeprovider import Answer

ALNUM = string.ascii_letters + string.digits


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def hexs(n: int) -> str:
    return rand(n, "0123456789abcdef")


@dataclass(frozen=True)
class Case:
    make: Callable[[], str]
    method: str
    path: str  # the start of the path the provider's API is called at
    ok: Answer
    bad: Answer
    detail: str  # in the detail of a verified finding
    companion: Optional[Callable[[], str]] = None
    bad_status: str = "invalid"
    sent: Callable[[str], str] = lambda value: value  # the part of the value the request carries
    context: Optional[Callable[[], str]] = None  # what the verifier's locator would find in the file


def _docker_auth() -> str:
    return base64.b64encode(f"user{rand(4)}:{rand(20)}".encode()).decode()


CASES: dict[str, Case] = {
    "github": Case(lambda: "ghp_" + rand(36), "GET", "/user",
                   Answer(200, {"login": "octocat"}, {"X-OAuth-Scopes": "repo, gist"}),
                   Answer(401, {"message": "Bad credentials"}), "login octocat, scopes repo, gist"),
    "github-app-installation": Case(lambda: "ghs_" + rand(36), "GET", "/installation/repositories",
                                    Answer(200, {"total_count": 3, "repositories": []}),
                                    Answer(401, {"message": "Bad credentials"}), "access to 3 repositories"),
    "gitlab": Case(lambda: "glpat-" + rand(20), "GET", "/api/v4/personal_access_tokens/self",
                   Answer(200, {"name": "ci", "scopes": ["api", "read_user"], "active": True}),
                   Answer(401, {"message": "401 Unauthorized"}), "token 'ci', scopes api,read_user"),
    "slack": Case(lambda: f"xoxb-{rand(12, string.digits)}-{rand(24)}", "POST", "/api/auth.test",
                  Answer(200, {"ok": True, "team": "Acme", "user": "deploybot"}),
                  Answer(200, {"ok": False, "error": "invalid_auth"}), "team Acme, user deploybot"),
    "slack-webhook": Case(lambda: f"https://hooks.slack.com/services/T{rand(8)}/B{rand(8)}/{rand(24)}", "POST",
                          "/services/", Answer(400, "no_text"), Answer(404, "no_service"), "webhook exists",
                          sent=lambda url: url.split("hooks.slack.com", 1)[1]),
    "discord-bot": Case(lambda: f"{rand(24)}.{rand(6)}.{rand(27)}", "GET", "/api/v10/users/@me",
                        Answer(200, {"id": "42", "username": "modbot"}), Answer(401, {"message": "401: Unauthorized"}),
                        "bot modbot (id 42)"),
    "telegram-bot": Case(lambda: f"{rand(9, string.digits)}:A{rand(34)}", "GET", "/bot",
                         Answer(200, {"ok": True, "result": {"username": "acme_bot"}}),
                         Answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"}), "bot @acme_bot"),
    "twilio": Case(lambda: hexs(32), "GET", "/2010-04-01/Accounts/AC",
                   Answer(200, {"friendly_name": "Acme", "status": "active"}), Answer(401, {"code": 20003}),
                   "account 'Acme', active", companion=lambda: "AC" + hexs(32)),
    "sendgrid": Case(lambda: f"SG.{rand(22)}.{rand(43)}", "GET", "/v3/scopes",
                     Answer(200, {"scopes": ["mail.send", "user.profile.read"]}),
                     Answer(401, {"errors": [{"message": "authorization required"}]}), "2 scopes"),
    "mailgun": Case(lambda: "key-" + hexs(32), "GET", "/v3/domains", Answer(200, {"total_count": 2, "items": []}),
                    Answer(401, "Forbidden"), "2 domain(s)", context=lambda: "US"),
    "mailchimp": Case(lambda: hexs(32) + "-us6", "GET", "/3.0/", Answer(200, {"account_name": "Acme"}),
                      Answer(401, {"title": "API Key Invalid"}), "account 'Acme'"),
    "shopify": Case(lambda: "shpat_" + hexs(32), "GET", "/admin/api/2024-10/shop.json",
                    Answer(200, {"shop": {"name": "Acme Store"}}), Answer(401, {"errors": "[API] Invalid API key"}),
                    "shop Acme Store", context=lambda: "acme-" + hexs(6)),
    "stripe": Case(lambda: "sk_live_" + rand(24), "GET", "/v1/balance", Answer(200, {"object": "balance", "livemode": True}),
                   Answer(401, {"error": {"type": "invalid_request_error"}}), "live mode"),
    "openai": Case(lambda: "sk-proj-" + rand(48), "GET", "/v1/models", Answer(200, {"data": [{}, {}, {}]}),
                   Answer(401, {"error": {"code": "invalid_api_key"}}), "3 models visible"),
    "anthropic": Case(lambda: "sk-ant-api03-" + rand(93), "GET", "/v1/models", Answer(200, {"data": []}),
                      Answer(401, {"type": "error", "error": {"type": "authentication_error"}}), "accepted (HTTP 200)"),
    "huggingface": Case(lambda: "hf_" + rand(34), "GET", "/api/whoami-v2", Answer(200, {"name": "alice"}),
                        Answer(401, {"error": "Invalid credentials"}), "user alice"),
    "npm": Case(lambda: "npm_" + rand(36), "GET", "/-/whoami", Answer(200, {"username": "alice"}),
                Answer(401, {"error": "unauthorized"}), "user alice"),
    "pypi": Case(lambda: "pypi-AgEIcHlwaS5vcmc" + rand(70), "POST", "/legacy/",
                 Answer(400, "Invalid value for metadata_version"),
                 Answer(403, "Invalid or non-existent authentication information"), "token accepted"),
    "dockerhub": Case(_docker_auth, "GET", "/token?service=registry.docker.io", Answer(200, {"token": "x"}),
                      Answer(401, {"details": "incorrect username or password"}), "accepted (HTTP 200)"),
    "dockerhub-pat": Case(lambda: "dckr_pat_" + rand(27), "GET", "/token?service=registry.docker.io",
                          Answer(200, {"token": "x"}), Answer(401, {"details": "incorrect username or password"}),
                          "user ci", context=lambda: "ci" + rand(6, string.ascii_lowercase + string.digits)),
    "datadog": Case(lambda: hexs(32), "GET", "/api/v1/validate", Answer(200, {"valid": True}),
                    Answer(403, {"errors": ["Forbidden"]}), "valid", context=lambda: "US1"),
    "newrelic": Case(lambda: "NRAK-" + rand(27), "POST", "/graphql",
                     Answer(200, {"data": {"actor": {"user": {"email": "ops@acme.test"}}}}),
                     Answer(401, {"errors": [{"message": "Invalid API key"}]}), "user ops@acme.test"),
    "heroku": Case(lambda: "HRKU-" + rand(60), "GET", "/account", Answer(200, {"email": "ops@acme.test"}),
                   Answer(401, {"id": "unauthorized"}), "account ops@acme.test"),
    "google-api-key": Case(lambda: "AIza" + rand(35), "GET", "/books/v1/volumes", Answer(200, {"items": []}),
                           Answer(400, {"error": {"status": "INVALID_ARGUMENT",
                                                  "details": [{"reason": "API_KEY_INVALID"}]}}), "accepted"),
}


def _simple(path: str, ok_body, detail: str, method: str = "GET", bad_status: int = 401) -> Case:
    """A provider answering 200 with ``ok_body`` for a live token, ``bad_status`` otherwise."""
    return Case(lambda: rand(40), method, path, Answer(200, ok_body), Answer(bad_status, {"error": "unauthorized"}),
                detail)


CASES.update({
    "linear": Case(lambda: "lin_api_" + rand(40), "POST", "/graphql",
                   Answer(200, {"data": {"viewer": {"email": "dev@acme.test"}}}),
                   Answer(400, {"errors": [{"extensions": {"code": "AUTHENTICATION_ERROR"}}]}), "user dev@acme.test"),
    "notion": _simple("/v1/users/me", {"object": "user", "name": "Sync"}, "bot Sync"),
    "airtable": _simple("/v0/meta/whoami", {"id": "usrABC"}, "user usrABC"),
    "asana": _simple("/api/1.0/users/me", {"data": {"name": "Ann"}}, "user Ann"),
    "digitalocean": _simple("/v2/account", {"account": {"email": "ops@acme.test"}}, "account ops@acme.test"),
    "cloudflare": _simple("/client/v4/user/tokens/verify", {"result": {"status": "active"}}, "token active",
                          bad_status=400),
    "fastly": _simple("/current_user", {"login": "ops@acme.test"}, "user ops@acme.test", bad_status=403),
    "vercel": _simple("/v2/user", {"user": {"username": "ann"}}, "user ann", bad_status=403),
    "netlify": _simple("/api/v1/user", {"email": "ann@acme.test"}, "user ann@acme.test"),
    "sentry": _simple("/api/0/organizations/", [{"slug": "acme"}], "1 organization(s)"),
    "pagerduty": _simple("/abilities", {"abilities": ["sso", "teams"]}, "2 abilities"),
    "square": _simple("/v2/merchants/me", {"merchant": {"business_name": "Acme"}}, "merchant Acme"),
    "postman": _simple("/me", {"user": {"username": "ann"}}, "user ann"),
    "figma": _simple("/v1/me", {"handle": "ann"}, "user ann", bad_status=403),
    "dropbox": _simple("/2/users/get_current_account", {"email": "ann@acme.test"}, "account ann@acme.test", "POST"),
    "mapbox": _simple("/tokens/v2?access_token=", {"code": "TokenValid"}, "TokenValid"),
    "doppler": _simple("/v3/me", {"name": "ci"}, "token ci"),
    "circleci": _simple("/api/v2/me", {"login": "ann"}, "user ann"),
    "buildkite": _simple("/v2/access-token", {"scopes": ["read_builds"]}, "scopes read_builds"),
    "snyk": _simple("/rest/self", {"data": {"attributes": {"username": "ann"}}}, "user ann"),
    "pulumi": _simple("/api/user", {"githubLogin": "ann"}, "user ann"),
    "intercom": _simple("/me", {"email": "ann@acme.test"}, "admin ann@acme.test"),
    "typeform": _simple("/me", {"alias": "ann"}, "user ann", bad_status=403),
    "honeycomb": _simple("/1/auth", {"team": {"name": "acme"}}, "team acme"),
    "postmark": _simple("/server", {"Name": "prod"}, "server prod"),
    "brevo": _simple("/v3/account", {"email": "ann@acme.test"}, "account ann@acme.test"),
    "launchdarkly": _simple("/api/v2/caller-identity", {"tokenName": "ci"}, "token ci"),
    "groq": _simple("/openai/v1/models", {"data": []}, "accepted (HTTP 200)"),
    "mistral": _simple("/v1/models", {"data": []}, "accepted (HTTP 200)"),
    "replicate": _simple("/v1/account", {"username": "ann"}, "user ann"),
    "elevenlabs": _simple("/v1/user", {"subscription": {}}, "accepted (HTTP 200)"),
    "deepseek": _simple("/user/balance", {"is_available": True}, "accepted (HTTP 200)"),
    "xai": _simple("/v1/api-key", {"name": "prod"}, "key 'prod'"),
    "openrouter": _simple("/api/v1/key", {"data": {"label": "dev"}}, "key 'dev'"),
    "together": _simple("/v1/models", [], "accepted (HTTP 200)"),
})
