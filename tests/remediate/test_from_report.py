"""``remediate PATH --from-report``: only PATH changes; multi-line values (key blocks) are moved
whole or left as a manual step, never half-rewritten."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from pathlib import Path

import boto3

from tests.conftest import git
from tests.fakes import github_token
from tests.remediate.conftest import digest_tree


def fake_pem() -> str:
    """A PKCS#8-shaped block of random bytes (not a key: made up at run time)."""
    body = base64.b64encode(secrets.token_bytes(600)).decode()
    return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + \
        "\n-----END PRIVATE KEY-----"


def h(v: str) -> str:
    return hashlib.sha256(v.encode()).hexdigest()


def _repo(make_repo) -> tuple[Path, dict]:
    repo = make_repo("app")
    values = {"env": fake_pem(), "py": fake_pem(), "yaml": fake_pem(), "inside": github_token(), "outside": github_token()}
    files = {
        "app/.env": f'A=1\nTLS_KEY="{values["env"]}"\nB=2\n',
        "app/keys.py": f'import os\nSIGNING_KEY = """{values["py"]}"""\nX = 1\n',
        "app/conf.yaml": "svc:\n  private_key: |\n" + "".join(f"    {ln}\n" for ln in values["yaml"].splitlines())
                         + "  other: 1\n",
        "app/tok.py": f'TOKEN = "{values["inside"]}"\n',
        "other/tok.py": f'TOKEN = "{values["outside"]}"\n',
    }
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo, values


def test_from_report_changes_only_path_and_moves_key_blocks(make_repo, run_cli):
    """Before: other/tok.py was rewritten too, and every multi-line finding failed with
    'fingerprint mismatch' (the report's value was re-read from one line)."""
    repo, values = _repo(make_repo)
    r = run_cli("scan", ".", "-f", "json", "-o", "report.json", "--engine", "keywords", cwd=repo)
    assert r.code == 1 and len(json.load(open(repo / "report.json"))["findings"]) == 5
    outside = digest_tree(repo / "other")
    r = run_cli("remediate", "app", "--from-report", "report.json", "--project", "shop", "--env", "prod",
                "--engine", "keywords", "--apply", cwd=repo)
    assert r.code == 1, r.err  # applied; the YAML block below is left as a manual step
    assert "skipped: other/tok.py:1 (github-pat-classic): outside app, not changed" in r.out
    assert digest_tree(repo / "other") == outside
    for v in values.values():
        for part in [v, *v.splitlines()[1:-1]]:
            assert part not in r.out + r.err, "a value (or a line of a key) was printed"
    env = (repo / "app/.env").read_text()
    assert env == "A=1\n# leakstop: TLS_KEY moved to Secrets Manager secret shop/prod/tls#private_key\nTLS_KEY=\nB=2\n"
    assert values["py"] not in (repo / "app/keys.py").read_text() and "leakstop_env_or_lookup(\"SIGNING_KEY\"" in (repo / "app/keys.py").read_text()
    assert values["inside"] not in (repo / "app/tok.py").read_text()
    # The YAML block keeps its value (its lines are indented in the file): a manual step, not half a rewrite.
    assert "manual: app/conf.yaml:3: a multi-line value in a YAML block scalar" in r.out
    stored = {}
    sm = boto3.client("secretsmanager")
    for s in sm.list_secrets()["SecretList"]:
        for k, v in json.loads(sm.get_secret_value(SecretId=s["Name"])["SecretString"]).items():
            stored[(s["Name"], k)] = h(v)
    assert stored[("shop/prod/tls", "private_key")] == h(values["env"])
    assert h(values["py"]) in {v for (name, k), v in stored.items() if k == "private_key"}
    assert h(values["outside"]) not in stored.values()


def test_dry_run_with_from_report_lists_skipped_in_json(make_repo, run_cli):
    repo, _ = _repo(make_repo)
    run_cli("scan", ".", "-f", "json", "-o", "report.json", "--engine", "keywords", cwd=repo)
    r = run_cli("remediate", "app", "--from-report", "report.json", "--project", "shop", "--env", "prod",
                "--engine", "keywords", "-f", "json", cwd=repo)
    assert r.code == 0, r.err
    assert json.loads(r.out)["skipped"] == ["other/tok.py:1 (github-pat-classic): outside app"]


def test_symlink_out_of_path_is_skipped(make_repo, run_cli):
    repo, _ = _repo(make_repo)
    os.symlink("../other/tok.py", repo / "app" / "link.py")
    run_cli("scan", ".", "-f", "json", "-o", "report.json", "--engine", "keywords", cwd=repo)
    doc = json.load(open(repo / "report.json"))
    doc["findings"].append({**next(f for f in doc["findings"] if f["path"] == "other/tok.py"), "path": "app/link.py"})
    (repo / "report.json").write_text(json.dumps(doc))
    r = run_cli("remediate", "app", "--from-report", "report.json", "--project", "shop", "--env", "prod",
                "--engine", "keywords", cwd=repo)
    assert "skipped: app/link.py:1 (github-pat-classic): outside app" in r.out
