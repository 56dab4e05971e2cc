"""The dashboard as one self-contained HTML page: bar charts drawn as inline SVG.

Why no chart library: the page must work offline (collection machines often are) and load
nothing from elsewhere; a few bar charts do not need one. Every number is also in the
page as text (tables under the charts) and as JSON (``<script id="stats"
type="application/json">``) so that a test, or a researcher, can read back exactly what was
drawn. Every string from the bucket (contributor names, sources, days) is HTML-escaped.
"""
from __future__ import annotations

import html
import json
from typing import Any

BAR_W, LABEL_W, ROW_H = 420, 170, 22


def bar_chart(chart_id: str, title: str, values: dict[str, float], unit: str, digits: int = 2) -> str:
    items = list(values.items())
    top = max((v for _, v in items), default=0.0) or 1.0
    height = max(1, len(items)) * ROW_H + 8
    bars = []
    for i, (label, value) in enumerate(items):
        y = 4 + i * ROW_H
        w = max(1.0, BAR_W * value / top) if value > 0 else 0.0
        text = f"{value:.{digits}f}" if isinstance(value, float) else str(value)
        bars.append(
            f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end">{html.escape(label)}</text>'
            f'<rect class="bar" x="{LABEL_W}" y="{y + 2}" width="{w:.1f}" height="{ROW_H - 6}" '
            f'data-label="{html.escape(label, quote=True)}" data-value="{value}"></rect>'
            f'<text x="{LABEL_W + w + 6:.1f}" y="{y + 15}">{text} {html.escape(unit)}</text>')
    if not items:
        bars.append(f'<text x="{LABEL_W}" y="18">nothing yet</text>')
    return (f'<section><h2>{html.escape(title)}</h2>'
            f'<svg id="{chart_id}" width="{LABEL_W + BAR_W + 140}" height="{height}" role="img" '
            f'aria-label="{html.escape(title, quote=True)}">{"".join(bars)}</svg></section>')


def render_dashboard(stats: dict[str, Any]) -> str:
    datasets = stats.get("datasets", {})
    rows = "".join(
        f"<tr><td>{html.escape(kind)}</td><td>{d['bundles']}</td><td>{d['sessions']}</td><td>{d['segments']}</td>"
        f"<td>{d['events']}</td><td>{d['bytes'] / 1e6:.2f}</td></tr>" for kind, d in datasets.items())
    backlog = stats.get("backlog", {})
    backlog_rows = "".join(
        f"<tr><td>{html.escape(user)}</td><td>{b['held']}</td><td>{b['waiting']}</td></tr>"
        for user, b in sorted(backlog.items()))
    charts = [
        bar_chart("hours-per-day", "Hours recorded per day (UTC)", stats.get("hours_per_day", {}), "h"),
        bar_chart("hours-per-contributor", "Hours recorded per contributor", stats.get("hours_per_contributor", {}), "h"),
        bar_chart("hours-by-surface", "Editor, terminal and desktop time", stats.get("hours_by_surface", {}), "h"),
        bar_chart("action-mix", "Action mix by source", stats.get("action_mix", {}), "actions"),
        bar_chart("dataset-bytes", "Dataset size by kind",
                  {k: d["bytes"] / 1e6 for k, d in datasets.items()}, "MB"),
        bar_chart("backlog", "Upload backlog (bundles not yet in the bucket)",
                  {u: b["held"] + b["waiting"] for u, b in sorted(backlog.items())}, "bundles"),
    ]
    payload = json.dumps(stats).replace("<", "\\u003c")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>crowd collection</title><link rel="icon" href="data:,">
<style>
body {{ font: 14px system-ui, sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 20px; }} h2 {{ font-size: 15px; margin: 18px 0 4px; }}
svg text {{ font-size: 12px; fill: #333; }} rect.bar {{ fill: #3b7dd8; }}
table {{ border-collapse: collapse; margin-top: 6px; }} td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }}
</style></head><body>
<h1>crowd collection</h1>
<p>From the bucket at {html.escape(str(stats.get("generated", "")))}.
Backlog: <span id="backlog-held">{stats.get("backlog_total", {}).get("held", 0)}</span> held,
<span id="backlog-waiting">{stats.get("backlog_total", {}).get("waiting", 0)}</span> waiting.</p>
{"".join(charts)}
<h2>Datasets</h2>
<table id="datasets"><tr><th>kind</th><th>bundles</th><th>sessions</th><th>segments</th><th>events</th><th>MB</th></tr>{rows}</table>
<h2>Backlog by contributor</h2>
<table id="backlog-table"><tr><th>contributor</th><th>held</th><th>waiting</th></tr>{backlog_rows}</table>
<script id="stats" type="application/json">{payload}</script>
</body></html>
"""
