"""``leakstop history`` end to end: exit codes, output shape, bad input as one line."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.sources.history_helpers import KEY1, KEY2, Repo


def _repo(tmp_path):
    r = Repo(tmp_path / "r")
    r.commit("init", **{"app.py": "print('hi')\n"})
    added = r.commit("add key", author="Alice", **{"settings.py": f"AWS_KEY = '{KEY1}'\n"})
    r.rm("settings.py")
    r.commit("remove key")
    return r, added


def test_removed_secret_is_reported_with_its_commit(tmp_path, run_cli):
    r, added = _repo(tmp_path)
    res = run_cli("history", str(r.path), "-f", "json")
    assert res.code == 1
    doc = json.loads(res.out)
    assert doc["command"] == "history"
    [f] = doc["findings"]
    assert f["rule_id"] == "aws-access-key-id" and f["masked"] == KEY1[:4] + "…"
    assert f["commit"]["sha"] == added and f["commit"]["author"] == "Alice"
    assert f["first_commit"] == {"sha": added, "author": "Alice", "email": "dev@example.com",
                                 "date": "2024-01-02T12:00:00+00:00", "path": "settings.py"}
    assert f["commits"] == 1 and f["paths"] == 1 and f["live_at_head"] is False
    assert f["removed_commit"]["date"].startswith("2024-01-03")
    assert KEY1 not in res.out and KEY1 not in res.err, "raw value leaked into the report"
    assert doc["stats"]["commits_scanned"] == 3 and doc["stats"]["blobs_scanned"] == 2
    assert "1 finding(s) in 2 blobs scanned" in res.err


def test_clean_history_exits_zero_and_text_format(tmp_path, run_cli):
    r = Repo(tmp_path / "r")
    r.commit("init", **{"app.py": "print('hi')\n"})
    res = run_cli("history", str(r.path))
    assert res.code == 0 and res.out == ""
    r.commit("key", **{"k.py": f"k = '{KEY2}'\n"})
    res = run_cli("history", str(r.path), "--no-progress")
    assert res.code == 1
    assert "k.py:1:" in res.out and "live_at_head=True" in res.out and "commits=1" in res.out
    assert KEY2 not in res.out


def test_branch_since_and_incremental_options(tmp_path, run_cli):
    r, _ = _repo(tmp_path)
    r.git("checkout", "-q", "-b", "side")
    r.commit("side", **{"side.py": f"k = '{KEY2}'\n"})
    r.git("checkout", "-q", "main")
    both = json.loads(run_cli("history", str(r.path), "-f", "json").out)["findings"]
    assert len(both) == 2
    main_only = json.loads(run_cli("history", str(r.path), "--branch", "main", "-f", "json").out)["findings"]
    assert [f["path"] for f in main_only] == ["settings.py"]
    since = run_cli("history", str(r.path), "--since", "main", "-f", "json")
    assert [f["path"] for f in json.loads(since.out)["findings"]] == ["side.py"]
    first = run_cli("history", str(r.path), "--incremental", "-f", "json")
    again = run_cli("history", str(r.path), "--incremental", "-f", "json")
    assert json.loads(again.out)["findings"] == json.loads(first.out)["findings"]
    assert json.loads(again.out)["stats"]["commits_scanned"] == 0
    assert "incremental: skipped commits" in again.err


def test_bad_input_is_one_line_exit_2(tmp_path, run_cli):
    plain = tmp_path / "plain"
    plain.mkdir()
    r, _ = _repo(tmp_path)
    cases = [
        (("history", str(plain)), "not a git repository"),
        (("history", str(tmp_path / "nope")), "no such directory"),
        (("history", str(r.path), "--branch", "nope"), "--branch: no branch or ref named 'nope'"),
        (("history", str(r.path), "--since", "v9.9"), "--since: unknown revision 'v9.9'"),
        (("history", str(r.path), "--since", "main..x"), "--since: unknown revision"),
        (("history", str(r.path), "--jobs", "0"), "--jobs"),
    ]
    for args, message in cases:
        res = run_cli(*args)
        assert res.code == 2, args
        lines = res.err.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, res.err)
        assert "Traceback" not in res.err


def test_empty_repository_exits_zero_with_a_note(tmp_path, run_cli):
    r = Repo(tmp_path / "r")
    res = run_cli("history", str(r.path))
    assert res.code == 0
    assert "empty repository" in res.err and "0 finding(s)" in res.err


def test_html_report_to_file(tmp_path, run_cli):
    r, _ = _repo(tmp_path)
    out = tmp_path / "audit.html"
    res = run_cli("history", str(r.path), "-f", "html", "-o", str(out))
    assert res.code == 1
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'id="timeline"' in page and "settings.py" in page
    assert KEY1 not in page


def test_progress_bar_only_when_asked_or_a_terminal(tmp_path):
    """Run as a real process: with --progress the bar is drawn on stderr, never on stdout."""
    r, _ = _repo(tmp_path)
    cmd = [sys.executable, "-m", "scanner", "history", str(r.path), "-f", "json"]
    quiet = subprocess.run(cmd, capture_output=True, text=True)
    assert "blob" not in quiet.stderr.split("leakstop:")[0]  # no bar: stderr is not a terminal
    loud = subprocess.run(cmd + ["--progress"], capture_output=True, text=True)
    assert loud.returncode == 1 and "leakstop history" in loud.stderr and "blob" in loud.stderr
    assert len(json.loads(loud.stdout)["findings"]) == 1
    assert KEY1 not in loud.stderr


def test_baseline_suppresses_accepted_history_findings(tmp_path, run_cli):
    """Before: history findings carried no value, so no baseline entry ever matched."""
    from tests.sources.history_helpers import fake_aws_key

    kept, moved, gone = fake_aws_key(), fake_aws_key(), fake_aws_key()
    r = Repo(tmp_path / "r")
    r.commit("one", **{"a.py": f"K = '{kept}'\n", "old.py": f"M = '{moved}'\n", "tmp.py": f"G = '{gone}'\n"})
    r.git("mv", "old.py", "new.py")
    r.rm("tmp.py")
    r.commit("rename and remove")
    bl = tmp_path / "bl.json"
    assert run_cli("baseline", "create", str(r.path), "-o", str(bl)).code == 0  # accepts a.py and new.py
    for extra in ([], ["-j", "1"], ["--incremental"], ["--incremental"]):  # the 2nd incremental uses saved state
        res = run_cli("history", str(r.path), "-f", "json", "--baseline", str(bl), *extra)
        [f] = json.loads(res.out)["findings"]
        assert res.code == 1 and f["path"] == "tmp.py", extra  # only the one the baseline does not accept
    assert len(json.loads(run_cli("history", str(r.path), "-f", "json").out)["findings"]) == 3


def test_incremental_state_without_baseline_hashes_is_rescanned(tmp_path, run_cli):
    r, _ = _repo(tmp_path)
    r.commit("again", **{"settings.py": f"AWS_KEY = '{KEY1}'\n"})
    assert run_cli("history", str(r.path), "--incremental").code == 1  # state saved without a baseline
    bl = tmp_path / "bl.json"
    run_cli("baseline", "create", str(r.path), "-o", str(bl))
    res = run_cli("history", str(r.path), "--incremental", "--baseline", str(bl))
    assert res.code == 0 and "no usable earlier state" in res.err


def test_token_in_a_file_name_is_masked_everywhere_history_writes(tmp_path, run_cli):
    from tests.fakes import checksummed

    token = checksummed("ghp_")  # a valid checksum: a made-up one is low confidence, not reported
    r = Repo(tmp_path / "r")
    r.commit("init", **{"app.py": "print('hi')\n"})
    r.commit("key", **{f"keys/{token}.txt": token + "\n", "b.properties": f"secret.{token}=Xq7vR2mK9pLw4ZtD\n"})
    for fmt in ("json", "text", "sarif", "html"):
        res = run_cli("history", str(r.path), "-f", fmt, "--incremental")
        assert res.code == 1 and token[4:] not in res.out + res.err, f"{fmt}: the token was printed"
    state = (r.path / ".git" / "leakstop" / "history.json").read_text()
    assert token[4:] not in state
    paths = {p for f in json.loads(run_cli("history", str(r.path), "-f", "json").out)["findings"] for p in f["path_list"]}
    assert "keys/ghp_….txt" in paths


def test_incremental_state_is_not_reused_under_another_fingerprint_key(tmp_path, run_cli, monkeypatch):
    r, _ = _repo(tmp_path)
    first = json.loads(run_cli("history", str(r.path), "--incremental", "-f", "json").out)
    state = json.loads((r.path / ".git" / "leakstop" / "history.json").read_text())
    assert state["key_id"] == first["fingerprint_key"]["key_id"]
    monkeypatch.setenv("LEAKSTOP_FINGERPRINT_KEY", "another key")
    res = run_cli("history", str(r.path), "--incremental", "-f", "json")
    again = json.loads(res.out)
    assert "the fingerprint key changed" in res.err and again["stats"]["commits_scanned"] == 3
    assert again["findings"][0]["fingerprint"] != first["findings"][0]["fingerprint"]
