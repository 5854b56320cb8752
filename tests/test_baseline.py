"""Baselines: create, survive unrelated edits and moved lines, report changed values, list stale
entries, import a real detect-secrets baseline; inline allow pragmas."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from scanner.baseline import VERSION, Baseline, entry_hash_v1, load_baseline, new_baseline
from scanner.errors import LeakstopError
from scanner.models import Finding, Identity
from tests.conftest import git

PW = "Wq4Zr8Lp2Kv9Tx6M"
AKIA = "AKIAZ5QW2XHC7RJK3MNB"
ROOT = Path(__file__).resolve().parent.parent
DETECT_SECRETS = ROOT / ".venv" / "bin" / "detect-secrets"
ENGINE = ("--engine", "keywords")  # skip compiling the Hyperscan database in these tests


def _project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / ".env").write_text(f"APP=orders\nDB_PASSWORD={PW}\nDEBUG=false\n")
    (proj / "settings.ini").write_text(f"[aws]\naws_access_key_id = {AKIA}\nregion = eu-west-1\n")
    return proj


def _scan(run_cli, proj: Path, *extra: str):
    r = run_cli("scan", ".", "-f", "json", "-q", *ENGINE, *extra, cwd=proj)
    return r.code, json.loads(r.out)["findings"] if r.out.strip() else []


def test_create_then_scan_is_clean(run_cli, tmp_path):
    proj = _project(tmp_path)
    code, findings = _scan(run_cli, proj)
    assert code == 1 and len(findings) >= 2
    r = run_cli("baseline", "create", *ENGINE, cwd=proj)
    assert r.code == 0
    text = (proj / ".leakstop-baseline.json").read_text()
    assert PW not in text and AKIA not in text and '"line' not in text
    assert _scan(run_cli, proj, "--baseline", ".leakstop-baseline.json") == (0, [])


def test_unrelated_edits_and_moved_lines_stay_suppressed(run_cli, tmp_path):
    proj = _project(tmp_path)
    run_cli("baseline", "create", *ENGINE, cwd=proj)
    before = (proj / ".leakstop-baseline.json").read_bytes()
    (proj / ".env").write_text(f"# header added\nAPP=billing\nNEW_FLAG=1\n\nDEBUG=true\nDB_PASSWORD={PW}\n")
    (proj / "settings.ini").write_text(f"[general]\nname = x\n\n[aws]\nregion = us-east-1\naws_access_key_id = {AKIA}\n")
    assert _scan(run_cli, proj, "--baseline", ".leakstop-baseline.json") == (0, [])
    # Re-creating after unrelated edits rewrites the same bytes (same salt, no lines, sorted).
    run_cli("baseline", "create", *ENGINE, cwd=proj)
    assert (proj / ".leakstop-baseline.json").read_bytes() == before


def test_changed_value_is_reported_and_old_entry_is_stale(run_cli, tmp_path):
    proj = _project(tmp_path)
    run_cli("baseline", "create", *ENGINE, cwd=proj)
    (proj / ".env").write_text(f"APP=orders\nDB_PASSWORD={PW[::-1]}\n")
    code, findings = _scan(run_cli, proj, "--baseline", ".leakstop-baseline.json")
    assert code == 1 and [(f["path"], f["key"]) for f in findings] == [(".env", "DB_PASSWORD")]
    r = run_cli("baseline", "check", *ENGINE, cwd=proj)
    assert r.code == 1 and r.out.count("stale\t") == 1 and ".env" in r.out and PW not in r.out
    r = run_cli("baseline", "check", "--prune", *ENGINE, cwd=proj)
    assert r.code == 0
    assert run_cli("baseline", "check", *ENGINE, cwd=proj).code == 0


def test_same_value_in_another_file_is_new(run_cli, tmp_path):
    proj = _project(tmp_path)
    run_cli("baseline", "create", *ENGINE, cwd=proj)
    (proj / "prod.env").write_text(f"DB_PASSWORD={PW}\n")
    code, findings = _scan(run_cli, proj, "--baseline", ".leakstop-baseline.json")
    assert code == 1 and [f["path"] for f in findings] == ["prod.env"]


def test_baseline_paths_work_from_another_directory(run_cli, tmp_path):
    proj = _project(tmp_path)
    run_cli("baseline", "create", str(proj), *ENGINE, cwd=tmp_path)
    r = run_cli("scan", "proj", "-q", *ENGINE, "--baseline", "proj/.leakstop-baseline.json", cwd=tmp_path)
    assert r.code == 0, r.out


def test_format_is_sorted_one_entry_per_line(tmp_path):
    def f(path, rule, value):
        return Finding(rule, "p", "d", "high", "generic", path, 1, 1, 2, "x…", "fp", "h", secret=value)

    out = tmp_path / ".leakstop-baseline.json"
    bl = new_baseline(out)
    bl.add([f("b.env", "r2", b"v2"), f("a.env", "r1", b"v1"), f("a.env", "r1", b"v1")])
    bl.save(out)
    lines = out.read_text().splitlines()
    rows = [json.loads(line.strip().rstrip(",")) for line in lines if line.strip().startswith('{"path"')]
    assert [r["path"] for r in rows] == ["a.env", "b.env"]
    assert rows[0]["hash"] == Identity(bl.salt.encode()).digest("r1", b"v1")
    doc = json.loads(out.read_text())
    assert doc["version"] == VERSION == 3 and len(doc["entries"]) == 2 and len(doc["salt"]) == 32
    # A new baseline gets a new random salt: hashes are not comparable across repositories.
    assert Baseline.new(tmp_path).salt != Baseline.new(tmp_path).salt


@pytest.mark.parametrize(
    "content, message",
    [(None, "baseline file not found"), ("{", "invalid JSON"), ('{"entries": []}', "needs 'salt'"),
     ('{"results": {}, "plugins_used": []}', "detect-secrets baseline")],
)
def test_bad_baseline_files(tmp_path, run_cli, content, message):
    path = tmp_path / "b.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(LeakstopError, match=message):
        load_baseline(path)
    (tmp_path / "a.txt").write_text("nothing here\n")
    r = run_cli("scan", "a.txt", *ENGINE, "--baseline", str(path), cwd=tmp_path)
    assert r.code == 2 and "Traceback" not in r.err and message.split()[0] in r.err


@pytest.mark.skipif(not DETECT_SECRETS.exists(), reason="detect-secrets is not installed in .venv")
def test_import_real_detect_secrets_baseline(run_cli, tmp_path, make_repo):
    repo = make_repo()
    (repo / "config.py").write_text(f'password = "{PW}"\naws_key = "{AKIA}"\n')
    (repo / "other.ini").write_text("[x]\nname = nothing secret\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    out = subprocess.run([str(DETECT_SECRETS), "scan"], cwd=repo, capture_output=True, text=True, check=True).stdout
    (repo / ".secrets.baseline").write_text(out)
    ds = json.loads(out)["results"]
    assert "config.py" in ds and len(ds["config.py"]) >= 2
    assert _scan(run_cli, repo)[0] == 1
    r = run_cli("baseline", "import", ".secrets.baseline", *ENGINE, cwd=repo)
    assert r.code == 0 and "imported" in r.err and PW not in r.out + r.err
    doc = json.loads((repo / ".leakstop-baseline.json").read_text())
    assert {e["path"] for e in doc["entries"]} == {"config.py"}
    skip = ()  # .secrets.baseline itself (SHA-1 hashes) is never scanned
    assert _scan(run_cli, repo, "--baseline", ".leakstop-baseline.json", *skip) == (0, [])
    # A value detect-secrets never accepted is still reported.
    (repo / "config.py").write_text(f'password = "{PW}"\naws_key = "{AKIA}"\ntoken = "Hq7Kx2Wz9Lm4Rv8Tp3Nb6Jd"\n')
    (repo / "creds.ini").write_text(f"[aws]\naws_access_key_id = {AKIA}\n")
    code, findings = _scan(run_cli, repo, "--baseline", ".leakstop-baseline.json", *skip)
    assert code == 1 and {f["path"] for f in findings} == {"config.py", "creds.ini"}
    assert [f["line"] for f in findings if f["path"] == "config.py"] == [3]


def test_import_rejects_non_detect_secrets_file(run_cli, tmp_path):
    (tmp_path / "x.json").write_text('{"salt": "a", "entries": []}')
    r = run_cli("baseline", "import", "x.json", *ENGINE, cwd=tmp_path)
    assert r.code == 2 and "not a detect-secrets baseline" in r.err


@pytest.mark.parametrize("pragma", ["# leakstop:allow", "# pragma: allowlist secret", "# gitleaks:allow"])
def test_inline_allow_pragmas(run_cli, tmp_path, pragma):
    (tmp_path / "settings.ini").write_text(f"[aws]\naws_access_key_id = {AKIA} {pragma}\nother = {AKIA[:-1]}Q\n")
    (tmp_path / ".env").write_text(f"DB_PASSWORD={PW} {pragma}\n")
    code, findings = _scan(run_cli, tmp_path)
    assert code == 1 and [(f["path"], f["line"]) for f in findings] == [("settings.ini", 3)]


def test_pragma_applies_only_to_its_line(run_cli, tmp_path):
    (tmp_path / ".env").write_text(f"# leakstop:allow\nDB_PASSWORD={PW}\n")
    code, findings = _scan(run_cli, tmp_path)
    assert code == 1 and [f["line"] for f in findings] == [2]


def test_entries_are_keyed_and_stretched_for_short_values(run_cli, tmp_path):
    """A short password's entry is not a fast salted SHA-256 (which confirms a guess offline)."""
    proj = _project(tmp_path)
    assert run_cli("baseline", "create", ".", *ENGINE, cwd=proj).code == 0
    bl = load_baseline(proj / ".leakstop-baseline.json")
    assert bl.version == 3
    [pw] = [e for e in bl.entries if e.path == ".env"]
    assert pw.hash != entry_hash_v1(bl.salt, pw.rule_id, PW.encode())
    assert pw.hash == Identity(bl.salt.encode()).digest(pw.rule_id, PW.encode())


def test_create_and_check_stretch_a_weak_value_once(run_cli, tmp_path, monkeypatch):
    """The scan runs under the baseline's key, so the one stretch of a short password serves its
    finding and its entry (it was stretched twice: under the scan's key, then the baseline's)."""
    import hashlib

    from scanner import models

    proj = _project(tmp_path)
    weak = "Winter2024!"
    (proj / "db.env").write_text(f"DB_PASSWORD={weak}\n")
    calls: list[bytes] = []
    real = hashlib.scrypt
    monkeypatch.setattr(models.hashlib, "scrypt", lambda value, **kw: calls.append(value) or real(value, **kw))
    assert run_cli("baseline", "create", ".", *ENGINE, cwd=proj).code == 0
    assert len(calls) == 1 and calls[0] == weak.encode()
    calls.clear()
    assert run_cli("baseline", "check", ".", *ENGINE, cwd=proj).code == 0  # nothing stale
    assert len(calls) == 1


def test_version_1_baselines_are_still_read_and_upgraded_on_create(run_cli, tmp_path):
    proj = _project(tmp_path)
    assert run_cli("baseline", "create", ".", *ENGINE, cwd=proj).code == 0
    path = proj / ".leakstop-baseline.json"
    doc = json.loads(path.read_text())
    for e in doc["entries"]:
        value = PW if e["path"] == ".env" else AKIA
        e["hash"] = entry_hash_v1(doc["salt"], e["rule_id"], value.encode())
    doc["version"] = 1
    path.write_text(json.dumps(doc))
    assert _scan(run_cli, proj, "--baseline", ".leakstop-baseline.json")[0] == 0
    assert run_cli("baseline", "check", ".", *ENGINE, cwd=proj).code == 0
    assert run_cli("baseline", "create", ".", *ENGINE, cwd=proj).code == 0
    assert json.loads(path.read_text())["version"] == 3
    assert _scan(run_cli, proj, "--baseline", ".leakstop-baseline.json")[0] == 0
    doc["version"] = 7
    path.write_text(json.dumps(doc))
    r = run_cli("scan", ".", "--baseline", ".leakstop-baseline.json", cwd=proj)
    assert r.code == 2 and "unsupported baseline version 7" in r.err and "re-create it" in r.err


def test_version_2_baselines_match_values_the_current_scheme_no_longer_stretches(run_cli, tmp_path):
    """A version 2 file was written when every value under 128 Shannon bits was stretched (a
    20-character random key too); after the upgrade its entries still match, until re-created."""
    from scanner.models import guessable

    key = "".join(__import__("secrets").choice("abcdefghijkLMNOPQR0123456789") for _ in range(20))
    while guessable(key.encode()):  # 1 draw in 40 spells a word or repeats: still stretched
        key = "".join(__import__("secrets").choice("abcdefghijkLMNOPQR0123456789") for _ in range(20))
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / ".env").write_text(f"STRIPE_API_KEY={key}\n")
    assert run_cli("baseline", "create", ".", *ENGINE, cwd=proj).code == 0
    path = proj / ".leakstop-baseline.json"
    doc = json.loads(path.read_text())
    [entry] = doc["entries"]
    legacy = Identity(doc["salt"].encode(), "baseline", scheme=1).digest(entry["rule_id"], key.encode())
    assert legacy != entry["hash"]  # the schemes differ for this value ...
    entry["hash"], doc["version"] = legacy, 2
    path.write_text(json.dumps(doc))
    assert _scan(run_cli, proj, "--baseline", ".leakstop-baseline.json")[0] == 0  # ... and v2 still matches


def test_a_file_name_holding_the_value_is_stored_masked(run_cli, tmp_path):
    token = __import__("tests.fakes", fromlist=["checksummed"]).checksummed("ghp_")
    proj = tmp_path / "proj"
    (proj / "keys").mkdir(parents=True)
    (proj / "keys" / f"{token}.txt").write_text(token + "\n")
    assert run_cli("baseline", "create", ".", *ENGINE, cwd=proj).code == 0
    text = (proj / ".leakstop-baseline.json").read_text()
    assert token[4:] not in text and "keys/ghp_….txt" in text
    assert _scan(run_cli, proj, "--baseline", ".leakstop-baseline.json")[0] == 0
