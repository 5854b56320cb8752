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
    assert (pw in env) is False, "the password is still in .env"  # never print the value itself
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
