from __future__ import annotations

import pytest

from scanner.detectors.keys import credential_kind, is_literal, looks_generated, tokens, uri_passwords


def test_tokens():
    assert tokens("DB_PASSWORD") == ["db", "password"]
    assert tokens("clientSecret") == ["client", "secret"]
    assert tokens("spring.datasource.password") == ["spring", "datasource", "password"]
    assert tokens("AWSSecretKey") == ["aws", "secret", "key"]


@pytest.mark.parametrize(
    "key", ["DB_PASSWORD", "password", "clientSecret", "api_key", "apiKey", "GITHUB_TOKEN", "PGPASSWORD",
            "private-key", "AccountKey", "requirepass", "SECRET_KEY_BASE", "db.passwd", "_authToken",
            "GrantToken", "refresh_token", "SessionToken", "passwordForAdmin", "api_key_for_stripe",
            "sign_in_token"],
)
def test_strong_keys(key):
    assert credential_kind(key) == "strong"


@pytest.mark.parametrize("key", ["STRIPE_KEY", "NPM_AUTH", "GITHUB_PAT", "integrationKey"])
def test_weak_keys(key):
    assert credential_kind(key) == "weak"


@pytest.mark.parametrize(
    "key",
    ["DB_PASSWORD_FILE", "token_url", "PASSWORD_MIN_LENGTH", "secret_name", "AWS_ACCESS_KEY_ID", "TOKEN_TTL",
     "NEXT_PUBLIC_API_KEY", "public_key", "username", "key", "monkey", "cache_key_prefix", "token_type",
     "password_hash", "SECRET_ARN", "authenticity_token", "csrf_token", "XSRF-TOKEN", "NextContinuationToken",
     "next_token", "ClientRequestToken", "VerificationToken", "page_token",
     # "HEAD for/to/of X" names its head: a vault, a URL, a path, a name
     "keyVaultToStoreSecrets", "urlForToken", "path_to_secret", "nameOfPassword"],
)
def test_not_credential_keys(key):
    assert credential_kind(key) is None


@pytest.mark.parametrize(
    "value",
    ["", "true", "False", "12345", "3600", "${X}", "$X", "$(cmd)", "{{ x }}", "%(x)s", "os.environ['X']",
     "process.env.X", "!Ref X", "{{resolve:secretsmanager:a:SecretString:b}}", "arn:aws:secretsmanager:x",
     "/run/secrets/db", "./keys/a.pem", "ops@corp.example", "https://auth.internal/token", "Enter a password",
     "Password", "db-credentials", "var.db_password"],
)
def test_not_literal(value):
    assert not is_literal(value, "db_password")


def test_literal_and_generated():
    assert is_literal("Lr7Qx2Vk9Mz4Tw6P", "password") and looks_generated("Lr7Qx2Vk9Mz4Tw6P")
    assert is_literal("hunter22!", "password") and not looks_generated("hunter22!")
    assert not looks_generated("replace-me-with-a-long-random-string")
    assert looks_generated("ghp_R4nd0mT0k3nV4lu3Xq9Lm2Pz7Kw5Jc8Hd1F")


def test_uri_passwords_spans():
    text = "postgres://app:Qm4Tx9Lr2Vz7@db.internal/app and redis://:Hq8Zt3Wm6Kp1@cache:6379"
    assert [text[s:e] == p for (s, e), p in zip(uri_passwords(text), ["Qm4Tx9Lr2Vz7", "Hq8Zt3Wm6Kp1"])] == [True, True]
    assert uri_passwords("postgres://u:${P}@h/db postgres://user:password@h postgres://a:a@h") == []


def test_uri_passwords_judge_weak_passwords_and_placeholders_like_the_rules():
    # A weak human password on a real host is a leak; role words, repeated user names and
    # documentation hosts are not (the same predicate as filters.userinfo).
    assert uri_passwords("DATABASE_URL=postgres://app:password123@db.internal/app")
    for text in ("postgres://app:dbpassword@db.internal/app", "amqp://guest:guest@mq.internal/",
                 "redis://:Zq81vTx0@cache.example.com:6379", "mongodb://a:b,c@h1:27017,h2:27017/db"):
        assert uri_passwords(text) == [], text


@pytest.mark.parametrize("password", ["pass%20pass", "pass%23pass", "PASSWORD%21"])
def test_percent_encoded_placeholder_words_are_placeholder_userinfo(password):
    from scanner.detectors.keys import placeholder_userinfo

    assert placeholder_userinfo("user", password, "complex.url.com")


@pytest.mark.parametrize("password", ["p%40ssw0rd99", "Zq8%21Wk3Lm", "ab%21cd"])
def test_percent_encoded_real_passwords_are_kept(password):
    from scanner.detectors.keys import placeholder_userinfo

    assert not placeholder_userinfo("app", password, "db.internal")
