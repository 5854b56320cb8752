"""docker-compose files: every value becomes ${VAR:?} interpolation fed by a deploy-time env file;
applied for real against moto, the generated script writes that file with the stored values."""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import string
import subprocess
from pathlib import Path

import pytest
import yaml

from scanner.remediate.records import Workspace
from scanner.remediate.rewriters import classify, rewrite_all
from scanner.remediate.settings import Settings
from scanner.remediate.stores import make_store
from tests.remediate.test_rewriters import item, site_of


def _rand(n: int, prefix: str = "") -> str:
    rng = random.SystemRandom()
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def h(v: str) -> str:
    return hashlib.sha256(v.encode()).hexdigest()


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR:?} substitution (the only form leakstop writes): unset or empty is an error."""
    def sub(m: re.Match) -> str:
        if not env.get(m.group(1)):
            raise KeyError(m.group(1))
        return env[m.group(1)]
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*):\?\}", sub, text)


def read_env_file(p: Path) -> dict[str, str]:
    out = {}
    for line in p.read_text().splitlines():
        k, _, v = line.partition("=")
        assert v.startswith("'") and v.endswith("'")
        out[k] = v[1:-1]
    return out


COMPOSE = """services:
  web:
    build: .
    environment:
      GITHUB_TOKEN: {token}
      APP_MODE: prod   # kept
    command: ["gunicorn", "app:app"]
  worker:
    image: shop/worker
    environment:
      - STRIPE_KEY={stripe}
      - MODE=x
  redis:
    image: redis:7
    command: redis-server --requirepass {token2}
"""


def test_classify_compose():
    assert classify("docker-compose.yml", b"services: {}\n") == "compose"
    assert classify("deploy/compose.prod.yaml", b"services: {}\n") == "compose"
    assert classify("stack.yml", b"version: '3'\nservices:\n  a: {}\n") == "compose"
    assert classify("k8s.yaml", b"apiVersion: v1\nkind: Secret\n") == "kubernetes"


def test_command_string_and_list_form(tmp_path):
    token2 = _rand(36, "ghp_")
    stripe = "sk_" + "live_" + _rand(24)
    src = COMPOSE.format(token="x" * 8, stripe=stripe, token2=token2)
    (tmp_path / "docker-compose.yml").write_text(src)
    s = Settings(project="shop", env="prod", region="eu-west-1")
    a = item(token2, [site_of(tmp_path, "docker-compose.yml", token2)], key="redis_password")
    b = item(stripe, [site_of(tmp_path, "docker-compose.yml", stripe)], key="stripe_key")
    ws = Workspace(tmp_path)
    ctx = rewrite_all(ws, [a, b], s, make_store("secretsmanager", "eu-west-1"))
    assert not ctx.manual
    new = ws.pending["docker-compose.yml"].decode()
    assert "command: redis-server --requirepass ${REDIS_PASSWORD:?}\n" in new
    assert "      - STRIPE_KEY=${STRIPE_KEY:?}\n" in new
    assert new.replace("${REDIS_PASSWORD:?}", token2).replace("${STRIPE_KEY:?}", stripe) == src
    doc = yaml.safe_load(new)
    assert doc["services"]["redis"]["command"].endswith("${REDIS_PASSWORD:?}")
    script = ws.pending["leakstop-remediation/compose-secrets-docker-compose.sh"].decode()
    assert "put REDIS_PASSWORD" in script and "put STRIPE_KEY" in script and token2 not in script
    assert "/secrets.env\n" in ws.pending[".gitignore"].decode()


def test_apply_then_the_script_feeds_compose(remediate, make_repo, git_commit, aws):
    repo = make_repo("compose")
    token, token2, stripe = _rand(36, "ghp_"), _rand(36, "ghp_"), "sk_" + "live_" + _rand(24)
    src = COMPOSE.format(token=token, stripe=stripe, token2=token2)
    (repo / "docker-compose.yml").write_text(src)
    git_commit(repo, "compose")
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    text = (repo / "docker-compose.yml").read_text()
    for v in (token, token2, stripe):
        assert v not in text, "a value is still in the compose file"
    yaml.safe_load(text)
    assert "      APP_MODE: prod   # kept\n" in text
    assert '      GITHUB_TOKEN: "${GITHUB_TOKEN:?}"\n' in text
    scripts = list((repo / "leakstop-remediation").glob("compose-secrets-*.sh"))
    assert len(scripts) == 1
    assert "secrets.env" in (repo / ".gitignore").read_text()
    r2 = remediate(repo, "--apply")
    assert r2.code == 0 and (repo / "docker-compose.yml").read_text() == text
    if not (shutil.which("aws") and shutil.which("jq")):
        pytest.skip("aws CLI or jq not installed: the generated script is not run")
    env = dict(os.environ, AWS_ENDPOINT_URL=aws)
    run = subprocess.run(["bash", str(scripts[0]), "secrets.env"], cwd=repo, env=env, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode()[-500:]
    assert (os.stat(repo / "secrets.env").st_mode & 0o777) == 0o600
    values = read_env_file(repo / "secrets.env")
    resolved = yaml.safe_load(interpolate(text, values))
    svc = resolved["services"]
    assert h(svc["web"]["environment"]["GITHUB_TOKEN"]) == h(token)
    assert h(svc["redis"]["command"].split()[-1]) == h(token2)
    assert h(svc["worker"]["environment"][0].split("=", 1)[1]) == h(stripe)
