"""``leakstop diff``: staged and range modes end to end through the CLI: exit codes, formats,
baseline, commit attribution, and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import git

KEY = "AKIAZ5QW2XHC7RJK3MNB"
KEY2 = "AKIAY7Q3WVHN4K2PDLTE"


def commit_all(repo: Path, msg: str = "c", author: str | None = None) -> str:
    git(repo, "add", "-A")
    env = {"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_DATE": "2024-05-06T07:08:09+00:00"} if author else None
    git(repo, "commit", "-q", "-m", msg, env=env)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def run_cli(run_cli):
    """The conftest runner, checking every output for raw values first, so that no later
    assertion failure can print one (pytest shows the result's repr)."""

    def run(*args, **kw):
        r = run_cli(*args, **kw)
        leaked = KEY in r.out + r.err or KEY2 in r.out + r.err
        assert not leaked, "a raw value was printed"
        return r

    return run


def test_staged_reports_added_line_in_staged_file(run_cli, make_repo):
    repo = make_repo()
    (repo / "app.py").write_text(f"OLD = '{KEY}'\n")  # already committed: not this change's leak
    commit_all(repo)
    (repo / "app.py").write_text(f"x = 1\nOLD = '{KEY}'\nNEW = '{KEY2}'\n")
    git(repo, "add", "app.py")
    r = run_cli("diff", "--staged", cwd=repo)
    assert r.code == 1, "staged leak not reported (or value unmasked)"
    assert r.out == (
        "app.py:3:8: aws-access-key-id (critical) AWS IAM access key ID (AKIA long-term, ASIA temporary): AKIA…"
        " confidence=high\n"
    )
    assert "1 finding(s) in 1 files scanned" in r.err


def test_staged_clean_and_unstaged_secret_exit_0(run_cli, make_repo):
    repo = make_repo()
    (repo / "a.txt").write_text("hello\n")
    git(repo, "add", "a.txt")
    (repo / "a.txt").write_text(f"hello\nk = '{KEY}'\n")  # work tree only
    (repo / "untracked.py").write_text(f"k = '{KEY}'\n")
    r = run_cli("diff", "--staged", "-C", str(repo))
    assert r.code == 0 and r.out == ""


def test_nothing_staged_does_not_load_rules(run_cli, make_repo, monkeypatch):
    repo = make_repo()
    import scanner.engine

    def boom(*a, **k):
        raise AssertionError("engine built with nothing to scan")

    monkeypatch.setattr(scanner.engine, "Engine", boom)
    r = run_cli("diff", "--staged", "-C", str(repo))
    assert r.code == 0 and "0 finding(s) in 0 files scanned" in r.err


def test_range_names_commit_author_date_and_dedupes(run_cli, make_repo):
    repo = make_repo()
    (repo / "cfg.py").write_text("a = 1\n")
    base = commit_all(repo, "base")
    (repo / "cfg.py").write_text(f"a = 1\nk = '{KEY}'\n")
    first = commit_all(repo, "leak", author="Eve Leaker")
    (repo / "cfg.py").write_text(f"a = 1\nk = '{KEY}'  \n")  # the same value re-added on the same line
    commit_all(repo, "whitespace")
    r = run_cli("diff", f"{base}..HEAD", "-C", str(repo), "-f", "json")
    assert r.code == 1
    doc = json.loads(r.out)
    assert [(f["path"], f["line"], f["commit"]["sha"], f["commit"]["author"], f["commit"]["date"]) for f in doc["findings"]] == [
        ("cfg.py", 2, first, "Eve Leaker", "2024-05-06T07:08:09+00:00")
    ]
    assert doc["command"] == "diff" and doc["stats"]["commits_scanned"] == 2


def test_added_then_removed(run_cli, make_repo):
    repo = make_repo()
    (repo / "f.py").write_text("x = 1\n")
    base = commit_all(repo)
    (repo / "f.py").write_text(f"x = 1\nk = '{KEY}'\n")
    added = commit_all(repo)
    (repo / "f.py").write_text("x = 1\n")
    removed = commit_all(repo)
    assert run_cli("diff", removed, "-C", str(repo)).code == 0  # the removal adds nothing
    r = run_cli("diff", f"{base}..{removed}", "-C", str(repo), "-f", "jsonl")
    rows = [json.loads(line) for line in r.out.splitlines()]
    assert r.code == 1 and [x["commit"]["sha"] for x in rows] == [added]


def test_baseline_filters_known_findings(run_cli, make_repo, tmp_path):
    repo = make_repo()
    (repo / "f.py").write_text("x = 1\n")
    base = commit_all(repo)
    (repo / "f.py").write_text(f"x = 1\nk = '{KEY}'\n")
    commit_all(repo)
    # Accepted with `leakstop baseline create` (a file scan). A baseline the range's base does not
    # hold accepts nothing by default; --config-from worktree takes the file on disk.
    bl = repo / ".leakstop-baseline.json"
    assert run_cli("baseline", "create", str(repo), "-o", str(bl)).code == 0
    assert run_cli("diff", f"{base}..HEAD", "--baseline", str(bl), cwd=repo).code == 1
    assert run_cli("diff", f"{base}..HEAD", "--baseline", str(bl), "--config-from", "worktree", cwd=repo).code == 0
    # Committed, it applies to the ranges based on it, from the repository and from elsewhere (-C).
    accepted = commit_all(repo)
    (repo / "f.py").write_text(f"k = '{KEY}'\nx = 1\n")  # the accepted value moves
    commit_all(repo)
    assert run_cli("diff", f"{accepted}..HEAD", "--baseline", str(bl), cwd=repo).code == 0
    assert run_cli("diff", f"{accepted}..HEAD", "-C", str(repo), "--baseline", str(bl)).code == 0
    # A new leak still fails the gate.
    (repo / "g.py").write_text(f"k = '{KEY2}'\n")
    commit_all(repo)
    r = run_cli("diff", f"{accepted}..HEAD", "-C", str(repo), "--baseline", str(bl), "-f", "json")
    assert r.code == 1 and [f["path"] for f in json.loads(r.out)["findings"]] == ["g.py"]


def test_sarif_and_github_formats(run_cli, make_repo, tmp_path):
    repo = make_repo()
    (repo / "f.py").write_text("x = 1\n")
    base = commit_all(repo)
    (repo / "f.py").write_text(f"x = 1\nk = '{KEY}'\n")
    sha = commit_all(repo)
    out = tmp_path / "r.sarif"
    r = run_cli("diff", f"{base}..HEAD", "-C", str(repo), "-f", "sarif", "-o", str(out))
    assert r.code == 1
    doc = json.loads(out.read_text())
    res = doc["runs"][0]["results"]
    assert len(res) == 1 and res[0]["properties"]["commit"]["sha"] == sha
    assert res[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    leaked = KEY in out.read_text()
    assert not leaked, "raw value in SARIF"
    r = run_cli("diff", f"{base}..HEAD", "-C", str(repo), "-f", "github")
    assert r.out.startswith("::error file=f.py,line=2,endLine=2,col=6,")


@pytest.mark.parametrize("args, message", [
    (["diff"], "give either --staged or a range"),
    (["diff", "--staged", "HEAD"], "give either --staged or a range"),
    (["diff", "nope..HEAD"], "unknown revision 'nope'"),
    (["diff", "HEAD..HEAD..HEAD"], "invalid range"),
    (["diff", "-C", "/definitely/not/here", "--staged"], "no such directory"),
])
def test_bad_input_one_line_exit_2(run_cli, make_repo, args, message):
    repo = make_repo()
    (repo / "f").write_text("1\n")
    commit_all(repo)
    r = run_cli(*args, cwd=repo)
    assert r.code == 2 and message in r.err and "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_not_a_repo_and_unborn(run_cli, make_repo, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    for args in (["diff", "--staged"], ["diff", "HEAD~1..HEAD"]):
        r = run_cli(*args, "-C", str(plain))
        assert r.code == 2 and "not a git repository" in r.err
    repo = make_repo()
    r = run_cli("diff", "main..HEAD", "-C", str(repo))
    assert r.code == 2 and "branch 'main' has no commits yet" in r.err


def test_odd_file_names_reported(run_cli, make_repo):
    repo = make_repo()
    with open(bytes(repo) + b"/we ird\xff name.py", "wb") as fh:
        fh.write(f"k = '{KEY}'\n".encode())
    git(repo, "add", "-A")
    r = run_cli("diff", "--staged", "-C", str(repo), "-f", "json")
    assert r.code == 1
    assert [f["path"] for f in json.loads(r.out)["findings"]] == ["we ird\\xff name.py"]


def test_action_scan_step_runs(make_repo, tmp_path):
    """The composite action's scan step, run with bash as the runner would (leakstop on PATH)."""
    import os
    import subprocess
    import sys

    import yaml

    from tests.conftest import ROOT

    action = yaml.safe_load((ROOT / "action.yml").read_text())
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "scan")
    repo = make_repo()
    (repo / "f.py").write_text("x = 1\n")
    base = commit_all(repo)
    (repo / "f.py").write_text(f"x = 1\nk = '{KEY}'\n")
    head = commit_all(repo)
    out, envf = tmp_path / "out", tmp_path / "env"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "INPUT_BASE": base, "INPUT_HEAD": head, "INPUT_BASELINE": "", "INPUT_CONFIG": "",
           "SARIF": str(tmp_path / "l.sarif"), "GITHUB_OUTPUT": str(out), "GITHUB_ENV": str(envf)}
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                          cwd=repo, env=env, capture_output=True, text=True)
    leaked = KEY in proc.stdout + proc.stderr
    assert not leaked, "a raw value was printed"
    assert proc.returncode == 0, proc.stderr
    assert "::error file=f.py,line=2," in proc.stdout
    assert out.read_text() == "findings=1\n" and envf.read_text() == "LEAKSTOP_RC=1\n"
    env["INPUT_BASE"] = "nope"
    proc = subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown revision 'nope'" in proc.stderr


def test_staged_token_in_a_key_name_is_masked_in_github_annotations(run_cli, make_repo):
    from tests.fakes import checksummed

    token = checksummed("ghp_")
    repo = make_repo()
    (repo / "c.properties").write_text(f"secret.{token}=Xq7vR2mK9pLw4ZtD\n")
    git(repo, "add", "-A")
    for fmt in ("github", "text", "sarif"):
        r = run_cli("diff", "--staged", "-f", fmt, "--engine", "keywords", cwd=repo)
        assert r.code == 1 and token not in r.out and token[4:] not in r.out, f"{fmt}: token printed in full"
        assert "secret.ghp_…" in r.out


def test_blob_over_the_size_limit_is_streamed_counted_and_named_in_both_modes(run_cli, make_repo):
    """As scan does with a file named on its command line: a gate streams a big blob in windows
    (never skips it), counts it in the stats and names it in a note; line numbers are the file's."""
    repo = make_repo()
    (repo / "app.py").write_text("import os\n")
    base = commit_all(repo)
    (repo / "seed.sql").write_text("-- row\n" * 2000 + f"INSERT INTO k VALUES ('{KEY}');\n")
    git(repo, "add", "-A")
    staged = run_cli("diff", "--staged", "--max-file-size", "1KB", "-f", "json", cwd=repo)
    commit_all(repo)
    ranged = run_cli("diff", f"{base}..HEAD", "--max-file-size", "1KB", "-f", "json", cwd=repo)
    for r in (staged, ranged):
        doc = json.loads(r.out)
        assert r.code == 1 and [(f["path"], f["line"]) for f in doc["findings"]] == [("seed.sql", 2001)]
        assert doc["stats"]["streamed"] == 1 and doc["stats"]["skipped"] == {}
        assert "(1 over the size limit, scanned in windows)" in r.err
        assert "1 file(s) over the 1KB size limit were scanned in windows (seed.sql)" in r.err


# -- start-up: what the pre-commit hook imports ----------------------------------------------------

# The hook starts a fresh interpreter on every commit, so its latency is mostly imports and setup.
# Modules it must not load for a change that adds a provider token (each costs 1-10 ms, or far
# more): syntax confirmation and the user:password judge (generic candidates only), baselines
# (--baseline only), verification and remediation, other report formats, YAML (no configuration
# file; rules come from the parsed-rules cache), worker pools, progress bars, tracebacks, a new
# random key (the repository gives the fingerprints theirs).
HOOK_NEVER_IMPORTS = (
    "scanner.engine.context", "scanner.detectors.keys", "scanner.baseline", "scanner.verify", "scanner.remediate",
    "scanner.report.sarif", "scanner.report.html", "scanner.report.text", "tree_sitter_language_pack", "yaml",
    "multiprocessing", "tqdm", "pathspec", "traceback", "boto3", "secrets",
)
# Runs leakstop's main in a fresh interpreter and prints the imported modules last, on stderr.
MODULES_DRIVER = """import sys
from scanner.cli import main
try:
    code = main(sys.argv[1:])
finally:
    sys.stderr.write("\\nmodules: " + " ".join(sorted(sys.modules)) + "\\n")
sys.exit(code)
"""


def imported_by(args: list[str], cwd: Path) -> tuple[set[str], subprocess.CompletedProcess]:
    """The modules ``leakstop ARGS`` imported (run twice: the first run may build the caches)."""
    import sys

    cmd = [sys.executable, "-c", MODULES_DRIVER, *args]
    subprocess.run(cmd, cwd=cwd, capture_output=True, check=False)
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    return set(proc.stderr.rsplit("modules: ", 1)[-1].split()), proc


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_staged_hook_imports_only_what_the_change_needs(make_repo):
    """A regression guard on the hook's start-up that needs no clock: a staged token is found
    (the engine, the confidence signals and the JSON reporter all ran) without loading modules
    the change does not need."""
    import secrets

    repo = make_repo()
    (repo / "app.py").write_text("x = 1\n")
    commit_all(repo)
    key = "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    (repo / "app.py").write_text(f"x = 1\naws_access_key_id = '{key}'\n")
    git(repo, "add", "app.py")
    modules, proc = imported_by(["diff", "--staged", "-f", "json"], repo)
    found = json.loads(proc.stdout)["findings"]
    assert proc.returncode == 1 and [f["rule_id"] for f in found] == ["aws-access-key-id"]
    assert {"scanner.engine", "scanner.engine.confidence", "scanner.report.json"} <= modules
    assert loaded(modules, HOOK_NEVER_IMPORTS) == []
