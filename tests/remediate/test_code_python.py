"""Python code keeps its meaning after remediate --apply, run for real against the moto server:
a small web service (settings module, settings classes, a handler module that uses them) is
imported and called in a subprocess before and after; values are identical, importing makes no
AWS call, and with the variables set no AWS call happens at all."""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

_ALNUM = string.ascii_letters + string.digits


def _tok(prefix: str, n: int, alphabet: str = _ALNUM) -> str:
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


def service(values: dict[str, str]) -> dict[str, str]:
    """A FastAPI-like layout without FastAPI: app/config.py (module constants, an env default),
    app/settings.py (a plain settings class and a dataclass), app/main.py (the handler)."""
    v = values
    return {
        "app/__init__.py": "",
        "app/config.py": f'''"""Service configuration."""
import os

STRIPE_KEY = "{v['stripe']}"  # live key
GITHUB_TOKEN: str = os.environ.get("GITHUB_TOKEN", "{v['github']}")
HOOK_URL = ("https://hooks.example.com/notify?token="
            "{v['hook']}")
HEADERS = {{"Authorization": "Bearer {v['bearer']}"}}
DATABASE_URL = "postgresql://orders:{v['db']}@db.internal:6543/orders?sslmode=require"


def stripe_headers():
    return {{"Authorization": f"Bearer {{STRIPE_KEY}}"}}
''',
        "app/settings.py": f'''from dataclasses import dataclass


class Settings:
    region = "eu-west-1"
    slack_token = "{v['slack']}"


@dataclass
class AwsCredentials:
    profile: str = "default"
    access_key_id: str = "{v['aws']}"
''',
        "app/main.py": '''import hashlib
import json

from app import config
from app.settings import AwsCredentials, Settings


def h(s):
    return hashlib.sha256(s.encode()).hexdigest()


def handle():
    s = Settings()
    creds = AwsCredentials()
    config.HEADERS["X-Trace"] = "1"  # changed in place: must stay changed
    return {
        "stripe": h(config.STRIPE_KEY),
        "stripe_len": len(config.STRIPE_KEY),
        "stripe_prefix": config.STRIPE_KEY.startswith("sk_"),
        "stripe_eq": config.STRIPE_KEY == config.STRIPE_KEY,
        "stripe_header": h(config.stripe_headers()["Authorization"]),
        "fstring": h(f"key={config.STRIPE_KEY}"),
        "github": h(config.GITHUB_TOKEN),
        "hook": h(config.HOOK_URL),
        "bearer": h(config.HEADERS["Authorization"]),
        "trace": config.HEADERS.get("X-Trace"),
        "db": h(config.DATABASE_URL),
        "slack": h(s.slack_token),
        "slack_class": h(Settings.slack_token),
        "region": s.region,
        "aws": h(creds.access_key_id),
        "is_str": [type(x).__name__ for x in (config.STRIPE_KEY, s.slack_token, creds.access_key_id)],
    }


if __name__ == "__main__":
    print(json.dumps(handle()))
''',
    }


def _values() -> dict[str, str]:
    return {
        "stripe": _tok("sk_" + "live_", 24),
        "github": _tok("ghp_", 36),
        "hook": _tok("ghp_", 36),
        "bearer": _tok("sk_" + "live_", 24),
        "slack": _tok("xoxb-", 0) + "-".join(_tok("", 12, string.digits) for _ in range(2)) + "-" + _tok("", 24),
        "aws": _tok("AKIA", 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
        "db": _tok("", 20),
    }


def _run(repo: Path, code: str, env: dict) -> subprocess.CompletedProcess:
    # PYTHONPATH: the project only (never leakstop's own tree); leakstop made unimportable.
    env = {**env, "PYTHONPATH": str(repo)}
    prog = "import sys\nsys.modules['scanner'] = None\n" + code
    return subprocess.run([sys.executable, "-c", prog], cwd=repo, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def project(make_repo, git_commit):
    values = _values()
    repo = make_repo("svc")
    for rel, text in service(values).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git_commit(repo, "service")
    return repo, values


def _handle(repo: Path, env: dict) -> dict:
    out = _run(repo, "import json\nfrom app import main\nprint(json.dumps(main.handle()))\n", env)
    assert out.returncode == 0, out.stderr[-800:]
    return json.loads(out.stdout)


def test_python_service_keeps_its_values_and_looks_them_up_lazily(remediate, project, aws):
    repo, values = project
    clean = {k: v for k, v in os.environ.items() if k not in {"GITHUB_TOKEN", "STRIPE_KEY", "SLACK_TOKEN"}}
    before = _handle(repo, clean)
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    text = {p: (repo / p).read_text() for p in ("app/config.py", "app/settings.py")}
    for v in values.values():
        assert all(v not in t for t in text.values()), "a value is still in the code"
    assert 'leakstop_env_or_lookup("GITHUB_TOKEN",' in text["app/config.py"]  # the env default's own name
    assert ('leakstop_env_or_url("DATABASE_URL", "shop/prod/postgres", "password", '
            '"postgresql://{username}:{password}@{host}:{port}/{dbname}?sslmode=require")') in text["app/config.py"]

    # Values identical, str-typed, through the AWS endpoint (moto).
    after = _handle(repo, {**clean, "AWS_ENDPOINT_URL": aws})
    assert after == before
    assert after["is_str"] == ["str", "str", "str"] and after["trace"] == "1"

    # Importing makes no AWS call: boto3 is unimportable, and the endpoint is a closed port.
    dead = {**clean, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "invalid"}
    imp = _run(repo, "sys.modules['boto3'] = None\nimport app.config, app.settings, app.main\nprint('ok')\n", dead)
    assert imp.returncode == 0 and imp.stdout.strip() == "ok", imp.stderr[-800:]

    # With the variables set, every value comes from the environment: no AWS call (boto3 blocked).
    env_values = {name: _tok("env-", 20) for name in _env_names(text)}
    blocked = _run(repo, "sys.modules['boto3'] = None\nimport json\nfrom app import config, settings\n"
                   "print(json.dumps([config.STRIPE_KEY, config.GITHUB_TOKEN, settings.Settings().slack_token,"
                   " settings.AwsCredentials().access_key_id]))\n", {**dead, **env_values})
    assert blocked.returncode == 0, blocked.stderr[-800:]
    got = json.loads(blocked.stdout)
    assert all(g.startswith("env-") for g in got) and len(set(got)) == 4

    # Without the variables and with AWS unreachable, the error comes at use, not at import.
    use = _run(repo, "from app import config\ntry:\n    config.STRIPE_KEY\nexcept Exception as e:\n"
               "    print(type(e).__name__)\n", dead)
    assert use.returncode == 0 and use.stdout.strip(), use.stderr[-800:]

    # A second apply changes nothing.
    snapshot = {p: (repo / p).read_bytes() for p in ("app/config.py", "app/settings.py", "app/leakstop_secrets.py")}
    again = remediate(repo, "--apply")
    assert again.code == 0 and "Nothing to remediate" in again.out
    assert {p: (repo / p).read_bytes() for p in snapshot} == snapshot


def _env_names(text: dict[str, str]) -> list[str]:
    import re

    names = set()
    for t in text.values():
        names |= set(re.findall(r'leakstop_env_or_lookup\("([A-Z0-9_]+)"', t))
    return sorted(names)
