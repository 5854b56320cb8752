"""Where a diff takes its configuration, rule files and baseline from (scanner/gitconfig.py): the
base commit by default in range mode, the work tree for --staged, and what a change to them
reports (a notice in every review-facing format, a warning on stderr; never the exit code)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bypass.harness import fresh_secret
from tests.conftest import git
from tests.report.test_reports import validate_sarif


def commit_all(repo: Path, msg: str = "c") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", msg)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def token():
    return fresh_secret("github")


@pytest.fixture
def run(run_cli, token):
    def go(*args, **kw):
        r = run_cli(*args, **kw)
        assert token not in r.out + r.err, "a raw value was printed"
        return r

    return go


def _pr_loosening_config(make_repo, token) -> tuple[Path, str]:
    repo = make_repo()
    (repo / ".leakstop.yaml").write_text("allowlist:\n  paths: ['tests/fixtures/**']\n")
    (repo / "app.py").write_text("import os\n")
    base = commit_all(repo, "base")
    (repo / ".leakstop.yaml").write_text("allowlist:\n  paths: ['**']\n")
    (repo / "app.py").write_text(f"import os\nTOKEN = '{token}'\n")
    commit_all(repo, "pr")
    return repo, base


def test_range_applies_the_base_configuration_and_reports_the_change(run, make_repo, token):
    repo, base = _pr_loosening_config(make_repo, token)
    r = run("diff", f"{base}..HEAD", "-f", "json", cwd=repo)
    doc = json.loads(r.out)
    assert r.code == 1 and [f["path"] for f in doc["findings"]] == ["app.py"]
    assert doc["stats"]["config_from"] == "base" and doc["stats"]["config_revision"] == base
    assert doc["stats"]["settings_changed"] == [".leakstop.yaml"]
    assert doc["notices"] == [{"kind": "settings-change", "path": ".leakstop.yaml",
                               "message": "this change modifies the leakstop configuration .leakstop.yaml"}]
    assert "warning: this change modifies the leakstop configuration .leakstop.yaml" in r.err
    assert f"base commit {base[:12]}" in r.err
    # --config-from head trusts the change's own configuration (still reporting the change).
    r = run("diff", f"{base}..HEAD", "--config-from", "head", cwd=repo)
    assert r.code == 0 and "modifies the leakstop configuration" in r.err
    # --config-from worktree: the file on disk.
    (repo / ".leakstop.yaml").write_text("exclude: []\n")
    assert run("diff", f"{base}..HEAD", "--config-from", "worktree", cwd=repo).code == 1


def test_notice_in_sarif_and_github_formats_without_failing(run, make_repo, tmp_path):
    repo = make_repo()
    (repo / "app.py").write_text("import os\n")
    base = commit_all(repo)
    (repo / ".leakstop.yaml").write_text("disabled_rules: [github-pat-classic]\n")
    commit_all(repo)
    out = tmp_path / "r.sarif"
    assert run("diff", f"{base}..HEAD", "-f", "sarif", "-o", str(out), cwd=repo).code == 0  # a notice alone
    doc = json.loads(out.read_text())
    validate_sarif(doc)
    [res] = doc["runs"][0]["results"]
    assert (res["ruleId"], res["level"], res["properties"]["kind"]) == ("leakstop/settings-change", "warning", "notice")
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == ".leakstop.yaml"
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rules[res["ruleIndex"]]["id"] == "leakstop/settings-change"
    r = run("diff", f"{base}..HEAD", "-f", "github", cwd=repo)
    assert r.out.startswith("::warning file=.leakstop.yaml,line=1,title=leakstop%3A settings-change::this change adds")


def test_notice_in_jsonl_after_the_findings(run, make_repo, token):
    """A stream consumer sees the notice too: a line of its own, typed, after the findings."""
    repo, base = _pr_loosening_config(make_repo, token)
    r = run("diff", f"{base}..HEAD", "-f", "jsonl", cwd=repo)
    lines = [json.loads(line) for line in r.out.splitlines()]
    assert r.code == 1 and [ln.get("rule_id") for ln in lines] == ["github-pat-classic", None]
    assert lines[-1] == {"type": "notice", "kind": "settings-change", "path": ".leakstop.yaml",
                         "message": "this change modifies the leakstop configuration .leakstop.yaml"}


def test_rule_files_come_from_the_base_too(run, make_repo):
    """A rule pack the base configuration names is read from the base: a change cannot defuse a
    custom rule by editing its pack."""
    repo = make_repo()
    rule = ("rules:\n  - id: acme-internal-token\n    name: ACME token\n    provider: acme\n    category: api-keys\n"
            "    severity: high\n    description: ACME internal API token\n    rotation: Revoke it in the ACME console.\n"
            "    regex: '\\b(?P<secret>acme_[a-z0-9]{24})\\b'\n    keywords: [acme_]\n"
            "    examples: ['t = acme_0123456789abcdefghijklmn']\n    negative_examples: ['acme_short']\n")
    (repo / "ci").mkdir()
    (repo / "ci" / "rules.yaml").write_text(rule)
    (repo / ".leakstop.yaml").write_text("rule_files: [ci/rules.yaml]\n")
    (repo / "app.py").write_text("x = 1\n")
    base = commit_all(repo)
    (repo / "ci" / "rules.yaml").write_text(rule.replace("[a-z0-9]{24}", "NEVER[a-z0-9]{24}"))
    (repo / "app.py").write_text("x = 1\nt = 'acme_q8w7e6r5t4y3u2i1o0p9a8s7'\n")
    commit_all(repo)
    r = run("diff", f"{base}..HEAD", "-f", "json", cwd=repo)
    assert r.code == 1, r.err
    doc = json.loads(r.out)
    assert r.code == 1 and [f["rule_id"] for f in doc["findings"]] == ["acme-internal-token"]
    assert [n["path"] for n in doc["notices"]] == ["ci/rules.yaml"]
    assert run("diff", f"{base}..HEAD", "--config-from", "head", cwd=repo).code == 0
    # A broken pack in the base is named by its repository path.
    (repo / "ci" / "rules.yaml").write_text("rules: [\n")
    broken = commit_all(repo)
    r = run("diff", f"{broken}..HEAD", cwd=repo)
    assert r.code == 2 and r.err.startswith(f"leakstop: error: ci/rules.yaml (in the base commit {broken[:12]}): invalid YAML")


def test_explicit_config_outside_the_repository_is_read_from_disk(run, make_repo, tmp_path, token):
    repo, base = _pr_loosening_config(make_repo, token)
    outside = tmp_path / "ci-config.yaml"
    outside.write_text("allowlist:\n  paths: ['app.py']\n")
    assert run("diff", f"{base}..HEAD", "--config", str(outside), cwd=repo).code == 0
    # Named inside the repository, it is read as of the base commit.
    assert run("diff", f"{base}..HEAD", "--config", str(repo / ".leakstop.yaml"), cwd=repo).code == 1


def test_one_commit_reads_its_parent_and_no_base_reads_the_head(run, make_repo, token):
    repo, base = _pr_loosening_config(make_repo, token)
    assert run("diff", "HEAD", cwd=repo).code == 1  # HEAD's parent is the base
    r = run("diff", "0" * 40 + "..HEAD", cwd=repo)  # a branch's first push: no base commit
    assert r.code == 0 and "no base commit to read the configuration from" in r.err
    r = run("diff", base, cwd=repo)  # the root commit: nothing before it
    assert r.code == 0 and "no base commit" in r.err


def test_baseline_only_in_the_change_accepts_nothing(run, make_repo, token):
    repo = make_repo()
    (repo / "app.py").write_text("import os\n")
    base = commit_all(repo)
    (repo / "app.py").write_text(f"import os\nTOKEN = '{token}'\n")
    assert run("baseline", "create", str(repo)).code == 0
    commit_all(repo)
    r = run("diff", f"{base}..HEAD", "--baseline", ".leakstop-baseline.json", "-f", "json", cwd=repo)
    assert r.code == 1 and ".leakstop-baseline.json: not in the base commit" in r.err
    assert json.loads(r.out)["notices"][0]["message"] == "this change adds the leakstop baseline .leakstop-baseline.json"
    assert run("diff", f"{base}..HEAD", "--baseline", ".leakstop-baseline.json", "--config-from", "head", cwd=repo).code == 0


def test_invalid_base_configuration_is_a_one_line_error(run, make_repo):
    repo = make_repo()
    (repo / ".leakstop.yaml").write_text("allowlist: [\n")
    base = commit_all(repo)
    (repo / ".leakstop.yaml").write_text("exclude: []\n")
    (repo / "a.py").write_text("x = 1\n")
    commit_all(repo)
    r = run("diff", f"{base}..HEAD", cwd=repo)
    assert r.code == 2 and r.err.startswith("leakstop: error: ") and "invalid YAML" in r.err and r.err.count("\n") == 1


def test_staged_reads_the_work_tree_by_default_and_head_on_request(run, make_repo, token):
    """The hook applies the committer's own configuration (their machine, their hook); with
    --config-from base it applies HEAD's and reports what the commit changes."""
    repo = make_repo()
    (repo / "app.py").write_text("import os\n")
    commit_all(repo)
    (repo / ".leakstop.yaml").write_text("allowlist:\n  paths: ['**']\n")
    (repo / "app.py").write_text(f"import os\nTOKEN = '{token}'\n")
    git(repo, "add", "-A")
    r = run("diff", "--staged", "-f", "json", cwd=repo)
    assert r.code == 0 and "config_from" not in json.loads(r.out)["stats"]
    r = run("diff", "--staged", "--config-from", "base", "-f", "json", cwd=repo)
    doc = json.loads(r.out)
    assert r.code == 1 and doc["stats"]["config_from"] == "base"
    assert [n["path"] for n in doc["notices"]] == [".leakstop.yaml"]
    assert run("diff", "--staged", "--config-from", "head", cwd=repo).code == 0  # the index's


def test_a_rule_file_copied_from_a_commit_leaves_its_examples_out(run, make_repo, tmp_path, monkeypatch):
    """The base commit's rule pack is copied under the cache directory for the rule loader; its
    examples may be real-looking values and scanning never reads them."""
    import secrets
    import string

    example = "acme_" + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(24))
    cache = tmp_path / "cache"
    monkeypatch.setenv("LEAKSTOP_CACHE_DIR", str(cache))
    repo = make_repo()
    (repo / "ci").mkdir()
    (repo / "ci" / "rules.yaml").write_text(
        "rules:\n  - id: acme-internal-token\n    name: ACME token\n    provider: acme\n    severity: high\n"
        "    rotation: Revoke it.\n    regex: '\\b(?P<secret>acme_[a-z0-9]{24})\\b'\n    keywords: [acme_]\n"
        f"    examples: ['t = {example}']\n    negative_examples: ['acme_short']\n")
    (repo / ".leakstop.yaml").write_text("rule_files: [ci/rules.yaml]\nallowlist:\n  paths: ['ci/**']\n")
    base = commit_all(repo)
    (repo / "app.py").write_text("t = 'acme_q8w7e6r5t4y3u2i1o0p9a8s7'\n")
    commit_all(repo)
    r = run("diff", f"{base}..HEAD", "-f", "json", "--engine", "keywords", cwd=repo)
    assert r.code == 1 and [f["rule_id"] for f in json.loads(r.out)["findings"]] == ["acme-internal-token"]
    copies = list((cache / "commit-rule-files").rglob("rules.yaml"))
    assert copies and not [c for c in copies if example.encode() in c.read_bytes()], "the example was copied"
