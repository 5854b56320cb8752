"""``leakstop scan``: exit codes, formats, output file, configuration, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

KEY = "AKIAZ5QW2XHC7RJK3MNB"


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(f"import os\nAWS = '{KEY}'\n")
    (tmp_path / "clean.py").write_text("print('hello')\n")
    return tmp_path


def test_exit_codes(run_cli, leaky: Path, tmp_path: Path):
    r = run_cli("scan", str(leaky))
    assert r.code == 1
    assert f"{leaky}/app.py:2:8: aws-access-key-id" in r.out and "AKIA…" in r.out and KEY not in r.out + r.err
    assert "1 finding(s) in 2 files scanned" in r.err
    assert run_cli("scan", str(leaky / "clean.py")).code == 0


@pytest.mark.parametrize("args, message", [
    (["scan", "/definitely/not/here"], "no such file or directory"),
    (["scan", "--format", "xml", "."], "Invalid value for '-f' / '--format'"),
    (["scan", "--max-file-size", "lots", "."], "invalid size"),
    (["scan", "--config", "/nope.yaml", "."], "configuration file not found"),
    (["nosuchcommand"], "No such command"),
])
def test_usage_errors_exit_2_with_one_line(run_cli, args, message):
    r = run_cli(*args)
    assert r.code == 2
    assert message in r.err and "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_json_output_file(run_cli, leaky: Path, tmp_path: Path):
    out = tmp_path / "report.json"
    r = run_cli("scan", str(leaky), "--format", "json", "--output", str(out))
    assert r.code == 1 and r.out == ""
    doc = json.loads(out.read_text())
    [f] = doc["findings"]
    assert f["rule_id"] == "aws-access-key-id" and f["line"] == 2 and f["masked"] == "AKIA…"
    assert set(f) >= {"rule_id", "provider", "description", "path", "line", "column", "masked", "fingerprint"}
    assert doc["stats"]["files_scanned"] == 2
    assert KEY not in out.read_text()


def test_stdin(run_cli, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(f"x={KEY}\n".encode())))
    r = run_cli("scan", "-", "--format", "jsonl")
    assert r.code == 1 and json.loads(r.out)["path"] == "<stdin>"


def test_config_disables_rule_and_allowlists(run_cli, leaky: Path):
    cfg = leaky / "cfg.yaml"
    cfg.write_text("disabled_rules: [aws-access-key-id]\n")
    assert run_cli("scan", str(leaky), "--config", str(cfg)).code == 0
    cfg.write_text("allowlist:\n  paths: ['app.py']\n")
    (leaky / ".git").mkdir()
    (leaky / ".leakstop.yaml").write_text("allowlist:\n  stopwords: ['7rjk3mnb']\n")
    assert run_cli("scan", str(leaky)).code == 0  # .leakstop.yaml at the repository root


@pytest.mark.parametrize("content, message", [
    ("colour: red\n", "unknown key 'colour'"),
    ("allowlist:\n  pathz: [x]\n", "unknown key 'allowlist.pathz'"),
    ("allowlist:\n  regexes: ['(']\n", "'allowlist.regexes': invalid regex"),
    ("disabled_rules: [no-such-rule]\n", "unknown rule id 'no-such-rule'"),
    ("max_file_size: -4\n", "'max_file_size' must be a positive"),
    ("rules:\n  - id: x\n", "missing required key"),
    ("rules: [\n", "invalid YAML"),
])
def test_config_errors_name_file_and_key(run_cli, leaky: Path, content, message):
    cfg = leaky / "bad.yaml"
    cfg.write_text(content)
    r = run_cli("scan", str(leaky), "--config", str(cfg))
    assert r.code == 2 and message in r.err and str(cfg) in r.err


def test_config_adds_inline_rule(run_cli, tmp_path: Path):
    (tmp_path / "x.txt").write_text("tok = acme_Q8zr2Lm5Xw9Tb3Nc7Kp1\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "rules:\n  - id: acme-token\n    name: Acme token\n    provider: acme\n    regex: '(?P<secret>acme_[A-Za-z0-9]{20})'\n"
        "    keywords: [acme_]\n    severity: high\n    rotation: Revoke it in the Acme console.\n"
        "    examples: ['acme_Q8zr2Lm5Xw9Tb3Nc7Kp1']\n    negative_examples: ['acme_short']\n")
    r = run_cli("scan", str(tmp_path / "x.txt"), "--config", str(cfg), "-f", "jsonl")
    assert r.code == 1 and json.loads(r.out)["rule_id"] == "acme-token"


ACME_RULE = (
    "  - id: {id}\n    name: Acme token\n    provider: acme\n    regex: '(?P<secret>acme_[A-Za-z0-9]{{20}})'\n"
    "    keywords: [acme_]\n    severity: high\n    rotation: Revoke it in the Acme console.\n"
    "    examples: ['acme_Q8zr2Lm5Xw9Tb3Nc7Kp1']\n    negative_examples: ['acme_short']\n"
)


@pytest.mark.parametrize("rule_id", ["github-pat-classic", "acme-token"])
def test_inline_rule_reusing_an_id_is_an_error(run_cli, tmp_path: Path, rule_id):
    """An inline rule named like a built-in (or like another inline rule) is not silently added
    beside it: one line naming the file and the id, exit 2."""
    (tmp_path / "x.txt").write_text("nothing\n")
    cfg = tmp_path / "c.yaml"
    rules = ACME_RULE.format(id=rule_id) + (ACME_RULE.format(id="acme-token") if rule_id == "acme-token" else "")
    cfg.write_text("rules:\n" + rules)
    r = run_cli("scan", str(tmp_path / "x.txt"), "--config", str(cfg))
    assert r.code == 2 and r.err.count("\n") == 1
    assert str(cfg) in r.err and f"rule id '{rule_id}' is already defined" in r.err


def test_rule_pack_reusing_a_builtin_id_is_an_error(run_cli, tmp_path: Path):
    (tmp_path / "x.txt").write_text("nothing\n")
    (tmp_path / "pack.yaml").write_text("rules:\n" + ACME_RULE.format(id="github-pat-classic"))
    cfg = tmp_path / "c.yaml"
    cfg.write_text("rule_files: [pack.yaml]\n")
    r = run_cli("scan", str(tmp_path / "x.txt"), "--config", str(cfg))
    assert r.code == 2 and r.err.count("\n") == 1
    assert "pack.yaml" in r.err and "rule id 'github-pat-classic' is already defined" in r.err


def test_disabled_builtin_id_may_be_reused_by_no_one(run_cli, tmp_path: Path):
    """Disabling a built-in does not free its id: the inline rule still needs its own."""
    (tmp_path / "x.txt").write_text("nothing\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("disabled_rules: [github-pat-classic]\nrules:\n" + ACME_RULE.format(id="github-pat-classic"))
    assert run_cli("scan", str(tmp_path / "x.txt"), "--config", str(cfg)).code == 2


def test_skipped_and_decoded_files_are_reported(run_cli, tmp_path: Path):
    (tmp_path / "big.txt").write_text("a" * 5000)
    (tmp_path / "bin.dat").write_bytes(b"\0\1\2")
    (tmp_path / "wide.txt").write_bytes("hello\n".encode("utf-16"))
    r = run_cli("scan", str(tmp_path), "--max-file-size", "1KB")
    assert r.code == 0 and "in 2 files scanned (1 binary: printable text, provider rules only; " \
        "1 decoded from UTF-16-LE); skipped 1 too large" in r.err


def test_real_process_entry_point(leaky: Path):
    """The installed console script and ``python -m scanner`` behave the same."""
    proc = subprocess.run([sys.executable, "-m", "scanner", "scan", str(leaky), "-q"], capture_output=True, text=True)
    assert proc.returncode == 1 and "AKIA…" in proc.stdout and proc.stderr == ""


def test_parallel_and_sequential_scans_agree(run_cli, tmp_path: Path, monkeypatch):
    """Past its CPU budget the walk is split over worker processes: same report."""
    monkeypatch.setattr("scanner.execute.SERIAL_CPU_SECONDS", 0.0)  # split after the first file
    for i in range(240):
        body = f"AWS = 'AKIAZ5QW2XHC7RJK{chr(65 + i % 26)}MNB'\n" if i % 37 == 0 else "x = 1\n"
        (tmp_path / f"m{i:04d}.py").write_text(body)
    (tmp_path / "blob.bin").write_bytes(b"\0" * 10)
    one = run_cli("scan", str(tmp_path), "-f", "json", "-j", "1")
    two = run_cli("scan", str(tmp_path), "-f", "json", "-j", "2")
    assert one.code == two.code == 1
    a, b = json.loads(one.out), json.loads(two.out)
    assert a["findings"] == b["findings"] and len(a["findings"]) == 7
    assert a["stats"] == b["stats"] and a["stats"]["decoded"] == {"binary": 1}


def test_named_file_over_the_size_limit_is_scanned_walked_one_is_named(run_cli, tmp_path: Path):
    """pre-commit's leakstop-files hook passes names: a named file over the limit is scanned (in
    windows), never skipped with exit 0; a walk skips it and says which and why."""
    big = tmp_path / "seed.sql"
    big.write_text("-- row\n" * 2000 + f"INSERT INTO k VALUES ('{KEY}');\n")
    r = run_cli("scan", str(big), "--max-file-size", "1KB", "-f", "json")
    doc = json.loads(r.out)
    assert r.code == 1 and [(f["line"], f["column"]) for f in doc["findings"]] == [(2001, 24)]
    assert doc["stats"]["streamed"] == 1 and "1 over the size limit, scanned in windows" in r.err
    assert f"1 file(s) over the 1KB size limit were scanned in windows ({big})" in r.err
    r = run_cli("scan", str(tmp_path), "--max-file-size", "1KB", "-f", "json")
    doc = json.loads(r.out)
    assert r.code == 0 and doc["stats"]["skipped"] == {"too large": 1} and doc["stats"]["max_file_size"] == 1024
    assert "skipped 1 too large (over 1KB)" in r.err
    assert f"1 file(s) over the 1KB size limit were not scanned ({big})" in r.err


def test_a_walk_that_is_little_work_stays_in_one_process(run_cli, tmp_path: Path, monkeypatch):
    """Workers are chosen from the work measured, not a file count: 300 small files are less
    work than starting them (the default -j used to be slower than -j 1 on such trees)."""
    import scanner.execute as execute

    started = []
    monkeypatch.setattr(execute.Pool, "run", lambda self, units: started.append(1) or [])
    for i in range(300):
        (tmp_path / f"m{i:04d}.py").write_text("x = 1\n")
    r = run_cli("scan", str(tmp_path), "-f", "json", "-j", "2")
    assert r.code == 0 and json.loads(r.out)["stats"]["files_scanned"] == 300 and not started
    monkeypatch.setattr(execute, "SERIAL_CPU_SECONDS", 0.0)
    run_cli("scan", str(tmp_path), "-f", "json", "-j", "2")
    assert started  # past the budget, the rest goes to workers


def _token() -> str:
    from tests.fakes import checksummed

    return checksummed("ghp_")  # a valid checksum: a made-up one is low confidence


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "sarif"])
def test_token_in_a_key_name_is_masked_in_every_format(run_cli, tmp_path, fmt):
    """A detected token that is part of a neighbouring finding's key name is not printed there."""
    tokens = [_token() for _ in range(3)]
    (tmp_path / "a.yaml").write_text(f"token-{tokens[0]}: Xq7vR2mK9pLw4ZtB\n")
    (tmp_path / "b.json").write_text(json.dumps({f"password.{tokens[1]}": "Xq7vR2mK9pLw4ZtC"}) + "\n")
    (tmp_path / "c.properties").write_text(f"secret.{tokens[2]}=Xq7vR2mK9pLw4ZtD\n")
    r = run_cli("scan", ".", "-f", fmt, "--engine", "keywords", cwd=tmp_path)
    assert r.code == 1
    leaked = [i for i, t in enumerate(tokens) if t in r.out or t[4:] in r.out]
    assert not leaked, f"tokens {leaked} printed in full"
    for shown in ("token-ghp_…", "password.ghp_…", "secret.ghp_…"):
        assert shown in r.out


def test_report_fingerprints_are_keyed_and_stable_across_clones(run_cli, make_repo, tmp_path, monkeypatch):
    import hashlib

    from tests.conftest import git

    repo = make_repo()
    (repo / "app.py").write_text(f"AWS = '{KEY}'\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    git(tmp_path, "clone", "-q", str(repo), str(tmp_path / "clone"))

    def report(where: Path, fmt: str = "json") -> dict:
        return json.loads(run_cli("scan", ".", "-f", fmt, "--engine", "keywords", cwd=where).out)

    a, b = report(repo), report(tmp_path / "clone")
    fp = a["findings"][0]["fingerprint"]
    assert fp == b["findings"][0]["fingerprint"]  # every clone of the repository agrees
    assert fp != hashlib.sha256(b"aws-access-key-id\0" + KEY.encode()).hexdigest()[:32]  # not confirmable offline
    assert a["fingerprint_key"]["source"] == "repository" and len(a["fingerprint_key"]["key_id"]) == 16
    sarif = report(repo, "sarif")["runs"][0]
    assert sarif["results"][0]["partialFingerprints"] == {"leakstop/v2": fp}
    monkeypatch.setenv("LEAKSTOP_FINGERPRINT_KEY", "an organisation-wide key")
    c = report(repo)
    assert c["fingerprint_key"]["source"] == "env" and c["findings"][0]["fingerprint"] != fp


def test_a_few_named_files_import_neither_the_pool_nor_the_archive_formats(leaky: Path, tmp_path: Path):
    """A start-up guard that needs no clock (the leakstop-files hook scans a handful of named
    files): nothing forks, no archive is met, so neither multiprocessing nor the archive formats
    are imported; a zip among them brings zipfile in."""
    import io
    import zipfile

    from tests.commands.test_diff import imported_by, loaded

    never = ("multiprocessing", "tarfile", "zipfile", "gzip", "bz2", "lzma")
    modules, proc = imported_by(["scan", "app.py", "-f", "json"], leaky)
    assert proc.returncode == 1 and json.loads(proc.stdout)["findings"]
    assert loaded(modules, never) == []
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("conf/app.py", (leaky / "app.py").read_text())
    (leaky / "bundle.zip").write_bytes(buf.getvalue())
    modules, proc = imported_by(["scan", "bundle.zip", "-f", "json"], leaky)
    assert proc.returncode == 1 and json.loads(proc.stdout)["findings"][0]["path"] == "bundle.zip!conf/app.py"
    assert "zipfile" in modules and "multiprocessing" not in modules
