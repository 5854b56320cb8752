"""Every verifier, by name: the registry ``--verify`` and ``verify --list-endpoints`` read.

Adding a provider is one verifier in a module under ``scanner/verify/providers`` (or a new one),
one line here, and its test against a local fake (tests/verify/).
"""

from __future__ import annotations

from scanner.verify.base import Verifier
from scanner.verify.providers import (ai, ai_more, aws, azure, cloud, databases, messaging, mongodb, monitoring,
                                      mysql, payments, registries, saas, vcs)

VERIFIERS: dict[str, Verifier] = {
    "aws": aws.AWS,
    "azure-storage": azure.STORAGE,
    "github": vcs.GITHUB,
    "github-app-installation": vcs.GITHUB_APP,
    "gitlab": vcs.GITLAB,
    "slack": messaging.SLACK,
    "slack-webhook": messaging.SLACK_WEBHOOK,
    "discord-bot": messaging.DISCORD_BOT,
    "telegram-bot": messaging.TELEGRAM_BOT,
    "twilio": messaging.TWILIO,
    "sendgrid": messaging.SENDGRID,
    "mailgun": messaging.MAILGUN,
    "mailchimp": messaging.MAILCHIMP,
    "stripe": payments.STRIPE,
    "shopify": payments.SHOPIFY,
    "openai": ai.OPENAI,
    "anthropic": ai.ANTHROPIC,
    "huggingface": ai.HUGGINGFACE,
    "npm": registries.NPM,
    "pypi": registries.PYPI,
    "dockerhub": registries.DOCKERHUB,
    "dockerhub-pat": registries.DOCKERHUB_PAT,
    "datadog": monitoring.DATADOG,
    "newrelic": monitoring.NEWRELIC,
    "heroku": cloud.HEROKU,
    "google-api-key": cloud.GOOGLE_API_KEY,
    "linear": saas.LINEAR,
    "notion": saas.NOTION,
    "airtable": saas.AIRTABLE,
    "asana": saas.ASANA,
    "digitalocean": saas.DIGITALOCEAN,
    "cloudflare": saas.CLOUDFLARE,
    "fastly": saas.FASTLY,
    "vercel": saas.VERCEL,
    "netlify": saas.NETLIFY,
    "sentry": saas.SENTRY,
    "pagerduty": saas.PAGERDUTY,
    "square": saas.SQUARE,
    "postman": saas.POSTMAN,
    "figma": saas.FIGMA,
    "dropbox": saas.DROPBOX,
    "mapbox": saas.MAPBOX,
    "doppler": saas.DOPPLER,
    "circleci": saas.CIRCLECI,
    "buildkite": saas.BUILDKITE,
    "snyk": saas.SNYK,
    "pulumi": saas.PULUMI,
    "intercom": saas.INTERCOM,
    "typeform": saas.TYPEFORM,
    "honeycomb": saas.HONEYCOMB,
    "postmark": saas.POSTMARK,
    "brevo": saas.BREVO,
    "launchdarkly": saas.LAUNCHDARKLY,
    "groq": ai_more.GROQ,
    "mistral": ai_more.MISTRAL,
    "replicate": ai_more.REPLICATE,
    "elevenlabs": ai_more.ELEVENLABS,
    "deepseek": ai_more.DEEPSEEK,
    "xai": ai_more.XAI,
    "openrouter": ai_more.OPENROUTER,
    "together": ai_more.TOGETHER,
    "postgresql": databases.POSTGRES,
    "redis": databases.REDIS,
    "mysql": mysql.MYSQL,
    "mongodb": mongodb.MONGODB,
}

OWN_HOST = "(the server named in the URI)"


def shown_hosts(v: Verifier) -> list[str]:
    return [OWN_HOST] if v.own_host else list(v.hosts)


def endpoint_lines(verifiers: dict[str, Verifier] = VERIFIERS) -> list[str]:
    """One line per verifier: name, provider, the hosts it contacts, the request it makes."""
    return [f"{name}\t{v.provider}\t{','.join(shown_hosts(v))}\t{v.request}" for name, v in sorted(verifiers.items())]


def markdown_table(verifiers: dict[str, Verifier] = VERIFIERS) -> str:
    """The verifier table of docs/verification.md (a test checks the file holds exactly this)."""
    rows = ["| verifier | provider | rules | host(s) | request |", "|---|---|---|---|---|"]
    for name, v in sorted(verifiers.items()):
        rules = ", ".join(f"`{r}`" for r in v.rule_ids)
        if v.companions:
            rules += " with " + ", ".join(f"`{r}`" for r in v.companions)
        hosts = OWN_HOST if v.own_host else ", ".join(f"`{h}`" for h in v.hosts)
        rows.append(f"| {name} | {v.provider} | {rules} | {hosts} | {v.request.replace('|', '/')} |")
    return "\n".join(rows) + "\n"
