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
                    Answer(401, "Forbidden"), "2 domain(s)"),
    "mailchimp": Case(lambda: hexs(32) + "-us6", "GET", "/3.0/", Answer(200, {"account_name": "Acme"}),
                      Answer(401, {"title": "API Key Invalid"}), "account 'Acme'"),
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
    "datadog": Case(lambda: hexs(32), "GET", "/api/v1/validate", Answer(200, {"valid": True}),
                    Answer(403, {"errors": ["Forbidden"]}), "valid"),
    "newrelic": Case(lambda: "NRAK-" + rand(27), "POST", "/graphql",
                     Answer(200, {"data": {"actor": {"user": {"email": "ops@acme.test"}}}}),
                     Answer(401, {"errors": [{"message": "Invalid API key"}]}), "user ops@acme.test"),
    "heroku": Case(lambda: "HRKU-" + rand(60), "GET", "/account", Answer(200, {"email": "ops@acme.test"}),
                   Answer(401, {"id": "unauthorized"}), "account ops@acme.test"),
    "google-api-key": Case(lambda: "AIza" + rand(35), "GET", "/books/v1/volumes", Answer(200, {"items": []}),
                           Answer(400, {"error": {"status": "INVALID_ARGUMENT",
                                                  "details": [{"reason": "API_KEY_INVALID"}]}}), "accepted"),
}
