""".env connection URIs: the password is stored with the URI's RDS-style fields, and the comment
left in .env holds a command that rebuilds the whole URI from the secret (run here against moto)."""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import string
import subprocess

import pytest


def test_the_comment_rebuilds_the_whole_uri(remediate, make_repo, git_commit, aws):
    rng = random.SystemRandom()
    pw = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))
    # A real-looking host: .example and example.com are documentation names, judged placeholders.
    url = f"postgresql://admin:{pw}@db1.orders-prod.internal:5432/app?sslmode=require"
    repo = make_repo("envuri")
    (repo / ".env").write_text(f"DEBUG=1\nDATABASE_URL={url}\n")
    git_commit(repo, "env")
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    env = (repo / ".env").read_text()
    still_there = pw in env  # a bare name: pytest's report of a failure shows True, not the value
    assert not still_there, "the password is still in .env"
    assert "DEBUG=1\n" in env and "\nDATABASE_URL=\n" in env
    comment = next(line for line in env.splitlines() if line.startswith("# leakstop: DATABASE_URL"))
    assert "rebuild the URI" in comment
    if not (shutil.which("aws") and shutil.which("jq")):
        pytest.skip("aws CLI or jq not installed: the rebuild command is not run")
    command = comment.split("rebuild the URI: ", 1)[1]
    assert re.match(r'DATABASE_URL="\$\(aws secretsmanager get-secret-value ', command)
    run = subprocess.run(["bash", "-c", f'{command}; printf %s "$DATABASE_URL" | sha256sum'], cwd=repo,
                         env=dict(os.environ, AWS_ENDPOINT_URL=aws), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-300:]
    assert run.stdout.split()[0] == hashlib.sha256(url.encode()).hexdigest()


def test_a_percent_encoded_password_is_stored_decoded_and_the_uri_rebuilt_encoded(remediate, make_repo, git_commit):
    """`p%40ss…` in a URI is the password `p@ss…`: that is stored; the code rebuilds the URI
    encoding it again (identical to the original); a copy of the encoded text elsewhere counts as
    left over; a file type that cannot rebuild the URI is a manual step."""
    import json
    import sys

    import boto3

    rng = random.SystemRandom()

    def password() -> tuple[str, str, str]:
        core = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(20))
        return core, f"{core[:10]}@{core[10:]}:/", f"{core[:10]}%40{core[10:]}%3A%2F"

    core, decoded, encoded = password()
    other, _, other_encoded = password()
    url = f"postgresql://orders:{encoded}@db1.orders-prod.internal:6543/orders?sslmode=require"
    repo = make_repo("pctenc")
    (repo / "app").mkdir()
    (repo / "app/db.py").write_text(f'DATABASE_URL = "{url}"\n')
    (repo / "notes.txt").write_text(f"old: {encoded}\n")  # no finding here, but the same password
    (repo / "conf.yml").write_text(f"db:\n  url: postgresql://app:{other_encoded}@db2.orders-prod.internal/app\n")
    git_commit(repo, "db")
    r = remediate(repo, "--apply")
    assert r.code == 1 and "notes.txt:1" in r.out and "percent-encoded password" in r.out
    assert core not in r.out + r.err and other not in r.out + r.err
    assert (repo / "conf.yml").read_text().count(other_encoded) == 1  # left as it was
    sm = boto3.client("secretsmanager")
    stored = [json.loads(sm.get_secret_value(SecretId=s["ARN"])["SecretString"]) for s in sm.list_secrets()["SecretList"]]
    mine = [s for s in stored if s.get("host") == "db1.orders-prod.internal"]
    assert len(mine) == 1 and mine[0]["username"] == "orders"
    assert hashlib.sha256(mine[0]["password"].encode()).digest() == hashlib.sha256(decoded.encode()).digest()
    code = f"import sys; sys.path.insert(0, 'app'); import db; print(db.DATABASE_URL == {url!r})"
    run = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=120,
                         env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"})
    assert run.returncode == 0 and run.stdout.strip() == "True", run.stderr[-300:]
