"""Providers whose keys work at one regional API host (Datadog sites, Mailgun's US and EU): the
site the key's file names is asked alone; without one, each site in turn until one accepts, and
the key is invalid only when all of them reject it."""

from __future__ import annotations

import pytest

from scanner.verify.base import Credential
from scanner.verify.providers.messaging import MAILGUN, MAILGUN_SITES
from scanner.verify.providers.monitoring import DATADOG, DATADOG_SITES
from tests.verify.cases import CASES, hexs
from tests.verify.test_executor import finding
from tests.verify.test_providers import check

PROVIDERS = {"datadog": DATADOG_SITES, "mailgun": MAILGUN_SITES}


def accepted_at(fake, name: str, host: str, key: str) -> None:
    case = CASES[name]
    fake.ok, fake.bad = case.ok, case.bad
    fake.judge = lambda seen: seen.host == host and seen.carries(key)


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_a_key_of_another_region_is_found_there_without_a_named_site(fake, name):
    sites = PROVIDERS[name]
    key = CASES[name].make()
    accepted_at(fake, name, sites[1].host, key)  # the EU site
    r = check(name, Credential(key.encode()))
    assert (r.status, r.detail.endswith(f"({sites[1].label} site)")) == ("verified", True), r.detail
    assert [s.host for s in fake.seen] == [sites[0].host, sites[1].host]


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_invalid_only_when_every_site_rejects(fake, name):
    sites = PROVIDERS[name]
    accepted_at(fake, name, "nowhere.test", "-")
    r = check(name, Credential(CASES[name].make().encode()))
    assert (r.status, r.detail.endswith(f"at all {len(sites)} sites")) == ("invalid", True), r.detail
    assert [s.host for s in fake.seen] == [s.host for s in sites]


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_the_named_site_alone_is_asked(fake, name):
    sites = PROVIDERS[name]
    key = CASES[name].make()
    accepted_at(fake, name, sites[0].host, key)  # live at US, but the file says EU
    r = check(name, Credential(key.encode(), context=sites[1].label.encode()))
    assert r.status == "invalid" and f"the {sites[1].label} site its file names" in r.detail, r.detail
    assert [s.host for s in fake.seen] == [sites[1].host]


@pytest.mark.parametrize("text, site", [
    ("DD_SITE=datadoghq.eu\nDD_API_KEY={key}\n", "EU1"),
    ("DD_SITE: us3.datadoghq.com\nDD_API_KEY: {key}\n", "US3"),
    ("url = 'https://api.us5.datadoghq.com/api/v1/series'\ndatadog_api_key = '{key}'\n", "US5"),
    ("DD_SITE=ddog-gov.com\nDD_API_KEY={key}\n", "US1-FED"),
    ("DD_SITE=datadoghq.com\nDD_API_KEY={key}\n", "US1"),
    ("DD_API_KEY={key}\n", ""),
    ("# eu: datadoghq.eu, us: datadoghq.com\nDD_API_KEY={key}\n", ""),  # two sites: neither chosen
])
def test_datadog_site_from_the_file(tmp_path, text, site):
    key = hexs(32)
    path = tmp_path / "env"
    path.write_text(text.format(key=key))
    assert DATADOG.locate(finding("datadog-api-key", key, str(path))) == site.encode()


@pytest.mark.parametrize("text, site", [
    ("MAILGUN_API_KEY={key}\nMAILGUN_API_BASE=https://api.eu.mailgun.net/v3\n", "EU"),
    ("MAILGUN_REGION=eu\nMAILGUN_API_KEY={key}\n", "EU"),
    ("MAILGUN_API_KEY={key}\nMAILGUN_API_BASE=https://api.mailgun.net/v3\n", "US"),
    ("MAILGUN_API_KEY={key}\n", ""),
])
def test_mailgun_region_from_the_file(tmp_path, text, site):
    key = "key-" + hexs(32)
    path = tmp_path / "env"
    path.write_text(text.format(key=key))
    assert MAILGUN.locate(finding("mailgun-api-key", key, str(path))) == site.encode()
