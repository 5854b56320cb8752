"""The executor: pairing parts of one credential, one request per distinct value, details that
never hold the value, the rate limit, the deadline, and 500 findings in bounded time."""

from __future__ import annotations

import time

from scanner.models import Finding
from scanner.verify import executor
from scanner.verify.base import VERIFIED, Credential, Result, Verifier
from scanner.verify.registry import VERIFIERS
from tests.conftest import IDENTITY
from tests.verify.cases import CASES, hexs, rand
from tests.verify.fakeprovider import Answer


def finding(rule_id: str, value: str, path: str = "app.py", line: int = 1) -> Finding:
    return Finding(rule_id=rule_id, provider="x", description="", severity="high", category="x", path=path,
                   line=line, column=1, end_column=2, masked="", fingerprint="", secret_hash="",
                   secret=value.encode())


def verify(findings, timeout: float = 5.0, verifiers=None) -> None:
    executor.verify_findings(findings, executor.Settings(timeout=timeout, cache_path=None), IDENTITY, verifiers)


def test_parts_of_a_credential_are_paired_within_a_file(fake):
    fake.ok, fake.bad = CASES["twilio"].ok, CASES["twilio"].bad
    token, sid = hexs(32), "AC" + hexs(32)
    fake.valid.add(token)
    pair = [finding("twilio-auth-token", token, line=3), finding("twilio-account-sid", sid, line=2)]
    lone_sid = finding("twilio-account-sid", "AC" + hexs(32), path="other.py")
    lone_token = finding("twilio-auth-token", hexs(32), path="third.py")
    verify([*pair, lone_sid, lone_token])
    assert [f.verification["status"] for f in pair] == ["verified", "verified"]
    assert lone_sid.verification == {"status": "unknown",
                                     "detail": "verified with its twilio-auth-token: none in the same file"}
    assert lone_token.verification["detail"] == "needs its twilio-account-sid in the same file"
    assert len(fake.seen) == 1 and fake.seen[0].carries(sid)


def test_one_request_per_distinct_value(fake):
    fake.ok = CASES["github"].ok
    token = "ghp_" + rand(36)
    fake.valid.add(token)
    found = [finding("github-pat-classic", token, path=f"f{i}.py") for i in range(40)]
    verify(found)
    assert len(fake.seen) == 1 and {f.verification["status"] for f in found} == {VERIFIED}


def test_a_detail_never_holds_the_value(fake):
    token = "ghp_" + rand(36)
    fake.ok = Answer(200, {"login": f"echo-{token}"})
    fake.valid.add(token)
    f = finding("github-pat-classic", token)
    verify([f])
    assert token not in f.verification["detail"] and "ghp_…" in f.verification["detail"]


def test_a_broken_verifier_is_an_error_not_a_crash():
    def boom(cred: Credential, ctx) -> Result:
        raise KeyError(cred.text)

    broken = Verifier("broken", "x", ("r",), ("example.invalid",), "nothing", boom)
    f = finding("r", "s3cr3t-value-xyz")
    verify([f], verifiers={"broken": broken})
    assert f.verification == {"status": "error", "detail": "verifier broken failed (KeyError)"}


def test_rate_limit_per_provider(fake):
    calls: list[float] = []

    def check(cred: Credential, ctx) -> Result:
        calls.append(time.monotonic())
        return Result(VERIFIED, "ok")

    slow = Verifier("paced", "paced", ("r",), ("example.invalid",), "nothing", check, rate=20.0)
    verify([finding("r", rand(30)) for _ in range(10)], verifiers={"paced": slow})
    assert calls[-1] - calls[0] >= 9 / 20.0 - 0.02


def test_the_whole_phase_ends_at_the_deadline(fake):
    fake.ok = CASES["github"].ok
    fake.script = [Answer(200, {"login": "x"}, delay=3.0)] * 30
    found = [finding("github-pat-classic", "ghp_" + rand(36)) for _ in range(30)]
    began = time.monotonic()
    verify(found, timeout=0.5)
    assert time.monotonic() - began < 2.0
    assert {f.verification["status"] for f in found} == {"unknown"}


def test_500_findings_over_every_provider_in_bounded_time(fake):
    names = sorted(n for n in CASES if VERIFIERS[n].locate is None)  # the others need a file
    for name in names:
        for host in VERIFIERS[name].hosts:
            fake.routes[host + CASES[name].path.split("?")[0]] = (CASES[name].ok, CASES[name].bad)
    found, expect = [], []
    for i in range(500):
        case = CASES[names[i % len(names)]]
        value = case.make()
        f = finding(VERIFIERS[names[i % len(names)]].rule_ids[0], value, path=f"f{i}.py")
        found.append(f)
        if case.companion:
            found.append(finding(VERIFIERS[names[i % len(names)]].companions[0], case.companion(), path=f"f{i}.py"))
        if i % 2 == 0:
            fake.valid.add(case.sent(value))
        expect.append((f, "verified" if i % 2 == 0 else case.bad_status))
    began = time.monotonic()
    verify(found, timeout=30)
    assert time.monotonic() - began < 15
    wrong = [(f.rule_id, f.verification) for f, want in expect if f.verification["status"] != want]
    assert not wrong, wrong[:3]
