"""``crowd replay --html``: one self-contained HTML file that replays a recording in a browser.

The events are embedded as JSON and a small script replays them with the same rules as
``ReplayState`` (JavaScript strings are UTF-16, so recorded offsets apply natively).
Nothing is fetched from the network; the file works offline and from ``file://``.
"""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).with_name("assets") / "player.html"


def _script_json(obj: Any) -> str:
    """JSON safe inside <script>: no "</" that could end the element, no U+2028/9 surprises."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("<!--", "<\\!--")


def render_html(events: list[dict[str, Any]], title: str = "recording", live: bool = False) -> str:
    page = TEMPLATE.read_text(encoding="utf-8")
    return (page.replace("__TITLE__", html.escape(title))
                .replace("__LIVE__", "true" if live else "false")
                .replace("__EVENTS__", _script_json(events)))


def write_html(events: list[dict[str, Any]], out: Path | str, title: str = "recording") -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(events, title), encoding="utf-8")
    return out
