"""Each false-positive filter is a pure predicate, tested on its own."""

from __future__ import annotations

import pytest

from scanner.engine import filters as F
from scanner.rules import Rule
from tests import strategies as S

SPECIFIC = Rule(id="x-token", name="x", provider="x", regex=r"(?P<secret>x)", keywords=("x",), severity="high",
                rotation="r", examples=("x",), negative_examples=("y",))
GENERIC = Rule(id="generic-x", name="x", provider="generic", regex=r"(?P<secret>x)", keywords=("x",),
               severity="medium", rotation="r", examples=("x",), negative_examples=("y",), generic=True)


def cand(value: str, rule=SPECIFIC, path="src/app.py", line=None, at=None) -> F.Candidate:
    text = (line or value).encode()
    return F.Candidate(rule, value.encode(), F.Line(text), path, at=text.find(value.encode()) if at is None else at)


@pytest.mark.parametrize("value", ["xxxxxxxxxxxxxxxx", "changeme", "<your-api-key>", "YOUR_TOKEN_HERE", "sk_live_xxxx1234", "xoxp-5723-####################",
                                   "********", "REDACTED", "dummy-password-1", "password", "example-key-9f8e7d"])
def test_placeholder_rejects(value):
    assert F.placeholder(cand(value))


@pytest.mark.parametrize("value", ["ghp_4Fh2kLq9ZxW8mN3bV7cR1tY6uI0oP5aS2dE9", "Tr0ub4dor&3-horse-staple"])
def test_placeholder_keeps_real_values(value):
    assert not F.placeholder(cand(value))


@pytest.mark.parametrize("value", ["${DB_PASSWORD}", "{{ vault_token }}", "%(password)s", "$API_KEY", "<%= ENV['X'] %>",
                                   "#{secret}", "$(cat /run/secrets/key)", "%TOKEN%"])
def test_template(value):
    assert F.template(cand(value))


def test_template_keeps_dollar_inside_real_value():
    assert not F.template(cand("aB3$kL9mQ2xZ"))


def test_known_examples():
    assert F.known_example(cand("AKIAIOSFODNN7EXAMPLE"))
    assert not F.known_example(cand("AKIAZ5QW2XHC7RJK3MNB"))


def test_uuid():
    assert F.uuid(cand("123e4567-e89b-12d3-a456-426614174000"))
    assert not F.uuid(cand("123e4567e89b12d3a456426614174000x"))


def test_lockfile_hash_integrity_strings_anywhere():
    assert F.lockfile_hash(cand("sha512-Xj3kq9Lw7Vb2Nn0Rr8Tt6Yy4Uu2Ii0Oo8Pp6Aa4Ss2Dd0Ff8Gg6Hh4Jj2Kk0Ll8Zz6=="))
    assert F.lockfile_hash(cand("h1:Xj3kq9Lw7Vb2Nn0Rr8Tt6Yy4Uu2Ii0Oo8Pp6Aa4Ss2D="))
    assert F.lockfile_hash(cand("sha256:" + HEX64, path="poetry.lock"))


HEX40 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"
HEX64 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize("path, line", [
    ("Cargo.lock", f'checksum = "{HEX64}"'),
    ("composer.lock", f'            "reference": "{HEX40}",'),
    ("composer.lock", f'            "shasum": "{HEX40}"'),
    ("yarn.lock", f'  resolved "https://registry.yarnpkg.com/p/-/p-1.0.0.tgz#{HEX40}"'),
    ("Gemfile.lock", f"  rack (3.0.8) sha256={HEX64}"),
    (".secrets.baseline", f'        "hashed_secret": "{HEX40}",'),  # any file: the field names a digest
    ("src/app.py", f'EXPECTED_SHA256 = "{HEX64}"'),
])
def test_lockfile_hash_digests_where_digests_go(path, line):
    value = HEX64 if HEX64 in line else HEX40 if HEX40 in line else HEX64[:32]
    assert F.lockfile_hash(cand(value, path=path, line=line))


@pytest.mark.parametrize("path, line, value", [
    # A file's name is no verdict: a token (or a digest-shaped value in a token's place) pasted
    # into a lockfile or a baseline is judged like anywhere else.
    ("Cargo.lock", 'token = "ghp_4Fh2kLq9ZxW8mN3bV7cR1tY6uI0oP5aS2dE9"', "ghp_4Fh2kLq9ZxW8mN3bV7cR1tY6uI0oP5aS2dE9"),
    ("go.sum", f"github.com/x/y v1.0.0 {HEX40}", HEX40),
    ("package-lock.json", f'  "api_key": "{HEX40}"', HEX40),
    (".secrets.baseline", f'  "github_token": "{HEX40}"', HEX40),
    ("src/app.py", f'API_HASH = "{HEX64[:32]}"', HEX64[:32]),  # Telegram's api_hash is a credential
    ("Cargo.lock", 'checksum = "f0e9d8c7b6a5"', "f0e9d8c7b6a5"),  # not a digest's length
    ("config/credentials.yml", f"  key_derivation_salt: {HEX64[:32]}", HEX64[:32]),  # derives keys
])
def test_lockfile_hash_keeps_values_that_are_not_digests_in_place(path, line, value):
    assert not F.lockfile_hash(cand(value, path=path, line=line))


@pytest.mark.parametrize("value", ["aaaaaaaaaaaa", "123456789012", "abcdefghijkl", "abcd1234abcd1234", "0101010101010101"])
def test_filler(value):
    assert F.filler(cand(value))


def test_filler_keeps_random():
    assert not F.filler(cand("q8Zr2Lm5Xw9Tb3Nc"))


@pytest.mark.parametrize("value", ["os.environ['DB_PASS']", "process.env.API_TOKEN", "{{resolve:secretsmanager:prod/db}}",
                                   "arn:aws:secretsmanager:us-east-1:123456789012:secret:db", "!Ref DbPassword"])
def test_reference(value):
    assert F.reference(cand(value))


def test_identifier_is_reference_only_for_generic_rules():
    assert F.reference(cand("settings.db_password", rule=GENERIC))
    assert not F.reference(cand("settings.db_password", rule=SPECIFIC))


def test_test_fixture_only_for_generic_rules():
    assert F.test_fixture(cand("q8Zr2Lm5Xw9Tb3Nc", rule=GENERIC, path="app/tests/fixtures/db.yaml"))
    assert not F.test_fixture(cand("q8Zr2Lm5Xw9Tb3Nc", rule=SPECIFIC, path="app/tests/fixtures/db.yaml"))
    assert not F.test_fixture(cand("q8Zr2Lm5Xw9Tb3Nc", rule=GENERIC, path="app/src/db.yaml"))


def test_skip_filters_opt_out():
    from dataclasses import replace

    heroku_like = replace(SPECIFIC, skip_filters=("uuid",))
    assert F.is_false_positive(cand("123e4567-e89b-12d3-a456-426614174000")) == "uuid"
    assert F.is_false_positive(cand("123e4567-e89b-12d3-a456-426614174000", rule=heroku_like)) is None


def test_filler_mostly_repeated():
    assert F.filler(cand("abcd1234abcd1234abcd1234ABCD1234ABCD1234--__extra"))
    assert not F.filler(cand("abcd1234Zq8Lm2Xw9Tb3Nc7Kp1Rt5Vy0"))


@pytest.mark.parametrize("value", ["a-fake-api-key", "fake_token_123", "my-fake-tooshort-key"])
def test_fake_word_is_placeholder(value):
    assert F.placeholder(cand(value))


def test_fake_inside_random_token_is_kept():
    assert not F.placeholder(cand("q8Zfake2Lm5Xw9Tb3Nc"))


@pytest.mark.parametrize("value, line", [
    ("prod/app/db-AbC123", '"Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-AbC123"'),
    ("db_password}}", "Password: '{{resolve:secretsmanager:prod/app/db:SecretString:db_password}}'"),
])
def test_value_inside_a_secret_reference_on_the_line(value, line):
    assert F.reference(cand(value, line=line))
    assert not F.reference(cand(value, line="password = " + value))


@pytest.mark.parametrize("value", ["in the request body", "->(s) { s.reverse }", ":max_age", "defaults(opts)",
                                   "--password", "\\n#{pass}", "[FILTERED]", ".kamal/secrets",
                                   "override=True", "verify_ssl=false", "default=None"])
def test_prose_and_code_are_not_generic_secrets(value):
    assert F.prose(cand(value, rule=GENERIC))
    assert not F.prose(cand(value, rule=SPECIFIC))


@pytest.mark.parametrize("value", ["Tr0ub4dor&3-horse", "q8Zr2Lm5Xw9Tb3Nc", "hX7q2Lr9Tz4mPk8Wc1Vb6Nd3", "QTKknzFgJwygwaXvHAxUl",
                                   "PjuNINtocPzlRtZPgjSkZcygfsY"])
def test_prose_keeps_credentials(value):
    assert not F.prose(cand(value, rule=GENERIC))


@pytest.mark.parametrize("value", ["AWSSecretKey", "challengePassword", "apiKeySource", "AssumeRoleForPodIdentity",
                                   "WillAlsoBeIgnored", "in #security"])
def test_identifier_words_are_not_generic_secrets(value):
    assert F.prose(cand(value, rule=GENERIC))
    assert not F.prose(cand(value, rule=SPECIFIC))


@pytest.mark.parametrize("value, key", [("no-password-required", "NOPASSWORD"), ("test-secret-key", "SecretAccessKey"),
                                        ("Access-Control-Allow-Credentials", "ACL_CREDENTIALS")])
def test_words_naming_the_key_are_not_its_value(value, key):
    assert F.prose(F.Candidate(GENERIC, value.encode(), F.Line(value.encode()), "src/a.py", key))
    assert not F.prose(F.Candidate(GENERIC, value.encode(), F.Line(value.encode()), "src/a.py", "API_TOKEN_Q"))
    assert not F.prose(F.Candidate(GENERIC, value.encode(), F.Line(value.encode()), "src/a.py", None))


@pytest.mark.parametrize("value", ["xoxp-1234567890", "dapi123456789012345678a9bc01234defg5", "xoxp-1234-1234-1234-4ddbc191d40e",
                                   "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "prefix-abcdefghij-Zq8",
                                   "pwd:!@#$%^&*()_+{}", "Qwertyuiop-2024", "my-asdfghjkl-key"])
def test_generic_values_holding_filler(value):
    assert F.filler(cand(value, rule=GENERIC))
    # A provider's own format may hold a run (xoxb-111111111111-…): only generic rules drop these.
    assert not F.filler(cand(value, rule=SPECIFIC))


@pytest.mark.parametrize("value", ["Zq8Wk3Lm9Rt2Vb7Nc4Hd6Jf1Gp5Sy0Q", "4f7c2a9e1b3d8c6f0a5e2d7b9c1f3a8e", "rcHu+HzSFw89Ypyhn/896A==",
                                   "kjfhueyt9485osdfasdkljfh4lkjhak", "Tr0ub4dor&3-qwer!ty"])
def test_generic_random_values_hold_no_filler(value):
    assert not F.filler(cand(value, rule=GENERIC))


def test_reference_drops_only_the_value_that_is_part_of_the_reference():
    token = "ghp_" + "Ab1" * 12
    line = f't = "{token}"  # see arn:aws:ssm:us-east-1:123456789012:parameter/{token}'
    assert not F.reference(cand(token, line=line, at=line.index(token)))  # the value in the code
    assert F.reference(cand(token, line=line, at=line.rindex(token)))  # the one inside the ARN


SPLUNK = Rule(id="splunk-hec-token", name="x", provider="splunk", regex=r"(?P<key>x)(?P<secret>x)",
              keywords=("splunk", "hec"), severity="high", rotation="r", examples=("x",), negative_examples=("y",))


@pytest.mark.parametrize("key", ["checksum", "HealthCheckId", "rechecked_at"])
def test_provider_name_inside_another_word_is_not_the_provider(key):
    assert F.keyword_in_word(F.Candidate(SPLUNK, b"v", F.Line(b"v"), "a.json", key))


@pytest.mark.parametrize("key", ["SPLUNK_HEC_TOKEN", "hecToken", "x-hec-key", "hec", "mysplunktoken", "HEC2TOKEN",
                                 "token"])
def test_provider_name_as_a_word_of_the_key_is_kept(key):
    # "token": no provider name in the key at all (the rule's name is elsewhere): not this filter's call.
    assert not F.keyword_in_word(F.Candidate(SPLUNK, b"v", F.Line(b"v"), "a.json", key))


def test_provider_name_filter_leaves_generic_rules_alone():
    assert not F.keyword_in_word(F.Candidate(GENERIC, b"v", F.Line(b"v"), "a.json", "checksum"))


@pytest.mark.parametrize("value", ["GetClusterPolicy", "listScramSecrets", "DescribeHECToken"])
def test_camel_case_words_bound_to_a_provider_key_are_names(value):
    assert F.identifier(F.Candidate(SPLUNK, value.encode(), F.Line(b""), "a.json", "kafka"))


@pytest.mark.parametrize("value", ["QTKknzFgJ4ygwaXvHAxU", "OK50LLSD9D2VEYX0", "GSAXMKNUJEWURFQA"])
def test_random_letters_bound_to_a_provider_key_are_kept(value):
    assert not F.identifier(F.Candidate(SPLUNK, value.encode(), F.Line(b""), "a.json", "kafka"))
    assert not F.identifier(cand("GetClusterPolicy"))  # keyless: the value alone is the provider's format


def _random_b64(n: int, alphabet: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") -> str:
    import random

    return "".join(random.choice(alphabet) for _ in range(n))


def test_a_slice_of_base64_data_is_not_a_token():
    token = "EAA" + _random_b64(70)
    mime = "AA+" + token  # a MIME body line, cut at '+'
    svg = 'href="data:image/png;base64,' + _random_b64(30) + "+" + _random_b64(30) + "/" + token + '"'
    assert F.encoded_fragment(cand(token, line=mime))
    assert F.encoded_fragment(cand(token, line=svg))


@pytest.mark.parametrize("before", ["https://graph.facebook.com/", "token=", "Authorization: Bearer ", "x+",
                                    "prefix text AA+", "https://maker.example.com/trigger/door_open/json/with/key/",
                                    "https://open.example.cn/open-apis/bot/v2/hook/",
                                    "https://api.example.com/v1/organizations/1234567890/projects/abcdef/keys/"])
def test_a_token_after_a_path_or_a_name_is_kept(before):
    token = "EAA" + _random_b64(70)
    assert not F.encoded_fragment(cand(token, line=before + token + " more"))


@pytest.mark.parametrize("key", ['"authenticity_token"', "csrf_token", "PASSWORD_HINT", "session_token_prefix"])
def test_generic_values_of_descriptor_or_public_keys_are_not_credentials(key):
    assert F.descriptor_key(F.Candidate(GENERIC, b"XLveDrKzF1SwaiNRPTaM", F.Line(b""), "a.md", key))


@pytest.mark.parametrize("key", ["password", "API_SECRET_KEY", "token", "secret_key_base", "salt"])
def test_generic_values_of_credential_keys_are_kept(key):
    assert not F.descriptor_key(F.Candidate(GENERIC, b"XLveDrKzF1SwaiNRPTaM", F.Line(b""), "a.md", key))
    assert not F.descriptor_key(F.Candidate(SPECIFIC, b"XLveDrKzF1SwaiNRPTaM", F.Line(b""), "a.md", "token_prefix"))


@pytest.mark.parametrize("value", ["passwd&dbname=app", "changeme&user=app&host=db", "${DB_PASS}&sslmode=require"])
def test_a_placeholder_before_the_next_query_field_is_not_a_password(value):
    assert F.query_tail(F.Candidate(GENERIC, value.encode(), F.Line(b""), "a.rb", "password"))


@pytest.mark.parametrize("value", ["Zq8Wk3Lm9Rt2&dbname=app", "Tr0ub4dor&3-horse", "&dbname=app"])
def test_a_real_value_before_the_next_query_field_is_kept(value):
    assert not F.query_tail(F.Candidate(GENERIC, value.encode(), F.Line(b""), "a.rb", "password"))
    assert not F.query_tail(F.Candidate(SPECIFIC, b"passwd&dbname=app", F.Line(b""), "a.rb", "password"))


@pytest.mark.parametrize("line, value", [
    ("https://user:pass@10.10.1.10:1080", "pass"),
    ("amqp://guest:guest@mq.internal:5672/", "guest"),
    ("# https://actionmailbox:PASSWORD@example.com/inbound_emails", "PASSWORD"),
    ("postgres://app:dbpassword@db.internal/app", "dbpassword"),
    ("redis://:supersecret@cache.internal:6379", "supersecret"),
    ("mongodb://u:Qx81vTz0@host/db", "Qx81vTz0"),
    ("smtp://mailer:Qx81vTz0@mail.example.org:587", "Qx81vTz0"),
])
def test_userinfo_drops_documentation_and_defaults(line, value):
    assert F.userinfo(cand(value, line=line, at=line.index(":" + value + "@") + 1))


@pytest.mark.parametrize("password", ["password123", "letmein1", "hunter22"])
def test_userinfo_keeps_weak_passwords_on_real_hosts(password):
    line = f'DATABASE_URL = "postgres://app:{password}@db.internal:5432/app"'
    assert not F.userinfo(cand(password, line=line))


def test_userinfo_keeps_random_passwords_and_ignores_values_outside_a_uri():
    pw = S.fake_secret(7, 16)
    assert not F.userinfo(cand(pw, line=f"rtsp://admin:{pw}@192.168.1.64:554/stream"))
    assert not F.userinfo(cand("password", line="password = password"))  # not userinfo: other filters judge it


def _basic(pair: str) -> str:
    import base64

    return base64.b64encode(pair.encode()).decode()


@pytest.mark.parametrize("pair", ["user:password", "admin:admin", "username:password", "user:pass", "api:<your-key>"])
def test_userinfo_judges_basic_credentials_decoded(pair):
    value = _basic(pair)
    assert F.userinfo(cand(value, line=f'curl -H "Authorization: Basic {value}" https://api.internal/v1'))


def test_userinfo_keeps_real_basic_credentials_and_other_base64():
    value = _basic("deploy:" + S.fake_secret(11, 14))
    assert not F.userinfo(cand(value, line=f'headers = {{"Authorization": "Basic {value}"}}'))
    assert not F.userinfo(cand(_basic("user:password"), line="blob = " + _basic("user:password")))  # not after Basic


def test_rfc_7617_basic_example_is_a_known_example():
    assert F.known_example(cand(_basic("Aladdin:open sesame")))


def test_userinfo_basic_credentials_without_a_password_judge_the_user_part():
    # An API key sent as the Basic user name with an empty password is the credential.
    key = _basic(S.fake_secret(12, 20) + ":")
    assert not F.userinfo(cand(key, line=f"curl -H 'Authorization: Basic {key}' https://api.internal"))
    empty = _basic("user:")
    assert F.userinfo(cand(empty, line=f"curl -H 'Authorization: Basic {empty}' https://api.internal"))


@pytest.mark.parametrize("line, value", [
    ("auth = HTTPDigestAuth('user', 'wrongpass')", "wrongpass"),
    ("auth = HTTPBasicAuth('fake@example.com', 'not_a_real_password')", "not_a_real_password"),
    ("conn.login('guest', 'guest')", "guest"),
])
def test_userinfo_judges_login_call_arguments(line, value):
    assert F.userinfo(cand(value, line=line, at=line.rindex(value)))


def test_userinfo_keeps_real_login_call_passwords():
    pw = S.fake_secret(13, 12)
    assert not F.userinfo(cand(pw, line=f"server.login('alerts@corp.net', '{pw}')"))
    assert not F.userinfo(cand("hunter22", line="ftp.login('backup', 'hunter22')"))


LONG = "MIIEowIBAAKCAQEA7bq9Lm2Xw9Tb3Nc7Kp1Rt5Vy0Qf4Gh8Jk2Zs6Dn1Pu3We5Ra9Yc0Bv7Hx2Mi4Lo8Ft6Ke1Sg3"


@pytest.mark.parametrize("value", [LONG + "\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", LONG + "...", "MIIE" + "X" * 80,
                                   LONG + "/your_private_key_here", "replace-with-your-real-dummy-token-" + LONG,
                                   LONG + "MyDummyKeyForDocs", "TODO:" + LONG])
def test_marker_written_as_a_word_marks_a_long_value(value):
    assert len(value) > F.LONG_VALUE
    assert F.placeholder(cand(value))


@pytest.mark.parametrize("marker", ["xXxx", "duMmY", "tOdO", "XXXX", "Todo", "todo"])
def test_letters_chance_put_inside_a_long_random_value_are_not_a_marker(marker):
    """A private key body is long enough to hold any 4 letters somewhere; cased at random, or set
    inside random characters without a break, they are chance."""
    value = LONG[:40] + marker + "q" + LONG[40:]
    assert not F.placeholder(cand(value))


def test_chance_markers_do_not_hide_random_private_keys():
    """The cause of a once-in-300 miss: random key bodies holding "xXxx" or "duMmY"."""
    import random
    import string

    from scanner.config import Config
    from scanner.engine import Engine
    from scanner.models import Chunk
    from scanner.rules import load_rules, rule_files

    pem = [r for r in load_rules(rule_files()) if r.id == "private-key-rsa"]
    eng = Engine(Config(), rules=pem, backend="keywords")
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "+/"
    missed = 0
    for _ in range(400):
        body = "\n".join("".join(rng.choice(alphabet) for _ in range(64)) for _ in range(25))
        for word in ("xXxx", "duMmY", "tODo"):  # what chance does put in some keys
            at = rng.randrange(len(body) - 10)
            text = f"-----BEGIN RSA PRIVATE KEY-----\n{body[:at]}{word}{body[at:]}\n-----END RSA PRIVATE KEY-----\n"
            missed += len(eng.scan(Chunk(path="deploy/id_rsa", data=text.encode()))) != 1
    assert missed == 0
