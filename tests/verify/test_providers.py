"""Every HTTP verifier against a local fake of its provider: live, revoked, rate-limited, 5xx,
slow. The request must go to a declared host, with the declared method and path, carrying the
value; the detail must never hold it."""

from __future__ import annotations

import time

import pytest

from scanner.verify import executor
from scanner.verify.base import Credential
from scanner.verify.cache import Cache
from scanner.verify.http import host_allowed
from scanner.verify.jobs import Job
from scanner.verify.registry import VERIFIERS
from tests.conftest import IDENTITY
from tests.verify.cases import CASES, Case
from tests.verify.fakeprovider import Answer

# Verifiers tested elsewhere against a real server of their kind.
ELSEWHERE = {"aws": "tests/verify/test_aws.py (moto)", "postgresql": "tests/verify/test_databases.py",
             "redis": "tests/verify/test_databases.py", "azure-storage": "tests/verify/test_azure.py",
             "mysql": "tests/verify/test_mysql.py (MariaDB)", "mongodb": "tests/verify/test_mongodb.py"}


def check(name: str, cred: Credential, timeout: float = 5.0):
    job = Job(VERIFIERS[name], cred)
    settings = executor.Settings(timeout=timeout, cache_path=None)
    return executor.run([job], settings, Cache(None), IDENTITY)[0]


def credential(case: Case) -> Credential:
    return Credential(case.make().encode(), case.companion().encode() if case.companion else b"",
                      case.context().encode() if case.context else b"")


def test_every_verifier_has_a_fake():
    assert set(VERIFIERS) - set(ELSEWHERE) == set(CASES)


def _prime(fake, case: Case, valid: bool) -> Credential:
    cred = credential(case)
    fake.ok, fake.bad = case.ok, case.bad
    if valid:
        fake.valid.add(case.sent(cred.text))
    return cred


@pytest.mark.parametrize("name", sorted(CASES))
def test_live_credential_is_verified_with_who_it_belongs_to(fake, name):
    case = CASES[name]
    cred = _prime(fake, case, valid=True)
    result = check(name, cred)
    assert (result.status, case.detail in result.detail) == ("verified", True), result.detail
    assert cred.text not in result.detail
    (seen,) = fake.seen
    assert host_allowed(seen.host, VERIFIERS[name].hosts)
    assert (seen.method, seen.path.startswith(case.path)) == (case.method, True), seen.path
    assert seen.carries(case.sent(cred.text))
    if cred.companion:
        assert seen.carries(cred.companion_text)


@pytest.mark.parametrize("name", sorted(CASES))
def test_revoked_credential_is_invalid(fake, name):
    case = CASES[name]
    result = check(name, _prime(fake, case, valid=False))
    assert result.status == case.bad_status, result.detail
    assert len(fake.seen) == 1


@pytest.mark.parametrize("name", sorted(CASES))
def test_rate_limited_answer_is_retried(fake, name):
    case = CASES[name]
    cred = _prime(fake, case, valid=True)
    fake.script = [Answer(429, {"error": "slow down"}, {"Retry-After": "0"})]
    assert check(name, cred).status == "verified"
    assert len(fake.seen) == 2


@pytest.mark.parametrize("name", sorted(CASES))
def test_server_errors_retried_then_reported(fake, name):
    case = CASES[name]
    cred = _prime(fake, case, valid=True)
    fake.script = [Answer(503, "unavailable")] * executor.MAX_ATTEMPTS
    result = check(name, cred)
    assert (result.status, result.detail) == ("error", f"HTTP 503, {executor.MAX_ATTEMPTS} attempt(s)")
    assert len(fake.seen) == executor.MAX_ATTEMPTS


@pytest.mark.parametrize("name", sorted(CASES))
def test_slow_provider_does_not_stall_past_the_timeout(fake, name):
    case = CASES[name]
    cred = _prime(fake, case, valid=True)
    fake.script = [Answer(200, case.ok.body, case.ok.headers, delay=3.0)]
    began = time.monotonic()
    result = check(name, cred, timeout=0.2)
    assert time.monotonic() - began < 2.0  # the deadline (0.2 s) and its grace, not the 3 s answer
    assert result.status == "unknown", result.detail
