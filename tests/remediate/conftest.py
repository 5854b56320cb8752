"""A real AWS endpoint for remediation tests: moto's standalone server on 127.0.0.1, started
once per session on a free port and reset before every test."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from tests.motoserver import moto_server
from tests.remediate import sample


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory):
    with moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(autouse=True)
def aws(moto_url, monkeypatch, tmp_path):
    """Point boto3 at the moto server with fake credentials; a clean account for each test."""
    for k, v in AWS_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    req = urllib.request.Request(moto_url + "/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=10).read()
    return moto_url


@pytest.fixture
def sample_repo(make_repo, git_commit):
    repo = make_repo("app")
    sample.build(repo)
    git_commit(repo, "initial import")
    return repo


@pytest.fixture
def git_commit():
    from tests.conftest import git

    def commit(repo: Path, msg: str) -> str:
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", msg)
        return git(repo, "rev-parse", "HEAD").strip()

    return commit


@pytest.fixture
def remediate(run_cli):
    """``leakstop remediate . ARGS`` in ``repo`` with the keyword engine (no Hyperscan compile)."""

    def run(repo: Path, *args: str):
        return run_cli("remediate", ".", "--project", "shop", "--env", "prod", "--engine", "keywords", *args,
                       cwd=repo)

    return run


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root except .git, by relative path."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and ".git" not in p.relative_to(root).parts:
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def digest_tree(root: Path) -> dict[str, str]:
    """Like tree() but hashed: safe in assertion messages (a value is never printed)."""
    import hashlib

    return {k: hashlib.sha256(v).hexdigest() for k, v in tree(root).items()}


def extension_server(token: str, values: dict):
    """A stand-in for the AWS Parameters and Secrets Lambda Extension on 127.0.0.1: answers only
    with the right X-Aws-Parameters-Secrets-Token; returns (server, requested paths)."""
    import http.server
    import json
    import threading
    from urllib.parse import parse_qs, urlsplit

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            q = parse_qs(urlsplit(self.path).query)
            if self.headers.get("X-Aws-Parameters-Secrets-Token") != token:
                self.send_response(403)
                self.end_headers()
                return
            body = ({"SecretString": values[q["secretId"][0]]} if "secretId" in q
                    else {"Parameter": {"Value": values[q["name"][0]]}})
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen
