"""Monitoring: Datadog (the documented key-validation endpoint), New Relic (NerdGraph, one
read-only query naming the key's user)."""

from __future__ import annotations

from scanner.verify.http import graphql, simple

DATADOG = simple(
    "datadog", "datadog", ("datadog-api-key",), "api.datadoghq.com", "/api/v1/validate",
    lambda c: {"DD-API-KEY": c.text}, "DD-API-KEY: … (US1 site)", who=lambda r: "valid" if r.json()["valid"] else "")

NEWRELIC = graphql("newrelic", "newrelic", ("newrelic-user-api-key",), "api.newrelic.com", "API-Key",
                   "{ actor { user { email } } }", ("actor", "user"))
