"""A sample application repository with hardcoded (fake but realistic-looking) secrets.

Tokens are built from a seeded RNG so they look random to the entropy checks, are stable across
runs, and never appear as literals in this file.
"""

from __future__ import annotations

import random
import string
from pathlib import Path

from tests.fakes import checksummed

_rng = random.Random(20240611)
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_ALNUM = string.ascii_letters + string.digits


def _tok(prefix: str, alphabet: str, n: int) -> str:
    return prefix + "".join(_rng.choice(alphabet) for _ in range(n))


AWS_KEY = _tok("AKIA", _B32, 16)
STRIPE = _tok("sk_" + "live_", _ALNUM, 24)
STRIPE_CFN = _tok("sk_" + "live_", _ALNUM, 24)
# GitHub tokens carry a checksum: a made-up one that fails it is reported at low confidence only.
GITHUB = checksummed("ghp_", _rng.choice)
GITHUB_BUILD = checksummed("ghp_", _rng.choice)
DB_PASSWORD = _tok("", _ALNUM, 20)

# every value the scanner must find with today's rule packs (DB_PASSWORD needs the context detectors)
CORE = {"AWS_KEY": AWS_KEY, "STRIPE": STRIPE, "STRIPE_CFN": STRIPE_CFN, "GITHUB": GITHUB, "GITHUB_BUILD": GITHUB_BUILD}

FILES = {
    "service/billing.py": f'''"""Billing service: charges customers."""
from __future__ import annotations

import os

# keep this comment and the odd   spacing
STRIPE_KEY = "{STRIPE}"  # live key
AWS_ACCESS_KEY_ID = '{AWS_KEY}'


def get_keys():
    return {{"stripe": STRIPE_KEY, "aws": AWS_ACCESS_KEY_ID, "region": os.environ.get("X", "eu")}}
''',
    "web/client.mjs": f'''// GitHub client
export const githubToken = "{GITHUB}";

export function headers() {{
  return {{ Authorization: `token ${{githubToken}}` }};
}}
''',
    "web/index.mjs": '''import { headers } from "./client.mjs";

console.log(Object.keys(headers()).join(","));
''',
    "Dockerfile": f'''FROM python:3.12-slim
ARG GITHUB_BUILD_TOKEN={GITHUB_BUILD}
ENV STRIPE_KEY={STRIPE} APP_MODE=prod
RUN pip download --index-url https://x:$GITHUB_BUILD_TOKEN@example.invalid/simple app
COPY service /app
CMD ["python", "-m", "service.billing"]
''',
    "docker-compose.yml": f'''services:
  web:
    build: .
    environment:
      GITHUB_TOKEN: {GITHUB}
      DB_PASSWORD: "{DB_PASSWORD}"
      APP_MODE: prod
''',
    ".env": f'''# local settings
AWS_ACCESS_KEY_ID={AWS_KEY}
DB_PASSWORD={DB_PASSWORD}
DEBUG=1
''',
    "template.yaml": f'''AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Charge:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      Environment:
        Variables:
          STRIPE_SECRET: {STRIPE_CFN}
''',
}


# service/billing.py after remediate: constants become getters read through the module's
# __getattr__ (environment first, looked up on first use); everything else byte-identical.
BILLING_AFTER = '''"""Billing service: charges customers."""
from __future__ import annotations
from leakstop_secrets import env_or_lookup as leakstop_env_or_lookup, lazy_attributes as leakstop_lazy_attributes

import os

# keep this comment and the odd   spacing
def _leakstop_STRIPE_KEY():  # leakstop: looked up on first use
    return leakstop_env_or_lookup("STRIPE_KEY", "shop/prod/stripe", "secret_key")  # live key
def _leakstop_AWS_ACCESS_KEY_ID():  # leakstop: looked up on first use
    return leakstop_env_or_lookup("AWS_ACCESS_KEY_ID", "shop/prod/aws", "access_key_id")


def get_keys():
    return {"stripe": _leakstop_STRIPE_KEY(), "aws": _leakstop_AWS_ACCESS_KEY_ID(), "region": os.environ.get("X", "eu")}


# leakstop: module constants above are looked up on first use, environment first
__getattr__, __dir__ = leakstop_lazy_attributes(__name__)
'''


def build(root: Path) -> Path:
    for rel, text in FILES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root
