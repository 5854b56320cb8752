"""``--verify`` and ``--only-verified`` on scan, diff and history, in every report format, the
results cache and ``verify --list-endpoints``; providers are local fakes (conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.verify.registry import VERIFIERS, shown_hosts
from tests.report.test_reports import validate_sarif
from tests.verify.cases import CASES, rand


@pytest.fixture
def tokens(fake, tmp_path: Path) -> dict:
    """Three GitHub tokens in a tree: one live, one revoked, and a password no verifier checks."""
    live, dead = "ghp_" + rand(36), "ghp_" + rand(36)
    (tmp_path / "a.py").write_text(f"GITHUB_TOKEN = '{live}'\n")
    (tmp_path / "b.py").write_text(f"token = '{dead}'\n")
    (tmp_path / "c.env").write_text(f"DB_PASSWORD={rand(20)}\n")
    fake.ok, fake.bad = CASES["github"].ok, CASES["github"].bad
    fake.valid.add(live)
    return {"live": live, "dead": dead}


def _by_path(doc: dict) -> dict:
    return {Path(f["path"]).name: f["verification"] for f in doc["findings"]}


def test_scan_verify_marks_every_finding(run_cli, tokens, tmp_path):
    r = run_cli("scan", ".", "--verify", "-f", "json", "--engine", "keywords", cwd=tmp_path)
    assert r.code == 1
    got = _by_path(json.loads(r.out))
    assert got["a.py"] == {"status": "verified", "detail": "login octocat, scopes repo, gist"}
    assert got["b.py"] == {"status": "invalid", "detail": "rejected (HTTP 401)"}
    assert got["c.env"]["status"] == "unknown" and "no verifier" in got["c.env"]["detail"]
    assert "verification: 1 verified, 1 invalid, 1 unknown" in r.err
    assert not any(t in r.out + r.err for t in tokens.values())


def test_only_verified_reports_and_counts_only_live_credentials(run_cli, tokens, tmp_path):
    r = run_cli("scan", ".", "--only-verified", "-f", "json", "--engine", "keywords", cwd=tmp_path)
    assert r.code == 1 and list(_by_path(json.loads(r.out))) == ["a.py"]
    (tmp_path / "a.py").unlink()
    r = run_cli("scan", ".", "--only-verified", "--engine", "keywords", cwd=tmp_path)
    assert (r.code, r.out) == (0, "")  # findings, none live: a clean exit


def test_without_verify_nothing_is_asked_and_no_field_is_added(run_cli, fake, tokens, tmp_path):
    r = run_cli("scan", ".", "-f", "json", "--engine", "keywords", cwd=tmp_path)
    assert fake.seen == []
    assert all("verification" not in f for f in json.loads(r.out)["findings"])


@pytest.mark.parametrize("fmt", ["text", "sarif", "github", "jsonl"])
def test_every_format_shows_the_status(run_cli, tokens, tmp_path, fmt):
    cmd = ("diff", "--staged") if fmt == "github" else ("scan", ".")
    if fmt == "github":
        from tests.conftest import git

        git(tmp_path, "init", "-q")
        git(tmp_path, "add", "-A")
    r = run_cli(*cmd, "--verify", "-f", fmt, "--engine", "keywords", cwd=tmp_path)
    assert r.code == 1 and not any(t in r.out for t in tokens.values())
    if fmt == "text":
        assert "[verified: login octocat, scopes repo, gist]" in r.out and "[invalid: rejected (HTTP 401)]" in r.out
    elif fmt == "sarif":
        doc = json.loads(r.out)
        validate_sarif(doc)
        props = [res["properties"]["verification"]["status"] for res in doc["runs"][0]["results"]]
        assert sorted(props) == ["invalid", "unknown", "verified"]
    elif fmt == "github":
        assert "LIVE: " in r.out and "Live check (--verify): verified, login octocat" in r.out
    else:
        assert sorted(json.loads(line)["verification"]["status"] for line in r.out.splitlines()) == [
            "invalid", "unknown", "verified"]


def test_history_verify_and_html_column(run_cli, tokens, tmp_path):
    from tests.conftest import git

    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "x")
    r = run_cli("history", ".", "--verify", "-f", "json", "--engine", "keywords", cwd=tmp_path)
    assert _by_path(json.loads(r.out))["a.py"]["status"] == "verified"
    out = tmp_path / "audit.html"
    run_cli("history", ".", "--verify", "-f", "html", "-o", str(out), "--engine", "keywords", cwd=tmp_path)
    html = out.read_text()
    assert "<th>Live check (--verify)</th>" in html and "login octocat" in html
    assert not any(t in html for t in tokens.values())


def test_results_are_cached_under_the_keyed_identity(run_cli, fake, tokens, tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("LEAKSTOP_CACHE_DIR", str(cache_dir))
    run_cli("scan", ".", "--verify", "--engine", "keywords", cwd=tmp_path)
    asked = len(fake.seen)
    assert asked == 2
    r = run_cli("scan", ".", "--verify", "-f", "json", "--engine", "keywords", cwd=tmp_path)
    assert len(fake.seen) == asked  # answered from the cache
    assert _by_path(json.loads(r.out))["a.py"]["status"] == "verified"
    raw = (cache_dir / "verify-cache.json").read_text()
    assert not any(t in raw or t[4:20] in raw for t in tokens.values())
    import hashlib

    assert not any(hashlib.sha256(t.encode()).hexdigest() in raw for t in tokens.values())
    assert (cache_dir / "verify-cache.json").stat().st_mode & 0o777 == 0o600


def test_list_endpoints_names_every_verifier_and_its_hosts(run_cli):
    r = run_cli("verify", "--list-endpoints")
    lines = r.out.splitlines()
    assert r.code == 0 and len(lines) == len(VERIFIERS)
    for line in lines:
        name, provider, hosts, request = line.split("\t")
        assert hosts.split(",") == shown_hosts(VERIFIERS[name]) and request == VERIFIERS[name].request


def test_verify_without_an_action_is_a_usage_error(run_cli):
    r = run_cli("verify")
    assert r.code == 2 and "--list-endpoints" in r.err


def test_verify_config_section_is_validated(run_cli, tmp_path):
    (tmp_path / ".leakstop.yaml").write_text("verify: {allowed_endpoint: [x]}\n")
    r = run_cli("scan", ".", cwd=tmp_path)
    assert r.code == 2 and "unknown key 'verify.allowed_endpoint'" in r.err


def test_shopify_token_is_checked_at_the_shop_its_file_names(run_cli, fake, tmp_path):
    from tests.verify.cases import hexs

    token = "shpat_" + hexs(32)
    (tmp_path / "shop.env").write_text(f"SHOPIFY_STORE=acme-outlet.myshopify.com\nSHOPIFY_TOKEN={token}\n")
    (tmp_path / "other.env").write_text(f"SHOPIFY_TOKEN={'shpat_' + hexs(32)}\n")
    fake.ok, fake.bad = CASES["shopify"].ok, CASES["shopify"].bad
    fake.valid.add(token)
    r = run_cli("scan", ".", "--verify", "-f", "json", "--engine", "keywords", cwd=tmp_path)
    got = _by_path(json.loads(r.out))
    assert got["shop.env"] == {"status": "verified", "detail": "shop Acme Store"}
    assert got["other.env"]["status"] == "unknown" and "myshopify.com" in got["other.env"]["detail"]
    assert [s.host for s in fake.seen] == ["acme-outlet.myshopify.com"]


def test_image_verify(run_cli, fake, tmp_path):
    from tests.sources.image_builder import config_doc, docker_save, layer_tar

    token = "ghp_" + rand(36)
    layers = [layer_tar({"app/.env": f"GITHUB_TOKEN={token}\n".encode()})]
    docker_save(tmp_path / "app.tar", layers, config_doc(layers, env=["PATH=/usr/bin"], history=["COPY app/ /app/"]))
    fake.ok, fake.bad = CASES["github"].ok, CASES["github"].bad
    fake.valid.add(token)
    r = run_cli("image", str(tmp_path / "app.tar"), "--only-verified", "-f", "json")
    (f,) = json.loads(r.out)["findings"]
    assert r.code == 1 and f["verification"]["status"] == "verified" and token not in r.out
