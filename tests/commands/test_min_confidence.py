"""``--min-confidence`` and ``min_confidence``: what scan, diff and history report and fail on; the
baseline, pragmas and allowlists keep working at every level."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from scanner import models
from scanner.models import Identity
from tests.conftest import git
from tests.fakes import checksummed
from tests.engine.test_confidence import random_token, weak_password
from tests.sources.history_helpers import Repo


def random_password() -> str:
    return random_token(17)


def broken(token: str) -> str:
    return token[:-1] + ("0" if token[-1] != "0" else "1")


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, list[str]]:
    """One finding per level, plus a GitHub token whose checksum fails (low everywhere)."""
    values = [checksummed("ghp_"), random_password(), broken(checksummed("ghp_"))]
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "app" / "github.py").write_text(f'TOKEN = "{values[0]}"\n')  # high
    (root / "app" / "db.py").write_text(f'password = "{values[1]}"\n')  # medium
    (root / "tests" / "test_db.py").write_text('password = "supersecret1"\n')  # low: a fixture
    (root / "app" / "example_client.py").write_text(f'TOKEN = "{values[2]}"\n')  # low: never issued
    return root, values


def findings(r) -> list[dict]:
    return json.loads(r.out)["findings"]


def no_values(r, values) -> None:
    assert not any(v in r.out + r.err for v in values), "a raw value was printed"


def test_default_reports_medium_and_high(run_cli, tree):
    root, values = tree
    r = run_cli("scan", str(root), "-f", "json")
    no_values(r, values)
    assert r.code == 1
    assert sorted(f["confidence"] for f in findings(r)) == ["high", "medium"]
    assert json.loads(r.out)["stats"]["below_min_confidence"] == 2
    assert "2 below --min-confidence not shown" in r.err


@pytest.mark.parametrize("level, expected", [("low", ["high", "low", "low", "medium"]), ("medium", ["high", "medium"]),
                                             ("high", ["high"])])
def test_min_confidence_option(run_cli, tree, level, expected):
    root, values = tree
    r = run_cli("scan", str(root), "-f", "json", "--min-confidence", level)
    no_values(r, values)
    assert sorted(f["confidence"] for f in findings(r)) == expected


def test_only_low_findings_do_not_fail_the_run(run_cli, tree):
    root, values = tree
    (root / "app" / "github.py").unlink()
    (root / "app" / "db.py").unlink()
    r = run_cli("scan", str(root))
    no_values(r, values)
    assert r.code == 0 and r.out == ""
    assert run_cli("scan", str(root), "--min-confidence", "low").code == 1


def test_configuration_key_and_the_option_wins(run_cli, tree):
    root, values = tree
    (root / ".leakstop.yaml").write_text("min_confidence: high\n")
    r = run_cli("scan", str(root), "-f", "json", "--config", str(root / ".leakstop.yaml"))
    assert [f["confidence"] for f in findings(r)] == ["high"]
    r = run_cli("scan", str(root), "-f", "json", "--config", str(root / ".leakstop.yaml"), "--min-confidence", "low")
    assert len(findings(r)) == 4
    no_values(r, values)


@pytest.mark.parametrize("args, message", [
    (["--min-confidence", "certain"], "Invalid value for '--min-confidence'"),
])
def test_bad_option_is_one_line(run_cli, tree, args, message):
    root, _ = tree
    r = run_cli("scan", str(root), *args)
    assert r.code == 2 and message in r.err and len(r.err.strip().splitlines()) == 1


def test_bad_configuration_value_is_one_line(run_cli, tree):
    root, _ = tree
    (root / ".leakstop.yaml").write_text("min_confidence: sure\n")
    r = run_cli("scan", str(root), "--config", str(root / ".leakstop.yaml"))
    assert r.code == 2 and "'min_confidence' must be one of low, medium, high" in r.err
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1


def test_baseline_accepts_every_level(run_cli, tree, tmp_path):
    root, values = tree
    bl = tmp_path / "baseline.json"
    assert run_cli("baseline", "create", str(root), "-o", str(bl)).code == 0
    assert len(json.loads(bl.read_text())["entries"]) == 4  # low ones too
    r = run_cli("scan", str(root), "--baseline", str(bl), "--min-confidence", "low")
    no_values(r, values)
    assert r.code == 0


def test_pragma_and_allowlist_still_drop_high_findings(run_cli, tree):
    root, values = tree
    token = values[0]
    (root / "app" / "github.py").write_text(f'TOKEN = "{token}"  # leakstop:allow\n')
    r = run_cli("scan", str(root), "-f", "json", "--min-confidence", "high")
    assert findings(r) == [] and r.code == 0
    (root / "app" / "github.py").write_text(f'TOKEN = "{token}"\n')
    (root / ".leakstop.yaml").write_text("allowlist:\n  paths: ['**/app/github.py']\n")
    r = run_cli("scan", str(root), "-f", "json", "--min-confidence", "high", "--config", str(root / ".leakstop.yaml"))
    assert findings(r) == []
    no_values(r, values)


@pytest.fixture
def stretch_key(monkeypatch) -> tuple[Identity, list[int]]:
    """A fingerprint key for the run (as an Identity that identifies eagerly) and one entry per
    scrypt call from here on."""
    key = secrets.token_hex(16)
    monkeypatch.setenv("LEAKSTOP_FINGERPRINT_KEY", key)
    calls: list[int] = []
    real = models.hashlib.scrypt
    monkeypatch.setattr(models.hashlib, "scrypt", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    return Identity(key.encode(), "env"), calls


def weak_fixture_is_stretched_only_when_reported(run_cli, stretch_key, args: list[str], cwd: Path, value: str,
                                                 name: str) -> None:
    """At the default floor the weak test password is counted, never stretched; at ``low`` it is
    reported with the fingerprint an identity computing it when found gives."""
    identity, stretches = stretch_key
    stretches.clear()
    r = run_cli(*args, "-f", "json", cwd=cwd)
    assert not any(f["path"].endswith(name) for f in findings(r))
    assert json.loads(r.out)["stats"]["below_min_confidence"] >= 1
    assert stretches == [], "a finding that is not reported was stretched"
    r = run_cli(*args, "-f", "json", "--min-confidence", "low", cwd=cwd)
    assert stretches, "a reported weak value was not stretched"
    [f] = [f for f in findings(r) if f["path"].endswith(name)]
    expected = identity.fingerprint(f["rule_id"], value.encode())
    assert f["confidence"] == "low" and f["fingerprint"] == expected
    no_values(r, [value])


def committed_repo(make_repo) -> tuple[Path, str]:
    """A repository with one commit (a README), and that commit's id."""
    repo = make_repo()
    (repo / "README.md").write_text("# x\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo, git(repo, "rev-parse", "HEAD").strip()


def test_scan_stretches_weak_values_only_for_reported_findings(run_cli, tree, stretch_key):
    root, values = tree
    value = weak_password()
    (root / "tests" / "test_login.py").write_text(f'password = "{value}"\n')
    weak_fixture_is_stretched_only_when_reported(run_cli, stretch_key, ["scan", "-j1", str(root)], root, value,
                                                 "test_login.py")


def test_diff_stretches_weak_values_only_for_reported_findings(run_cli, make_repo, stretch_key):
    repo, base = committed_repo(make_repo)
    value = weak_password()
    (repo / "tests").mkdir()
    (repo / "tests" / "test_login.py").write_text(f'password = "{value}"\n')
    git(repo, "add", "-A")
    weak_fixture_is_stretched_only_when_reported(run_cli, stretch_key, ["diff", "--staged"], repo, value, "test_login.py")
    git(repo, "commit", "-q", "-m", "tests")
    weak_fixture_is_stretched_only_when_reported(run_cli, stretch_key, ["diff", f"{base}..HEAD"], repo, value,
                                                 "test_login.py")


def test_image_stretches_weak_values_only_for_reported_findings(run_cli, tmp_path, stretch_key):
    from tests.sources.image_builder import config_doc, docker_save, layer_tar

    value = weak_password()
    layers = [layer_tar({"app/tests/test_login.py": f'password = "{value}"\n'.encode()})]
    archive = tmp_path / "app.tar"
    docker_save(archive, layers, config_doc(layers, env=["PATH=/usr/bin"], history=["COPY app/ /app/"]))
    weak_fixture_is_stretched_only_when_reported(run_cli, stretch_key, ["image", str(archive)], tmp_path, value,
                                                 "test_login.py")


def test_diff_staged_honours_min_confidence(run_cli, make_repo):
    repo, _ = committed_repo(make_repo)
    fake = broken(checksummed("ghp_"))  # never issued: in a test file, a made-up example (low)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_client.py").write_text(f'TOKEN = "{fake}"\n')
    git(repo, "add", "tests/test_client.py")
    r = run_cli("diff", "--staged", cwd=repo)
    assert r.code == 0 and "1 below --min-confidence not shown" in r.err
    r = run_cli("diff", "--staged", "--min-confidence", "low", "-f", "json", cwd=repo)
    assert r.code == 1 and [f["confidence"] for f in findings(r)] == ["low"]
    assert findings(r)[0]["confidence_signals"]["checksum_invalid"] == -10
    assert fake not in r.out + r.err


def test_diff_range_sees_a_fixture_shared_by_the_change(run_cli, make_repo):
    repo, base = committed_repo(make_repo)
    value = random_password()
    for name in ("test_a.py", "test_b.py"):
        (repo / name).write_text(f'SECRET_KEY = "{value}"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tests")
    r = run_cli("diff", f"{base}..HEAD", "-f", "json", "--min-confidence", "low", cwd=repo)
    assert {f["confidence"] for f in findings(r)} == {"low"}
    assert all(f["confidence_signals"]["shared_fixture"] == -3 for f in findings(r))
    assert run_cli("diff", f"{base}..HEAD", cwd=repo).code == 0
    assert value not in r.out + r.err


def test_history_honours_min_confidence_and_counts_every_path(run_cli, tmp_path):
    value = random_password()
    repo = Repo(tmp_path / "r")
    repo.commit("one", **{"tests/test_a.py": f'SECRET_KEY = "{value}"\n'})
    repo.commit("two", **{"tests/test_b.py": f'SECRET_KEY = "{value}"\n'})
    r = run_cli("history", str(repo.path), "-f", "json", "--min-confidence", "low")
    [f] = findings(r)
    assert f["paths"] == 2 and f["confidence"] == "low" and f["confidence_signals"]["shared_fixture"] == -3
    r = run_cli("history", str(repo.path), "-f", "json")
    assert findings(r) == [] and r.code == 0
    assert value not in r.out + r.err


def test_history_incremental_keeps_confidence(run_cli, tmp_path):
    token = checksummed("ghp_")
    repo = Repo(tmp_path / "r")
    repo.commit("one", **{"app.py": f'TOKEN = "{token}"\n'})
    first = run_cli("history", str(repo.path), "-f", "json", "--incremental")
    repo.commit("two", **{"README.md": "# x\n"})
    again = run_cli("history", str(repo.path), "-f", "json", "--incremental")
    assert [f["confidence"] for f in findings(first)] == [f["confidence"] for f in findings(again)] == ["high"]
    assert findings(again)[0]["confidence_signals"] == findings(first)[0]["confidence_signals"]
    assert token not in first.out + again.out
