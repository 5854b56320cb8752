"""Chat, e-mail and SMS providers: Slack, Discord, Telegram, Twilio, SendGrid, Mailgun, Mailchimp.

None of these requests sends a message: Slack's ``auth.test`` and the bots' ``getMe``/``@me``
only name the token's owner, and a Slack webhook is sent an empty payload, which Slack refuses
before posting anything (``no_text`` means the webhook exists)."""

from __future__ import annotations

import re
from urllib.parse import quote

from scanner.verify.base import ERROR, INVALID, VERIFIED, Credential, Result, Unverifiable, Verifier
from scanner.verify.context import site_named
from scanner.verify.http import Request, Response, Site, basic, bearer, by_status, http_check, regional, simple

# Slack's documented errors for a token that does not (or no longer) work.
SLACK_DEAD = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive",
                        "no_permission", "org_login_required", "ekm_access_denied"})


def _slack(resp: Response) -> Result:
    body = resp.json() if resp.status == 200 else None
    if not isinstance(body, dict):
        return Result(ERROR, f"unexpected answer (HTTP {resp.status})")
    if body.get("ok") is True:
        return Result(VERIFIED, f"team {body.get('team', '?')}, user {body.get('user', '?')}")
    error = str(body.get("error", ""))
    return Result(INVALID if error in SLACK_DEAD else ERROR, f"auth.test: {error or 'not ok'}")


SLACK = Verifier(
    name="slack", provider="slack",
    rule_ids=("slack-bot-token", "slack-user-token", "slack-legacy-token", "slack-workspace-token"),
    hosts=("slack.com",), request="POST https://slack.com/api/auth.test (Authorization: Bearer …; names the token's team and user)",
    check=http_check(lambda c: Request("POST", "slack.com", "/api/auth.test", bearer(c.text)), _slack, ("slack.com",)))

_HOOK = re.compile(r"(?:https?://)?hooks\.slack\.com(/services/[A-Za-z0-9_/+-]{20,120})")
# What Slack answers a well-formed webhook whose payload is empty: it exists, nothing was posted.
_HOOK_ALIVE = ("no_text", "invalid_payload", "missing_text_or_fallback_or_attachments")


def _webhook_request(cred: Credential) -> Request:
    m = _HOOK.fullmatch(cred.text)
    if m is None:
        raise Unverifiable("not a Slack webhook URL")
    return Request("POST", "hooks.slack.com", m.group(1), {"Content-Type": "application/json"}, b"{}")


def _webhook(resp: Response) -> Result:
    text = resp.body[:200].decode("utf-8", "replace").strip()
    if resp.status == 400 and text in _HOOK_ALIVE:
        return Result(VERIFIED, f"webhook exists (empty payload refused: {text}; nothing posted)")
    if resp.status in (403, 404, 410):
        return Result(INVALID, f"rejected (HTTP {resp.status} {text[:40]})")
    return Result(ERROR, f"unexpected answer (HTTP {resp.status})")


SLACK_WEBHOOK = Verifier(
    name="slack-webhook", provider="slack", rule_ids=("slack-webhook-url",), hosts=("hooks.slack.com",),
    request="POST https://hooks.slack.com/services/… with the payload {} (refused before posting: 400 no_text = live)",
    check=http_check(_webhook_request, _webhook, ("hooks.slack.com",)))

DISCORD_BOT = simple(
    "discord-bot", "discord", ("discord-bot-token",), "discord.com", "/api/v10/users/@me",
    lambda c: {"Authorization": f"Bot {c.text}"}, "Authorization: Bot …",
    who=lambda r: f"bot {r.json()['username']} (id {r.json()['id']})")

_TELEGRAM = re.compile(r"[0-9]{5,16}:[A-Za-z0-9_-]{30,40}")


def _telegram_request(cred: Credential) -> Request:
    if not _TELEGRAM.fullmatch(cred.text):
        raise Unverifiable("not a Telegram bot token")
    return Request("GET", "api.telegram.org", f"/bot{cred.text}/getMe")


TELEGRAM_BOT = Verifier(
    name="telegram-bot", provider="telegram", rule_ids=("telegram-bot-token",), hosts=("api.telegram.org",),
    request="GET https://api.telegram.org/bot…/getMe (the token is part of the path, as the Bot API requires)",
    check=http_check(_telegram_request, by_status(lambda r: f"bot @{r.json()['result']['username']}",
                                                  bad=(401, 404)), ("api.telegram.org",)))

_SID = re.compile(r"AC[0-9a-f]{32}")


def _twilio_request(cred: Credential) -> Request:
    sid = cred.companion_text
    if not _SID.fullmatch(sid):
        raise Unverifiable("not a Twilio account SID")
    return Request("GET", "api.twilio.com", f"/2010-04-01/Accounts/{quote(sid)}.json", basic(sid, cred.text))


TWILIO = Verifier(
    name="twilio", provider="twilio", rule_ids=("twilio-auth-token",), companions=("twilio-account-sid",),
    hosts=("api.twilio.com",),
    request="GET https://api.twilio.com/2010-04-01/Accounts/{SID}.json (Basic auth: account SID + auth token)",
    check=http_check(_twilio_request, by_status(lambda r: f"account '{r.json()['friendly_name']}', {r.json()['status']}"),
                     ("api.twilio.com",)))

SENDGRID = simple(
    "sendgrid", "sendgrid", ("sendgrid-api-key",), "api.sendgrid.com", "/v3/scopes",
    lambda c: bearer(c.text), "Authorization: Bearer …", who=lambda r: f"{len(r.json()['scopes'])} scopes")

# A Mailgun account lives in the US or the EU region, and its key works at that region's API host
# only; a file that names the EU host (or MAILGUN_REGION=eu) says which.
MAILGUN_SITES = (Site("US", "api.mailgun.net"), Site("EU", "api.eu.mailgun.net"))
_MAILGUN_SITE = re.compile(rb"(?i)\bapi\.(eu\.)?mailgun\.net\b|\bMAILGUN_REGION\W{1,4}(eu|us)\b")

MAILGUN = regional(
    "mailgun", "mailgun", ("mailgun-private-api-key", "mailgun-api-key"), MAILGUN_SITES, "/v3/domains?limit=1",
    lambda c: basic("api", c.text), "Basic auth api:…", who=lambda r: f"{int(r.json()['total_count'])} domain(s)",
    locate=site_named(_MAILGUN_SITE, lambda m: "EU" if m.group(1) or (m.group(2) or b"").lower() == b"eu" else "US"))

# Mailchimp keys end in their data centre (``-us6``), which names the API host.
MAILCHIMP_HOSTS = tuple(f"us{n}.api.mailchimp.com" for n in range(1, 31))


def _mailchimp_request(cred: Credential) -> Request:
    dc = cred.text.rsplit("-", 1)[-1]
    host = f"{dc}.api.mailchimp.com"
    if host not in MAILCHIMP_HOSTS:
        raise Unverifiable("unknown Mailchimp data centre")
    return Request("GET", host, "/3.0/", basic("leakstop", cred.text))


MAILCHIMP = Verifier(
    name="mailchimp", provider="mailchimp", rule_ids=("mailchimp-api-key",), hosts=MAILCHIMP_HOSTS,
    request="GET https://usN.api.mailchimp.com/3.0/ (N: the key's data centre suffix; Basic auth)",
    check=http_check(_mailchimp_request, by_status(lambda r: f"account '{r.json()['account_name']}'"), MAILCHIMP_HOSTS))
