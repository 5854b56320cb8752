from __future__ import annotations

import pytest

from tests.detectors.fixture_eval import digest as d

PW = "Wq4Zr8Lp2Kv9Tx6M"
RULE = "env-file-credential"


@pytest.mark.parametrize(
    "line",
    [
        "DB_PASSWORD={PW}",
        "export DB_PASSWORD={PW}",
        'DB_PASSWORD="{PW}"',
        "DB_PASSWORD='{PW}'",
        "DB_PASSWORD={PW} # rotated in March",
        'DB_PASSWORD = "{PW}"  # spaces around =',
    ],
)
def test_syntaxes(find, line):
    assert find(".env", "APP=x\n" + line.replace("{PW}", PW) + "\nDEBUG=1\n") == [(RULE, "DB_PASSWORD", d(PW))]


@pytest.mark.parametrize("name", [".env", ".env.production", ".env.local", "prod.env", "config/.env.staging"])
def test_names(find, name):
    assert find(name, f"API_TOKEN={PW}\n") == [(RULE, "API_TOKEN", d(PW))]


def test_multiline_quoted_value(find, ctx_engine):
    from scanner.models import Chunk

    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    text = f'A=1\nSIGNING_KEY="{key}"\nB=2\nAPI_TOKEN={PW}\n'
    assert find(".env", text) == sorted([(RULE, "SIGNING_KEY", d(key)), (RULE, "API_TOKEN", d(PW))])
    lines = sorted(f.line for f in ctx_engine.scan(Chunk(path=".env", data=text.encode())))
    assert lines == [2, 6]


@pytest.mark.parametrize(
    "text",
    [
        "DB_PASSWORD=\n",
        "DB_PASSWORD=${DB_PASSWORD}\n",
        "DB_PASSWORD=$DB_PASSWORD\n",
        "API_TOKEN=$(vault read -field=token secret/api)\n",
        "DEBUG=true\nTOKEN_TTL=3600\nPASSWORD_MIN_LENGTH=12\n",
        "TOKEN_URL=https://auth.internal/token\n",
        "SECRET_ARN=arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf\n",
        "NEXT_PUBLIC_API_KEY=Hq7Kx2Wz9Lm4Rv8Tp3Nb\n",
        "DB_PASSWORD_FILE=/run/secrets/db_password\n",
        "# DB_PASSWORD=commented-out-but-still-fine\n",
    ],
)
def test_not_reported(find, text):
    assert find(".env", text) == []


@pytest.mark.parametrize("name", [".env.example", ".env.sample", ".env.template", "example.env"])
def test_templates_report_only_real_looking_values(find, name):
    text = (
        "DB_PASSWORD=changeme\nSTRIPE_KEY=your-stripe-key\nJWT_SECRET=replace-me-with-a-long-random-string\n"
        "SESSION_SECRET=s3cr3tP4ss\n"
        "SLACK_BOT_TOKEN=xoxb-2048617392-4829461037265-Hq7Kx2Wz9Lm4Rv8Tp3Nb6Jd\n"
    )
    got = find(name, text)
    assert [k for _, k, _ in got] == ["SLACK_BOT_TOKEN"]


def test_uri_password_in_env(find):
    assert find(".env", f"DATABASE_URL=postgres://app:{PW}@db.internal:5432/app\n") == [
        ("connection-uri-password", "DATABASE_URL", d(PW))
    ]
