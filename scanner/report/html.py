"""A self-contained HTML audit report: inline CSS, SVG and a little JS, no network access.

Sections: summary cards; a timeline of secrets introduced (above the axis) and removed from every
ref (below) per month, bucketed by the commit's own date as the table shows it; counts by provider,
author and path; the finding table (masked values only) with a filter box, a "live at HEAD only"
switch and sortable columns. A secret's status is "live at HEAD", "not at HEAD, still in <refs>"
(a branch or tag still holds it) or "removed from every ref". Everything renders without
JavaScript too; the script only filters and sorts.
"""

from __future__ import annotations

import collections
import math
from datetime import datetime
from html import escape
from typing import Optional, Sequence

from scanner import __version__
from scanner.display import display_path
from scanner.models import Finding

CSS = """
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--bad:#c0362c;--ok:#5b6b7f;--accent:#2f5bd3;--bg:#f7f8fa}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{background:#151b2c;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#b8c0d4;font-size:13px}
main{padding:20px 28px;max-width:1400px}section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 18px;margin-bottom:18px}
h2{font-size:15px;margin:0 0 12px}.cards{display:flex;gap:12px;flex-wrap:wrap}.card{flex:1 1 150px;background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card b{display:block;font-size:24px}.card span{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}.card.bad b{color:var(--bad)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:18px}
.bars{list-style:none;margin:0;padding:0}.bars li{display:grid;grid-template-columns:minmax(90px,42%) 1fr 36px;gap:8px;align-items:center;margin:3px 0;font-size:13px}
.bars .name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.bars .bar{height:10px;background:var(--accent);border-radius:3px;min-width:2px}.bars .n{text-align:right;color:var(--muted)}
svg text{font-size:11px;fill:var(--muted)}.legend{font-size:12px;color:var(--muted)}.legend i{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;vertical-align:-1px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{cursor:pointer;user-select:none;white-space:nowrap;background:#fafbfc}th:after{content:" \\2195";color:#c0c6d0}
td code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f1f3f7;padding:1px 4px;border-radius:3px;word-break:break-all}
.sev{font-weight:600;text-transform:uppercase;font-size:11px}.sev.critical,.sev.high{color:var(--bad)}.sev.medium{color:#b7791f}.sev.low{color:var(--ok)}
.live{color:#fff;background:var(--bad);border-radius:10px;padding:1px 8px;font-size:11px;white-space:nowrap}.gone{color:var(--ok);font-size:12px;white-space:nowrap}
.tools{display:flex;gap:16px;align-items:center;margin-bottom:10px}.tools input[type=search]{padding:6px 8px;border:1px solid var(--line);border-radius:6px;width:320px}
.muted{color:var(--muted)}footer{color:var(--muted);font-size:12px;padding:0 28px 24px}
"""

# Filter and sort only; the page is complete without it. Sets data-ready so a headless browser
# test can tell the script ran without errors.
JS = """
(function(){
  var table=document.getElementById('findings'); if(!table){document.body.setAttribute('data-ready','1');return;}
  var rows=[].slice.call(table.tBodies[0].rows), q=document.getElementById('q'), live=document.getElementById('liveonly');
  var count=document.getElementById('shown');
  function apply(){
    var t=(q.value||'').toLowerCase(), n=0;
    rows.forEach(function(r){
      var ok=(!t||r.textContent.toLowerCase().indexOf(t)>=0)&&(!live.checked||r.getAttribute('data-live')==='1');
      r.style.display=ok?'':'none'; if(ok)n++;
    });
    count.textContent=n;
  }
  q.addEventListener('input',apply); live.addEventListener('change',apply);
  [].forEach.call(table.tHead.rows[0].cells,function(th,i){
    th.addEventListener('click',function(){
      var asc=th.getAttribute('data-dir')!=='asc'; th.setAttribute('data-dir',asc?'asc':'desc');
      rows.sort(function(a,b){
        var x=a.cells[i].getAttribute('data-k')||a.cells[i].textContent, y=b.cells[i].getAttribute('data-k')||b.cells[i].textContent;
        var nx=parseFloat(x), ny=parseFloat(y);
        var c=(!isNaN(nx)&&!isNaN(ny)&&String(nx)===x&&String(ny)===y)?nx-ny:x.localeCompare(y);
        return asc?c:-c;
      });
      rows.forEach(function(r){table.tBodies[0].appendChild(r);});
    });
  });
  apply();
  document.body.setAttribute('data-ready','1');
})();
"""

SEV_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
CONFIDENCE_RANK = {"high": 0, "medium": 1, "low": 2}


def _month(iso: str) -> Optional[int]:
    """Months since year 0 of an ISO date, in the commit's own time zone (the date the table
    shows), so a commit of 31 January 23:00 -05:00 counts in January, not in February's UTC."""
    if not iso:
        return None
    try:
        d = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return d.year * 12 + d.month - 1


def refs_holding(f: Finding) -> Optional[list[str]]:
    """Short names of the refs whose tip still holds the value; None when the audit did not say."""
    refs = f.extra.get("live_refs")
    if not isinstance(refs, list):
        return None
    return [r.removeprefix("refs/heads/").removeprefix("refs/tags/").removeprefix("refs/remotes/") for r in refs]


def removed_everywhere(f: Finding) -> bool:
    """Not at HEAD and in no ref (when the audit could not tell for refs: not at HEAD)."""
    return f.extra.get("live_at_head") is False and not refs_holding(f)


def timeline_counts(findings: Sequence[Finding]) -> tuple[collections.Counter, collections.Counter]:
    """Secrets introduced per month, and secrets removed from every ref per month (by the removing
    commit's date); a secret still in a branch or tag is not removed."""
    ins: collections.Counter = collections.Counter()
    outs: collections.Counter = collections.Counter()
    for f in findings:
        m = _month(f.commit.date if f.commit else "")
        if m is not None:
            ins[m] += 1
        r = f.extra.get("removed_commit")
        if isinstance(r, dict) and removed_everywhere(f):
            m = _month(str(r.get("date", "")))
            if m is not None:
                outs[m] += 1
    return ins, outs


def _label(m: int) -> str:
    return f"{m // 12}-{m % 12 + 1:02d}"


def timeline_svg(findings: Sequence[Finding], width: int = 1100, height: int = 220) -> str:
    """Monthly bars: secrets introduced above the axis, removed from every ref below it, on one
    count scale labelled on both sides; months or years along the axis."""
    ins, outs = timeline_counts(findings)
    if not ins:
        return '<p class="muted">No commit dates to draw (findings without history).</p>'
    lo, hi = min(ins | outs) - 1, max(ins | outs) + 1  # a month of air on both sides
    span = hi - lo + 1
    left, right, top, bottom = 34, 10, 14, 22
    plot_w = width - left - right
    half = (height - top - bottom) / 2
    axis_y = top + half
    peak = max((ins | outs).values())
    bw = plot_w / span
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="timeline of secrets '
             f'introduced and removed" id="timeline">']
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{axis_y:.1f}" y2="{axis_y:.1f}" stroke="#98a2b3"/>')
    for v in sorted({peak, (peak + 1) // 2}):  # count ticks, the same scale above and below
        dy = v / peak * (half - 2)
        for y in (axis_y - dy, axis_y + dy):
            parts.append(f'<text class="count" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{v}</text>')
    draw_w = max(min(bw - 1, 28), 1)
    pad = (bw - draw_w) / 2
    for counts, cls, what, colour in ((ins, "in", "introduced", "#c0362c"),
                                      (outs, "out", "removed from every ref", "#98a2b3")):
        for month, n in sorted(counts.items()):
            h = n / peak * (half - 2)
            y = axis_y - h if cls == "in" else axis_y
            parts.append(f'<rect class="{cls}" data-month="{_label(month)}" data-n="{n}" x="{left + (month - lo) * bw + pad:.1f}" '
                         f'y="{y:.1f}" width="{draw_w:.1f}" height="{h:.1f}" fill="{colour}">'
                         f'<title>{_label(month)}: {n} {what}</title></rect>')
    parts.extend(_month_axis(lo, hi, left, bw, axis_y, height) if span <= 30 else _year_axis(lo, hi, left, bw, axis_y, height))
    parts.append("</svg>")
    legend = ('<div class="legend"><i style="background:#c0362c"></i>introduced'
              '<i style="background:#98a2b3"></i>removed from every ref (still in history: rotate)</div>')
    return "".join(parts) + legend


def _tick(x: float, axis_y: float, height: int, label: str = "") -> list[str]:
    out = [f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{axis_y - 3:.1f}" y2="{axis_y + 3:.1f}" stroke="#98a2b3"/>']
    if label:
        out.append(f'<text class="tick" x="{x:.1f}" y="{height - 6}" text-anchor="middle">{label}</text>')
    return out


def _month_axis(lo: int, hi: int, left: float, bw: float, axis_y: float, height: int) -> list[str]:
    """A tick under each month's bar, labelled with the month; labels thinned to ~56 px apart."""
    step = max(1, math.ceil(56 / bw))
    out: list[str] = []
    for i, m in enumerate(range(lo, hi + 1)):
        out += _tick(left + (m - lo + 0.5) * bw, axis_y, height, _label(m) if i % step == 0 else "")
    return out


def _year_axis(lo: int, hi: int, left: float, bw: float, axis_y: float, height: int) -> list[str]:
    """A tick where each year starts; each year's label centred under its months in view (kept
    inside the plot), skipped only where it would touch the previous label."""
    out: list[str] = []
    right = left + (hi - lo + 1) * bw
    last_x = -1e9
    for year in range(lo // 12, hi // 12 + 1):
        first, last = max(lo, year * 12), min(hi, year * 12 + 11)
        if first == year * 12 and first > lo:
            out += _tick(left + (first - lo) * bw, axis_y, height)
        x = min(max(left + ((first + last + 1) / 2 - lo) * bw, left + 14), right - 14)
        if x - last_x >= 36:
            out.append(f'<text class="tick" x="{x:.1f}" y="{height - 6}" text-anchor="middle">{year}</text>')
            last_x = x
    return out


def _bars(title: str, counter: collections.Counter, top: int = 12) -> str:
    items = counter.most_common(top)
    if not items:
        return ""
    peak = items[0][1]
    rows = "".join(
        f'<li><span class="name" title="{escape(name)}">{escape(name)}</span>'
        f'<span><span class="bar" style="display:block;width:{n / peak * 100:.1f}%"></span></span>'
        f'<span class="n">{n}</span></li>'
        for name, n in items
    )
    more = f'<p class="muted">and {len(counter) - top} more</p>' if len(counter) > top else ""
    return f'<div><h2>{escape(title)}</h2><ul class="bars">{rows}</ul>{more}</div>'


def _status(f: Finding) -> str:
    live, refs = f.extra.get("live_at_head"), refs_holding(f)
    if live is True:
        return '<span class="live">live at HEAD</span>'
    if live is not False:
        return '<span class="muted">-</span>'
    if refs:
        shown = ", ".join(refs[:3]) + (f" and {f.extra.get('live_ref_count', len(refs)) - 3} more" if len(refs) > 3 else "")
        return (f'<span class="live" title="{escape(", ".join(refs))}">not at HEAD, still in {escape(shown)}</span>')
    r = f.extra.get("removed_commit") or {}
    where = "removed from every ref" if refs is not None else "removed from HEAD"
    return (f'<span class="gone">{where} {escape(str(r.get("date", ""))[:10])}'
            + (f' in <code>{escape(str(r.get("sha", ""))[:10])}</code>' if r.get("sha") else "")
            + "</span>")


# Order of the live-check column when sorted: the credentials that work first.
VERIFY_RANK = {"verified": 0, "error": 1, "unknown": 2, "invalid": 3}


def _check_cell(f: Finding) -> str:
    v = f.verification or {}
    status = str(v.get("status", "-"))
    css = {"verified": "live", "invalid": "gone"}.get(status, "muted")
    return (f'<td data-k="{VERIFY_RANK.get(status, 9)}"><span class="{css}">{escape(status)}</span>'
            f'<br><span class="muted">{escape(str(v.get("detail", "")))}</span></td>')


def _signals(f: Finding) -> str:
    return " ".join(f"{name} {weight:+d}" for name, weight in f.signals.items())


def _row(f: Finding, checked: bool = False) -> str:
    live = f.extra.get("live_at_head")
    c = f.commit
    first = f.extra.get("first_commit") or {}
    when = c.date if c else ""
    commit = (f'<code title="{escape(c.sha)}">{escape(c.sha[:10])}</code><br>{escape(c.author)}'
              f'<br><span class="muted">{escape(when[:10])}</span>') if c else '<span class="muted">-</span>'
    status = _status(f)
    path = display_path(first.get("path") or f.path)
    if f.extra.get("repository"):
        path = f"{f.extra['repository']}: {path}"
    key = f'<br><span class="muted">key {escape(f.key)}</span>' if f.key else ""
    return (
        f'<tr data-live="{1 if live else 0}">'
        f'<td data-k="{SEV_RANK.get(f.severity, 9)}"><span class="sev {escape(f.severity)}">{escape(f.severity)}</span></td>'
        f'<td data-k="{CONFIDENCE_RANK.get(f.confidence, 9)}" title="{escape(_signals(f))}">'
        f'{escape(f.confidence)}</td>'
        f'<td>{escape(f.provider)}<br><span class="muted">{escape(f.rule_id)}</span></td>'
        f'<td><code>{escape(f.masked)}</code>{key}</td>'
        f'<td><code>{escape(path)}:{f.line}</code></td>'
        f'<td data-k="{escape(when)}">{commit}</td>'
        f'<td data-k="{f.extra.get("commits", "")}">{escape(str(f.extra.get("commits", "-")))}</td>'
        f'<td data-k="{f.extra.get("paths", "")}">{escape(str(f.extra.get("paths", "-")))}</td>'
        f'<td data-k="{1 if live else 0}">{status}</td>'
        + (_check_cell(f) if checked else "") + '</tr>'
    )


def render(findings: Sequence[Finding], ctx) -> str:
    stats = ctx.stats or {}
    findings = sorted(findings, key=lambda f: (SEV_RANK.get(f.severity, 9), f.commit.date if f.commit else "", f.path))
    n_live = sum(1 for f in findings if f.extra.get("live_at_head") is True)
    n_refs = sum(1 for f in findings if f.extra.get("live_at_head") is False and refs_holding(f))
    n_removed = sum(1 for f in findings if removed_everywhere(f))
    cards = [
        ("Secrets found", len(findings), bool(findings)),
        ("Live at HEAD", n_live, bool(n_live)),
        ("Not at HEAD, still in a branch or tag", n_refs, bool(n_refs)),
        ("Removed, still in history", n_removed, False),
        ("Providers", len({f.provider for f in findings}), False),
    ]
    checked = any(f.verification for f in findings)
    if checked:
        n_verified = sum((f.verification or {}).get("status") == "verified" for f in findings)
        cards.insert(1, ("Verified live by their provider", n_verified, bool(n_verified)))
    if "commits_scanned" in stats:
        cards.append(("Commits walked", stats["commits_scanned"], False))
    if "blobs_scanned" in stats:
        cards.append(("Blobs scanned", stats["blobs_scanned"], False))
    elif "files_scanned" in stats:
        cards.append(("Files scanned", stats["files_scanned"], False))
    if stats.get("repositories"):
        cards.insert(0, ("Repositories", stats["repositories"], False))
    card_html = "".join(
        f'<div class="card{" bad" if bad else ""}"><b>{n}</b><span>{escape(label)}</span></div>' for label, n, bad in cards
    )
    providers = collections.Counter(f.provider for f in findings)
    authors = collections.Counter(f.commit.author or f.commit.email for f in findings if f.commit)
    paths = collections.Counter(display_path((f.extra.get("first_commit") or {}).get("path") or f.path) for f in findings)
    breakdown = _bars("By provider", providers) + _bars("By author (who introduced it)", authors) + _bars("By path", paths)
    repos = collections.Counter(f.extra["repository"] for f in findings if f.extra.get("repository"))
    if repos:  # an organisation audit: repositories ranked by live secrets, then by all
        live = collections.Counter(f.extra["repository"] for f in findings
                                   if f.extra.get("repository") and f.extra.get("live_at_head") is True)
        breakdown = (_bars("Repositories by live secrets", live) if live else "") + _bars("Repositories by secrets", repos) + breakdown

    skipped = stats.get("skipped") or {}
    notes = [escape(str(n)) for n in stats.get("notes") or []]
    if skipped:
        notes.append("Skipped: " + escape(", ".join(f"{n} {why}" for why, n in sorted(skipped.items()))))
    notes_html = "".join(f"<li>{n}</li>" for n in notes)
    table = (
        '<div class="tools"><input type="search" id="q" placeholder="Filter: path, provider, author, sha…">'
        '<label><input type="checkbox" id="liveonly"> live at HEAD only</label>'
        f'<span class="muted"><span id="shown">{len(findings)}</span> of {len(findings)} shown</span></div>'
        '<table id="findings"><thead><tr><th>Severity</th><th>Confidence</th><th>Provider / rule</th><th>Value (masked)</th>'
        '<th>First seen at</th><th>Introduced by</th><th>Commits</th><th>Paths</th><th>Status</th>'
        + ('<th>Live check (--verify)</th>' if checked else "") + '</tr></thead><tbody>'
        + "".join(_row(f, checked) for f in findings)
        + "</tbody></table>"
    ) if findings else '<p>No secrets found.</p>'
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>leakstop {escape(ctx.command)} report</title><style>{CSS}</style></head><body>'
        f'<header><h1>leakstop {escape(ctx.command)} audit</h1>'
        f'<p>{len(findings)} secret(s); every one was committed and must be rotated, even if removed since. '
        f'Report by leakstop {escape(__version__)}.</p></header><main>'
        f'<section><div class="cards">{card_html}</div>'
        + (f'<ul class="muted">{notes_html}</ul>' if notes_html else "")
        + '</section>'
        f'<section><h2>Timeline</h2>{timeline_svg(findings) if findings else "<p class=muted>Nothing to draw.</p>"}</section>'
        + (f'<section class="grid">{breakdown}</section>' if breakdown else "")
        + f'<section><h2>Findings</h2>{table}</section></main>'
        '<footer>Values are masked (first four characters); identity is a hash of the value.</footer>'
        f'<script>{JS}</script></body></html>\n'
    )
