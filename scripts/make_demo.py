#!/usr/bin/env python3
"""Write a small demo application with planted, fake (never valid) secrets into DIR."""

import random
import string
import sys
import zlib
from pathlib import Path


def rand(alphabet: str, n: int, rng: random.Random) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def github_token(rng: random.Random) -> str:
    """ghp_ + 30 random + their CRC32 in 6 base62 digits: GitHub's format, checksum included (a
    made-up token without it is reported at low confidence only)."""
    body = rand(string.ascii_letters + string.digits, 30, rng)
    n, digits = zlib.crc32(body.encode()), ""
    while n:
        n, r = divmod(n, 62)
        digits = (string.digits + string.ascii_uppercase + string.ascii_lowercase)[r] + digits
    return "ghp_" + body + digits.rjust(6, "0")


def main() -> None:
    out = Path(sys.argv[1])
    rng = random.Random(7)  # fixed: the demo is the same every time
    an = string.ascii_letters + string.digits
    files = {
        "service/settings.py": (
            "import os\n\n"
            f"AWS_ACCESS_KEY_ID = 'AKIA{rand('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16, rng)}'\n"
            f"STRIPE_KEY = 'sk_live_{rand(an, 24, rng)}'\n"
            "DEBUG = os.environ.get('DEBUG') == '1'\n"
        ),
        "web/github.js": f"const token = '{github_token(rng)}';\nmodule.exports = {{ token }};\n",
        ".env": f"DB_PASSWORD={rand(an, 20, rng)}\nAPI_URL=https://api.internal\n",
        "Dockerfile": f"FROM python:3.12-slim\nENV SLACK_TOKEN=xoxb-{rand(string.digits, 12, rng)}-{rand(string.digits, 13, rng)}-{rand(an, 24, rng)}\n",
        "config/db.yaml": f"database:\n  url: postgres://app:{rand(an, 16, rng)}@db.internal:5432/app\n",
        "README.md": "# demo service\nSet AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE for local tests (documentation example: not reported).\n",
    }
    for rel, text in files.items():
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    print(f"demo application written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
