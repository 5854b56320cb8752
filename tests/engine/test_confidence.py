"""Confidence signals (scanner.engine.confidence): each signal, the thresholds, scan-wide signals,
and the promises the README makes (a real token in a test stays reported; a token whose checksum
does not verify is not)."""

from __future__ import annotations

import random
import re
import string

import pytest

from scanner import models
from scanner.config import Config
from scanner.engine import Engine
from scanner.engine import confidence as conf
from scanner.engine import entropy
from scanner.engine.confidence import Evidence, assess, judge, level, rescore
from scanner.errors import LeakstopError
from scanner.models import Chunk, Finding, guessable
from scanner.rules import load_rules, rule_files
from tests.conftest import ROOT
from tests.engine.test_checksums import crc62_token, jwt_token, rand, tamper

RULES = {r.id: r for r in load_rules(rule_files())}
ENGINE = Engine(Config(), rules=list(RULES.values()), backend="keywords")


def scan(path: str, text: str) -> list[Finding]:
    return ENGINE.scan(Chunk(path=path, data=text.encode()))


def only(path: str, text: str, rule_id: str) -> Finding:
    found = [f for f in scan(path, text) if f.rule_id == rule_id]
    assert len(found) == 1, [(f.rule_id, f.masked) for f in found]
    return found[0]


def ev(rule_id: str, value: str, path: str = "app/settings.py", key=None, **kw) -> Evidence:
    return Evidence(RULES[rule_id], value.encode(), path, key, **kw)


def random_token(n: int = 32) -> str:
    """A random value with a digit, an upper and a lower case letter, not (by a rare chance) one
    that reads as words: the tests below must not flake."""
    while True:
        v = rand(n)
        if re.search(r"\d", v) and re.search("[A-Z]", v) and re.search("[a-z]", v) and Evidence(
            RULES["generic-token-alnum"], v.encode(), "a.py"
        ).random:
            return v


# -- levels and thresholds -----------------------------------------------------------------------


@pytest.mark.parametrize("score, expected", [(-10, "low"), (-1, "low"), (0, "medium"), (2, "medium"),
                                             (3, "high"), (9, "high")])
def test_level_thresholds(score, expected):
    assert conf.HIGH == 3 and conf.MEDIUM == 0
    assert level(score) == expected


def test_at_least_filters_by_level():
    fs = [Finding("r", "p", "d", "high", "c", "a", 1, 1, 2, "m…", str(i), str(i), confidence=c)
          for i, c in enumerate(["low", "medium", "high"])]
    assert [f.confidence for f in conf.at_least(fs, "low")[0]] == ["low", "medium", "high"]
    assert conf.at_least(fs, "medium") == (fs[1:], 1)
    assert conf.at_least(fs, "high") == (fs[2:], 2)


# -- each signal ---------------------------------------------------------------------------------


def test_checksum_signals():
    token = crc62_token("ghp_")
    assert conf.checksum_valid(ev("github-pat-classic", token)) == 3
    assert conf.checksum_invalid(ev("github-pat-classic", token)) == 0
    assert conf.checksum_invalid(ev("github-pat-classic", tamper(token), path="tests/test_api.py")) == -10
    assert conf.checksum_invalid(ev("github-pat-classic", tamper(token), path="deploy/settings.py")) == -1
    assert conf.checksum_valid(ev("github-pat-classic", tamper(token))) == 0


def test_structure_signals():
    good = jwt_token({"alg": "RS256"}, {"sub": rand(6)})
    assert conf.structure_valid(ev("jwt", good)) == 1
    bad = "eyJhbGciOi" + rand(24) + ".eyJ" + rand(20)
    assert conf.structure_invalid(ev("jwt", bad, path="tests/auth_test.go")) == -4
    assert conf.structure_invalid(ev("jwt", bad)) == -1 and conf.structure_valid(ev("jwt", bad)) == 0


def test_format_signals():
    assert conf.token_format(ev("github-pat-classic", crc62_token("ghp_"))) == 2
    assert conf.named_format(ev("github-pat-classic", crc62_token("ghp_"))) == 0
    assert conf.named_format(ev("url-credentials", "deploy:" + random_token(12))) == 1
    assert conf.token_format(ev("generic-token-alnum", random_token())) == 0
    assert conf.named_format(ev("generic-token-alnum", random_token())) == 0


def test_random_value():
    assert conf.random_value(ev("generic-token-alnum", random_token())) == 1
    hex_digits = list("0123456789abcdef")  # every digit twice, shuffled: random, whatever the draw
    value = "".join(random.sample(hex_digits, 16) + random.sample(hex_digits, 16))
    assert conf.random_value(ev("generic-token-alnum", value)) == 1
    assert conf.random_value(ev("generic-token-alnum", "aaaaaaaaaaaaaaaab")) == 0
    assert conf.random_value(ev("generic-token-alnum", "FlowEntryToken")) == 0  # words


@pytest.mark.parametrize("value", ["FlowEntryToken", "DeferredRefreshableCredentials", "kafka:GetClusterPolicy",
                                   "s3_disable_express_session_auth", "UpdateExprSyntaxError"])
def test_word_like_identifiers(value):
    assert conf.word_like(value.encode())
    assert conf.word_like_value(ev("generic-token-alnum", value, key="token")) == -3


@pytest.mark.parametrize("value", ["hunter2", "cafebabe:deadbeef", "Xq7pLm2Rz9"])
def test_not_word_like(value):
    assert not conf.word_like(value.encode())


def test_word_like_is_rare_for_random_values():
    hits = sum(conf.word_like(random_token(n).encode()) for n in (8, 12, 16, 24, 32) for _ in range(400))
    assert hits <= 20  # under 1% of 2,000


def test_the_words_signal_almost_never_sinks_a_random_key():
    # A seeded draw (the same 6,000 keys every run): word_like called 0.6-0.75% of random 12-24
    # character keys words, and the signal took -3 off keys of every rule it judges (an AWS
    # secret access key among them); the signal asks spelled, which chance passes under 0.1%.
    rng = random.Random(20261130)
    alphabet = string.ascii_letters + string.digits
    keys = [("".join(rng.choice(alphabet) for _ in range(n))) for n in (12, 16, 20, 24, 32, 40) for _ in range(1000)]
    sunk = [k for k in keys if conf.word_like_value(ev("generic-token-alnum", k, key="token")) == -3]
    assert len(sunk) <= 6  # 0.1%
    assert sum(conf.word_like(k.encode()) for k in keys) > 3 * len(sunk) + 10  # what the old test let through


@pytest.mark.parametrize("value, common, pairs", [("FlowEntryToken", 10, 11), ("password", 6, 7)])
def test_spelled_weighs_the_evidence_of_few_pairs(value, common, pairs):
    assert conf.word_like(value.encode(), min_words=1)
    assert entropy._pair_counts(value.encode(), 1) == (pairs, common)
    assert entropy.spelled(value.encode(), min_words=1) == (value == "FlowEntryToken")  # 6 of 7: chance 0.2%


def test_word_like_spares_passwords_and_prefixed_tokens():
    # People choose passwords from words; a provider prefix is evidence of its own.
    assert conf.word_like_value(ev("generic-password-quoted", "CorrectHorseBattery", key="password")) == 0
    assert conf.word_like_value(ev("gitlab-pat", "glpat-helloWorldTesting_Things")) == 0


@pytest.mark.parametrize("key, weight", [("DB_PASSWORD", 1), ("client_secret", 1), ("STRIPE_API_KEY", 1),
                                         ("privateKey", 1), ("token", 0), ("auth", 0), ("key", 0), ("pass", 0)])
def test_credential_name(key, weight):
    assert conf.credential_name(ev("generic-token-alnum", random_token(), key=key)) == weight


def test_credential_name_of_keyless_generic_rule_and_provider_names():
    assert conf.credential_name(ev("generic-password-xml", "Rk8!pq2LzX")) == 1
    # "1password" is a provider's name, not a password field.
    assert conf.credential_name(ev("1password-service-account-token", "ops_eyJ" + rand(120))) == 0


@pytest.mark.parametrize("value, weight", [("test-secret", -3), ("supersecret", -3), ("password123", -1),
                                           ("mysecret" + rand(8, string.digits), -1), (random_token(), 0)])
def test_placeholder_like(value, weight):
    assert conf.placeholder_like(ev("generic-password-quoted", value, key="password")) == weight


def test_placeholder_reads_the_password_of_userinfo():
    assert conf.placeholder_like(ev("url-credentials", "admin:pass")) == -3
    assert conf.placeholder_like(ev("url-credentials", "pass:" + random_token(14))) == 0


@pytest.mark.parametrize("path", ["tests/test_app.py", "spec/models/user_spec.rb", "src/__tests__/a.js",
                                  "pkg/client_test.go", "src/FooTest.java", "docs/setup.md", "README.rst",
                                  "examples/app.py", ".env.example", "config/settings.sample.yaml",
                                  "botocore/data/s3/examples-1.json", "testdata/x.json"])
def test_example_paths(path):
    assert conf.is_example_path(path)
    assert conf.example_location(ev("generic-password-quoted", "kjfhkjsdfh", path, key="password")) == -2


@pytest.mark.parametrize("path", ["app/settings.py", "src/contest.py", "lib/testing_utils/x.py".replace("testing_", ""),
                                  "deploy/prod.env", "attest/main.go"])
def test_not_example_paths(path):
    assert not conf.is_example_path(path)


def test_random_value_in_a_test_keeps_its_confidence():
    assert conf.example_location(ev("generic-password-quoted", random_token(), "tests/test_x.py", key="password")) == 0


@pytest.mark.parametrize("after, weight", [(b"@example.com/path", -2), (b"@db.example.org:5432", -2),
                                           (b"@api.test/", -2), (b"@host.invalid", -2), (b"@db.internal:5432", 0),
                                           (b"@example.community", 0), (b"@localhost", 0)])
def test_reserved_domain(after, weight):
    assert conf.reserved_domain(ev("url-credentials", "u:" + random_token(12), after=after)) == weight


@pytest.mark.parametrize("before, after, inside", [
    (b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo+", b"", True),  # a line of base64, the value at its end
    (b"sr219L/7M7hBCWdhPzSgIIIAAAuMC/", b"+gr7nABMW7COAAIIIIAAAgggg", True),  # inside an inlined image
    (b"token = '", b"'", False),
    (b"messagebirdToken=", b"", False),
    (b"https://api.telegram.org/bot", b"/sendMessage", False),  # a URL path, not a blob
    (b"", b"", False),
])
def test_encoded_blob(before, after, inside):
    assert conf.inside_base64(before, after) is inside
    assert conf.encoded_blob(ev("facebook-access-token", "EAAC" + rand(40), before=before, after=after)) == (
        -4 if inside else 0)


@pytest.mark.parametrize("before, key, weight", [(b'"checksum": "', None, -3), (b'"HealthCheckId": "', None, -3),
                                                  (b"etag = '", None, -3), (b"", "content_hash", -3),
                                                  (b'"api_token": "', None, 0)])
def test_non_secret_name(before, key, weight):
    assert conf.non_secret_name(ev("generic-token-hex", rand(32, "0123456789abcdef"), key=key, before=before)) == weight


def test_non_secret_name_leaves_provider_rules_alone():
    # The rule chose the field (an app id that is the credential) or the value has a prefix.
    assert conf.non_secret_name(ev("wolfram-app-id", rand(6) + "-" + rand(10), key="WOLFRAM_APPID")) == 0
    assert conf.non_secret_name(ev("aws-access-key-id", "AKIA" + rand(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
                                   before=b"aws_access_key_id = ")) == 0


def test_minified():
    e = ev("generic-token-alnum", random_token(), "static/app.min.js", key="token")
    assert conf.minified(e) == -3
    assert conf.minified(ev("generic-token-alnum", random_token(), "app.js", key="token", line_length=5000)) == -3
    assert conf.minified(ev("generic-token-alnum", random_token(), "app.js", key="token", line_length=80)) == 0
    # Provider tokens in bundles are real leaks (frontend keys): not judged by this.
    assert conf.minified(ev("github-pat-classic", crc62_token("ghp_"), "app.min.js")) == 0


def test_documented_example():
    sample = jwt_token({"alg": "HS256", "typ": "JWT"}, {"sub": "1234567890", "name": "John Doe", "iat": 1516239022})
    assert conf.documented_example(ev("jwt", sample, path="docs/auth.md")) == -5
    assert conf.documented_example(ev("jwt", sample)) == -2
    assert conf.documented_example(ev("jwt", jwt_token({"alg": "HS256"}, {"sub": rand(8)}))) == 0


def test_assess_lists_only_signals_that_apply():
    signals = assess(ev("github-pat-classic", crc62_token("ghp_")))
    assert signals == {"checksum_valid": 3, "token_format": 2, "random_value": 1}
    assert all(signals.values())


def test_signals_are_pure():
    e = ev("generic-password-quoted", "supersecret", "tests/test_a.py", key="password")
    assert assess(e) == assess(e) == assess(ev("generic-password-quoted", "supersecret", "tests/test_a.py", key="password"))


# -- findings from the engine --------------------------------------------------------------------


def test_engine_sets_confidence_and_signals():
    token = crc62_token("ghp_")
    f = only("app/config.py", f'GITHUB_TOKEN = "{token}"\n', "github-pat-classic")
    assert f.confidence == "high" and f.signals["checksum_valid"] == 3
    d = f.to_dict()
    assert d["confidence"] == "high" and d["confidence_signals"] == f.signals


def test_a_valid_token_holding_a_placeholder_word_is_reported():
    """The placeholder filter drops values containing "todo", "fake", ...; a token whose checksum
    verifies was issued, whatever letters chance put in it."""
    from tests.fakes import with_crc32

    token = with_crc32("ghp_", "tODo" + rand(26))
    assert only("app/config.py", f'GITHUB_TOKEN = "{token}"\n', "github-pat-classic").confidence == "high"
    assert not [f for f in scan("app/config.py", f'GITHUB_TOKEN = "{tamper(token)}"\n') if f.rule_id == "github-pat-classic"]


def test_broken_checksum_is_low_in_tests_and_docs():
    """A token whose checksum does not verify was never issued: in tests and docs an example."""
    token = tamper(crc62_token("ghp_"))
    for path in ("tests/test_config.py", "README.md", "docs/setup.rst"):
        assert only(path, f'GITHUB_TOKEN = "{token}"\n', "github-pat-classic").confidence == "low"


def test_broken_checksum_elsewhere_is_reported_below_high():
    """Outside tests and docs it is still reported (medium), never high: a valid one is high."""
    token = crc62_token("ghp_")
    for path in ("app/config.py", "deploy/.env"):
        f = only(path, f'GITHUB_TOKEN = "{tamper(token)}"\n', "github-pat-classic")
        assert f.confidence == "medium" and f.signals["checksum_invalid"] == -1
        assert only(path, f'GITHUB_TOKEN = "{token}"\n', "github-pat-classic").confidence == "high"


@pytest.mark.parametrize("path", ["tests/test_billing.py", "spec/billing_spec.rb", "docs/billing.md"])
def test_real_token_in_a_test_stays_reported(path):
    """People commit live keys in tests: a random provider token there stays medium or high."""
    token = crc62_token("ghp_")
    assert only(path, f'token = "{token}"\n', "github-pat-classic").confidence == "high"
    stripe = "sk_live_" + random_token(24)
    assert only(path, f'stripe.api_key = "{stripe}"\n', "stripe-live-secret-key").confidence in ("medium", "high")
    password = random_token(24)  # in Markdown prose only a token-shaped (high-entropy) value counts
    assert only(path, f'password = "{password}"\n', "generic-password-quoted").confidence == "medium"


@pytest.mark.parametrize("text, rule_id", [
    ('password = "supersecret1"\n', "generic-password-quoted"),
    ('client = Client(api_secret="my-test-secret-1")\n', "generic-secret-quoted"),
    ('db = connect("postgres://app:password123@db.internal:5432/app")\n', "postgresql-uri-password"),
    ('REDIS_URL = "redis://cache:supersecret9@redis.internal:6379/0"\n', "redis-uri-password"),
])
def test_fixture_values_in_tests_are_low(text, rule_id):
    assert only("test/integration/test_client.py", text, rule_id).confidence == "low"


def test_weak_password_in_a_production_connection_string_is_reported():
    f = only("config/database.py", 'DATABASE_URL = "postgres://app:password123@db.internal:5432/app"\n',
             "postgresql-uri-password")
    assert f.confidence == "medium"


def test_documentation_host_lowers_confidence():
    """Credentials for a host reserved for documentation (RFC 2606 .test) count against it; a random
    password keeps it reported, a weak one is not. (example.com userinfo is dropped by a filter.)"""
    f = only("app/mailer.py", f'URL = "https://relay:{random_token(14)}@mail.test/inbound"\n', "url-credentials")
    assert f.signals["reserved_domain"] == -2 and f.confidence == "medium"
    e = ev("url-credentials", "relay:" + "s3cret99", after=b"@mail.test/inbound")
    assert conf.reserved_domain(e) == -2


# -- scan-wide signals ---------------------------------------------------------------------------


def fixture_findings(paths: list[str], value: str) -> list[Finding]:
    out = []
    for p in paths:
        out += [f for f in scan(p, f'SECRET_KEY = "{value}"\n') if f.rule_id == "generic-secret-quoted"]
    return out


def test_shared_fixture_across_test_files():
    value = random_token(40)
    fs = rescore(fixture_findings(["test/a_test.rb", "test/b_test.rb", "app/config.rb"], value))
    assert all(f.signals.get("shared_fixture") == -3 and f.confidence == "low" for f in fs)


def test_one_test_file_is_not_a_shared_fixture():
    fs = rescore(fixture_findings(["test/a_test.rb", "app/config.rb"], random_token(40)))
    assert all("shared_fixture" not in f.signals and f.confidence == "medium" for f in fs)


def test_three_places_in_one_test_file_are_a_fixture():
    value = random_token(40)
    text = "".join(f'SECRET_KEY{i} = "{value}"\n' for i in range(3))
    fs = rescore(f for f in scan("test/a_test.rb", text) if f.rule_id == "generic-secret-quoted")
    assert len(fs) == 3 and all(f.confidence == "low" for f in fs)


def test_rescore_is_idempotent_and_recomputes():
    value = random_token(40)
    fs = fixture_findings(["test/a_test.rb", "test/b_test.rb"], value)
    once = [(f.confidence, dict(f.signals)) for f in rescore(fs)]
    assert [(f.confidence, dict(f.signals)) for f in rescore(fs)] == once
    # Alone again (a later diff that adds only one of them), the scan-wide signal is gone.
    [alone] = rescore(fs[:1])
    assert "shared_fixture" not in alone.signals and alone.confidence == "medium"


def test_history_findings_count_their_path_list():
    value = random_token(40)
    [f] = fixture_findings(["test/a_test.rb"], value)
    f.extra["path_list"] = ["test/a_test.rb", "test/b_test.rb"]
    [f] = rescore([f])
    assert f.signals["shared_fixture"] == -3 and f.confidence == "low"


def test_judge_counts_what_it_hides():
    token = tamper(crc62_token("ghp_"))
    fs = scan("tests/test_x.py", f't = "{token}"\nAWS = "AKIAZ5QW2XHC7RJK3MNB"\n')
    kept, below = judge(fs)
    assert [f.rule_id for f in kept] == ["aws-access-key-id"] and below == 1
    kept, below = judge(fs, "low")
    assert len(kept) == 2 and below == 0


# -- identities left to the judging step (Engine(defer_below=...)) -------------------------------


def weak_password() -> str:
    """A password a person might choose (words and digits): guessable, so identifying it costs a
    scrypt stretch; low in a test file, medium in application code."""
    rng = random.SystemRandom()
    while True:
        v = (rng.choice(["Winter", "Summer", "Autumn", "Spring"])
             + rng.choice(["garden", "dragon", "monkey", "purple", "orange", "castle"])
             + str(rng.randrange(10, 100)) + rng.choice("!?#%"))
        if guessable(v.encode()):
            return v


@pytest.fixture(scope="module")
def deferring() -> Engine:
    """An engine told the default reporting floor, under the same key as ENGINE (which identifies
    every finding when it makes it)."""
    return Engine(Config(), rules=list(RULES.values()), backend="keywords", identity=ENGINE.identity,
                  defer_below=conf.DEFAULT_MIN)


@pytest.fixture
def stretches(monkeypatch) -> list[int]:
    """One entry per scrypt call from here on."""
    calls: list[int] = []
    real = models.hashlib.scrypt
    monkeypatch.setattr(models.hashlib, "scrypt", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    return calls


def weak_findings(engine: Engine, paths: list[str], value: str) -> list[Finding]:
    return [f for p in paths for f in engine.scan(Chunk(path=p, data=f'SECRET_KEY = "{value}"\n'.encode()))]


def test_a_weak_value_below_the_floor_is_stretched_only_when_kept(deferring, stretches):
    value = weak_password()
    [f] = weak_findings(deferring, ["test/a_test.rb"], value)
    assert f.confidence == "low" and not f.identified and f.fingerprint == f.secret_hash == ""
    assert judge([f]) == ([], 1) and not f.identified
    assert stretches == []  # nothing reported, nothing stretched
    [kept], below = judge([f], "low", deferring.identity)
    assert below == 0 and len(stretches) == 1
    # (computed apart: an assertion's report shows the arguments of calls inside it)
    ident = ENGINE.identity
    fingerprint, value_hash = ident.fingerprint(kept.rule_id, value.encode()), ident.value_hash(value.encode())
    assert (kept.fingerprint, kept.secret_hash) == (fingerprint, value_hash)


def test_findings_above_the_floor_are_identified_when_made(deferring):
    [f] = weak_findings(deferring, ["app/config.rb"], weak_password())
    [eager] = weak_findings(ENGINE, ["app/config.rb"], f.secret.decode())
    assert f.confidence == "medium" and (f.fingerprint, f.secret_hash) == (eager.fingerprint, eager.secret_hash) != ("", "")


def test_unidentified_findings_share_a_fixture_with_identified_ones_of_their_value(deferring):
    """The value in two test files (below the floor: unidentified) and in application code
    (identified): one group, as if all were identified, so the application one is a fixture too."""
    value = weak_password()
    paths = ["app/config.rb", "test/a_test.rb", "test/b_test.rb"]
    fs = weak_findings(deferring, paths, value)
    assert [f.identified for f in fs] == [True, False, False]
    eager = rescore(weak_findings(ENGINE, paths, value))
    fs = rescore(fs)
    assert all(f.signals.get("shared_fixture") == -3 and f.confidence == "low" for f in fs)
    assert [(f.confidence, f.signals) for f in fs] == [(f.confidence, f.signals) for f in eager]
    # Apart, each unidentified value is its own group: one test file is no shared fixture.
    other = weak_findings(deferring, ["test/c_test.rb"], weak_password())
    assert "shared_fixture" not in rescore(other)[0].signals


def test_judge_identifies_what_a_scan_wide_signal_raises_past_the_floor(deferring, monkeypatch):
    """Scan-wide signals only lower a level today; were one to raise a finding the engine left
    unidentified, judge still identifies what it keeps: no reported finding lacks a fingerprint."""
    value = weak_password()
    fs = weak_findings(deferring, ["test/a_test.rb"], value)
    monkeypatch.setitem(conf.SCAN_SIGNALS, "raises", lambda o: 5)
    [kept], below = judge(fs, conf.DEFAULT_MIN, deferring.identity)
    fingerprint = ENGINE.identity.fingerprint(kept.rule_id, value.encode())
    assert kept.confidence == "high" and kept.fingerprint == fingerprint


def test_judge_without_an_identity_fails_loudly_on_an_unidentified_finding(deferring):
    fs = weak_findings(deferring, ["test/a_test.rb"], weak_password())
    with pytest.raises(LeakstopError, match="internal error"):
        judge(fs, "low")
    assert not fs[0].identified


def test_unidentified_findings_are_not_grouped_with_findings_that_lost_their_values(deferring):
    """A history finding keeps only its hashes: whether it holds the same value as an unidentified
    finding cannot be told, so such lists must never be judged together."""
    value = weak_password()
    [shown] = weak_findings(ENGINE, ["app/config.rb"], value)
    shown.secret = b""
    with pytest.raises(LeakstopError, match="internal error"):
        rescore([shown, *weak_findings(deferring, ["test/a_test.rb"], value)])


# -- the README's table is the registry ----------------------------------------------------------


def readme_signals() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("\n## Confidence\n"):]
    section = section[: section.index("\n## ", 1)]
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| ([^|]+) \|", section, re.M)}


def signal_samples() -> dict[str, list]:
    """For each signal, evidence that fires it with each of its weights."""
    ghp = crc62_token("ghp_")
    rnd = random_token(24)
    jwt_io = jwt_token({"alg": "HS256"}, {"sub": "1234567890", "name": "John Doe"})
    return {
        "checksum_valid": [ev("github-pat-classic", ghp)],
        "checksum_invalid": [ev("github-pat-classic", tamper(ghp)), ev("github-pat-classic", tamper(ghp), path="docs/api.md")],
        "structure_valid": [ev("jwt", jwt_token({"alg": "HS256"}, {"sub": "x"}))],
        "structure_invalid": [ev("jwt", "eyJhbGciOi" + rand(20) + ".eyJ" + rand(20)),
                              ev("jwt", "eyJhbGciOi" + rand(20) + ".eyJ" + rand(20), path="spec/jwt_spec.rb")],
        "token_format": [ev("github-pat-classic", ghp)],
        "named_format": [ev("url-credentials", "u:" + rnd)],
        "random_value": [ev("generic-token-alnum", rnd)],
        "word_like": [ev("generic-token-alnum", "FlowEntryToken", key="token")],
        "credential_name": [ev("generic-token-alnum", rnd, key="api_key")],
        "placeholder_like": [ev("generic-password-quoted", "password123", key="password"),
                             ev("generic-password-quoted", "test-secret", key="password")],
        "example_location": [ev("generic-password-quoted", "kjfhkjsdfh", "tests/test_a.py", key="password")],
        "encoded_blob": [ev("facebook-access-token", "EAAC" + rand(30), before=b"AAAA+", after=b"+AAAA")],
        "non_secret_name": [ev("generic-token-hex", rand(32, "0123456789abcdef"), key="checksum")],
        "reserved_domain": [ev("url-credentials", "u:" + rnd, after=b"@example.com")],
        "minified": [ev("generic-token-alnum", rnd, "a.min.js", key="token")],
        "documented_example": [ev("jwt", jwt_io), ev("jwt", jwt_io, path="README.md")],
    }


def readme_weights(cell: str) -> set[int]:
    return {int(w.replace("−", "-")) for w in re.findall(r"[+−]\d+", cell)}


def test_readme_lists_every_signal_with_its_weight():
    table = readme_signals()
    assert set(table) == set(conf.SIGNALS) | set(conf.SCAN_SIGNALS)
    for name, samples in signal_samples().items():
        assert {conf.SIGNALS[name](e) for e in samples} == readme_weights(table[name]), name
    assert readme_weights(table["shared_fixture"]) == {conf.shared_fixture(conf.Occurrences(2, 2))}
    text = (ROOT / "README.md").read_text()
    assert f"high: {conf.HIGH} or more; medium: {conf.MEDIUM} to {conf.HIGH - 1}; low: below {conf.MEDIUM}" in text
