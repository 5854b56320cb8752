"""Monitoring: Datadog (the documented key-validation endpoint, at the key's site), New Relic
(NerdGraph, one read-only query naming the key's user)."""

from __future__ import annotations

import re

from scanner.verify.context import site_named
from scanner.verify.http import Site, graphql, regional

# A Datadog key works at its organisation's site only. A file that sets DD_SITE (or names a site's
# host) says which; the first match from the left names the most specific site (us3. before datadoghq.com).
DATADOG_SITES = (Site("US1", "api.datadoghq.com"), Site("EU1", "api.datadoghq.eu"), Site("US3", "api.us3.datadoghq.com"),
                 Site("US5", "api.us5.datadoghq.com"), Site("AP1", "api.ap1.datadoghq.com"),
                 Site("AP2", "api.ap2.datadoghq.com"), Site("US1-FED", "api.ddog-gov.com"))
_DD_SITE = re.compile(rb"(?i)\b(?:(us3|us5|ap1|ap2)\.)?datadoghq\.(com|eu)\b|\bddog-gov\.com\b")


def _dd_label(m: re.Match) -> str:
    if m.group(2) is None:
        return "US1-FED"
    if m.group(2).lower() == b"eu":
        return "EU1"
    return m.group(1).decode().upper() if m.group(1) else "US1"


DATADOG = regional(
    "datadog", "datadog", ("datadog-api-key",), DATADOG_SITES, "/api/v1/validate", lambda c: {"DD-API-KEY": c.text},
    "DD-API-KEY: …", who=lambda r: "valid" if r.json()["valid"] else "", locate=site_named(_DD_SITE, _dd_label))

NEWRELIC = graphql("newrelic", "newrelic", ("newrelic-user-api-key",), "api.newrelic.com", "API-Key",
                   "{ actor { user { email } } }", ("actor", "user"))
