"""The HTML audit report: self-contained, masked, escaped, and it renders in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scanner.models import CommitInfo, Finding, fingerprint, mask, value_hash
from scanner.report import ReportContext, render

SECRETS = ["AKIAQYLPMN5HHHFPZAM2", "ghp_4kq9Zr2LmX7pWc8Vt1Nb6Hd3Jf5Gs0Ye2Ua7", "xoxb-1111-2222-abcdefghijklmnop"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _finding(i: int, secret: str, provider: str, path: str, author: str, date: str, live: bool,
             removed: str | None = None) -> Finding:
    extra = {
        "first_commit": {"sha": f"{i:040x}", "author": author, "email": "a@example.com", "date": date, "path": path},
        "commits": i + 1,
        "paths": 1,
        "path_list": [path],
        "live_at_head": live,
    }
    if removed:
        extra["removed_commit"] = {"sha": f"{i + 100:040x}", "date": removed, "path": path}
    return Finding(
        rule_id=f"{provider}-token", provider=provider, description=f"{provider} token", severity="high",
        category="api-keys", path=path, line=3 + i, column=5, end_column=25, masked=mask(secret),
        fingerprint=fingerprint(f"{provider}-token", secret.encode()), secret_hash=value_hash(secret.encode()),
        commit=CommitInfo(sha=f"{i:040x}", author=author, email="a@example.com", date=date), extra=extra,
        secret=secret.encode(),
    )


def findings() -> list[Finding]:
    return [
        _finding(0, SECRETS[0], "aws", "config/settings.py", "Alice", "2019-03-04T10:00:00+01:00", False,
                 removed="2021-07-01T09:00:00+00:00"),
        _finding(1, SECRETS[1], "github", "ci/<script>alert(1)</script>.yml", "Bob & Co", "2022-11-20T08:00:00-05:00", True),
        _finding(2, SECRETS[2], "slack", "bots/notify.js", "Alice", "2023-01-02T00:00:00+00:00", True),
    ]


def page() -> str:
    return render("html", findings(), ReportContext(command="history", stats={
        "commits_scanned": 1234, "blobs_scanned": 5678, "skipped": {"binary": 3}, "notes": ["shallow clone"]}))


def test_self_contained_masked_and_escaped():
    html = page()
    assert html.startswith("<!DOCTYPE html>")
    for secret in SECRETS:
        assert secret not in html, "a raw value is in the report"
        assert mask(secret) in html
    # No network: no external scripts, styles, images, fonts or links.
    assert not re.search(r"""(src|href)\s*=|@import|url\(|https?://""", html)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Bob &amp; Co" in html
    assert html.count('<tr data-live=') == 3 and html.count('data-live="1"') == 2
    # Timeline: introduced bars (2019-03, 2022-11, 2023-01) and one removal bar (2021-07).
    assert html.count('class="in"') == 3 and html.count('class="out"') == 1
    assert "2019-03: 1 introduced" in html and "2021-07: 1 removed" in html
    # Breakdowns by provider, author and path.
    assert "By provider" in html and "By author" in html and "By path" in html
    assert "1234" in html and "5678" in html and "3 binary" in html and "shallow clone" in html


def test_no_findings_and_findings_without_history():
    empty = render("html", [], ReportContext(command="history"))
    assert "No secrets found." in empty and "<table" not in empty
    plain = _finding(0, SECRETS[0], "aws", "a.py", "A", "", True)
    plain.commit, plain.extra = None, {}
    html = render("html", [plain], ReportContext(command="scan", stats={"files_scanned": 1}))
    assert "No commit dates to draw" in html and "a.py:3" in html


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True, text=True, timeout=90,
    )


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_renders_in_headless_chromium(tmp_path):
    report = tmp_path / "audit.html"
    report.write_text(page(), encoding="utf-8")
    dom = _chromium(["--dump-dom", report.as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-500:]
    # The script ran to its end (it sets data-ready) and the DOM holds the table and the timeline.
    assert re.search(r'<body[^>]*data-ready="1"', dom.stdout)
    assert dom.stdout.count("<tr data-live=") == 3 and '<svg' in dom.stdout
    shot = tmp_path / "audit.png"
    res = _chromium(["--window-size=1280,1400", f"--screenshot={shot}", report.as_uri()], tmp_path)
    assert res.returncode == 0 and shot.is_file()
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000  # a blank page compresses to a few KB
