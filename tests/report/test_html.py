"""The HTML audit report: self-contained, masked, escaped, and it renders in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scanner.models import CommitInfo, Finding, mask
from scanner.report import ReportContext, render
from tests.conftest import IDENTITY

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
        fingerprint=IDENTITY.fingerprint(f"{provider}-token", secret.encode()), secret_hash=IDENTITY.value_hash(secret.encode()),
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


def _dated(i: int, date: str, live: bool, removed: str | None = None, refs: list | None = None) -> Finding:
    f = _finding(i, f"{SECRETS[0]}{i}", "aws", f"p{i}.py", "A", date, live, removed)
    if refs is not None:
        f.extra["live_refs"], f.extra["live_ref_count"] = refs, len(refs)
    return f


def _bars(html: str) -> dict[tuple[str, str], tuple[int, float]]:
    """(class, month) -> (count, height) of every timeline bar."""
    return {(c, m): (int(n), float(h)) for c, m, n, h in re.findall(
        r'<rect class="(in|out)" data-month="([\d-]+)" data-n="(\d+)" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', html)}


def test_status_for_a_secret_still_in_another_ref():
    """Before: labelled 'removed' because liveness looked at HEAD only."""
    branch = _dated(0, "2023-01-05T10:00:00+00:00", False, "2023-02-01T00:00:00+00:00", ["refs/heads/feature", "refs/tags/v1"])
    gone = _dated(1, "2023-01-06T10:00:00+00:00", False, "2023-03-01T00:00:00+00:00", [])
    unknown = _dated(2, "2023-01-07T10:00:00+00:00", False, "2023-03-02T00:00:00+00:00")  # refs not computed
    html = render("html", [branch, gone, unknown], ReportContext(command="history"))
    assert "not at HEAD, still in feature, v1</span>" in html
    assert "removed from every ref 2023-03-01" in html and "removed from HEAD 2023-03-02" in html
    assert "<b>1</b><span>Not at HEAD, still in a branch or tag</span>" in html
    assert "<b>2</b><span>Removed, still in history</span>" in html
    # The timeline's removals leave out the one still in a branch (before: 2023-02 had a bar).
    assert _bars(html) == {("in", "2023-01"): (3, 90.0), ("out", "2023-03"): (2, 60.0)}


def test_timeline_numbers():
    fs = [
        _dated(0, "2023-01-15T10:00:00+00:00", True), _dated(1, "2023-01-20T10:00:00+00:00", True),
        # 31 January 23:00 in New York is February in UTC: it counts in January, as the table shows
        _dated(2, "2023-01-31T23:00:00-05:00", False, "2023-04-02T00:00:00+00:00", []),
        _dated(3, "2023-03-10T10:00:00+00:00", False, "2023-04-03T00:00:00+00:00", []),
        _dated(4, "2023-03-11T10:00:00+00:00", True),
    ]
    from scanner.report.html import timeline_counts, timeline_svg

    ins, outs = timeline_counts(fs)
    assert dict(ins) == {2023 * 12: 3, 2023 * 12 + 2: 2} and dict(outs) == {2023 * 12 + 3: 2}
    svg = timeline_svg(fs)
    half = (220 - 14 - 22) / 2 - 2  # a bar of the peak count is this tall
    assert _bars(svg) == {("in", "2023-01"): (3, half), ("in", "2023-03"): (2, round(half * 2 / 3, 1)),
                          ("out", "2023-04"): (2, round(half * 2 / 3, 1))}
    # Count labels: the peak and half of it, above and below the axis (the same scale).
    assert re.findall(r'<text class="count"[^>]*>(\d+)</text>', svg) == ["2", "2", "3", "3"]
    # One tick per month from 2022-12 to 2023-05 (a month of air each side), each under its bar.
    ticks = re.findall(r'<text class="tick" x="([\d.]+)"[^>]*>([\d-]+)</text>', svg)
    assert [label for _, label in ticks] == ["2022-12", "2023-01", "2023-02", "2023-03", "2023-04", "2023-05"]
    centres = {m: float(x) + float(w) / 2 for m, x, w in re.findall(
        r'data-month="([\d-]+)" data-n="\d+" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)}
    assert {label: abs(float(x) - centres[label]) < 0.2 for x, label in ticks if label in centres} == {
        "2023-01": True, "2023-03": True, "2023-04": True}


def test_timeline_years_are_all_labelled():
    """Long histories label years; the first year is labelled even when only its last months show."""
    from scanner.report.html import timeline_svg

    fs = [_dated(0, "2015-11-03T10:00:00+00:00", True), _dated(1, "2019-06-01T10:00:00+00:00", True)]
    svg = timeline_svg(fs)
    assert re.findall(r'<text class="tick"[^>]*>(\d+)</text>', svg) == ["2015", "2016", "2017", "2018", "2019"]
