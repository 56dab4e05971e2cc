"""``crowd replay --html``: one self-contained HTML file that replays a recording in a browser.

The events are embedded as gzip-compressed JSON (base64; the browser's DecompressionStream
unpacks it) and a small script replays them with the same rules as
``ReplayState`` (JavaScript strings are UTF-16, so recorded offsets apply natively).
Nothing is fetched from the network; the file works offline and from ``file://``.

A recording is untrusted input (it may be imported, or crafted): its events travel as
base64 data, the title is HTML-escaped, and the page inserts every recorded string as text
(``textContent``), never as HTML, so no recorded value can run script in the viewer.
"""
from __future__ import annotations

import base64
import gzip
import html
import json
import re
from pathlib import Path
from typing import Any
from crowd.serializer.bulk import bulk

TEMPLATE = Path(__file__).with_name("assets") / "player.html"
_PLACEHOLDER = re.compile(r"__(?:TITLE|LIVE|ENCODING|EVENTS)__")


@bulk
def compact_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop viewport text the player can rebuild itself (the file is known and agrees).

    Viewports are about half of all events and carry the most text; where the replay holds
    the full file and its visible lines equal the recorded text, the page derives them from
    its own buffer under the same rules, so the text need not be shipped twice.
    """
    from crowd.serializer.replay.state import ReplayState

    state = ReplayState()
    out = []
    for ev in events:
        state.apply(ev)
        if ev.get("kind") == "viewport" and ev.get("editors"):
            eds = []
            for ed in ev["editors"]:
                if "text" in ed and state.visible_text(ed) == ed["text"]:
                    ed = {k: v for k, v in ed.items() if k != "text"}
                eds.append(ed)
            ev = {**ev, "editors": eds}
        out.append(ev)
    return out


def render_html(events: list[dict[str, Any]], title: str = "recording", live: bool = False,
                compact: bool = True) -> str:
    page = TEMPLATE.read_text(encoding="utf-8")
    if compact:
        events = compact_events(events)
    payload = base64.b64encode(gzip.compress(json.dumps(events, ensure_ascii=False, separators=(",", ":"))
                                             .encode("utf-8"), compresslevel=6, mtime=0)).decode("ascii")
    values = {"__TITLE__": html.escape(title), "__LIVE__": "true" if live else "false",
              "__ENCODING__": "gzip+base64", "__EVENTS__": payload}
    # one pass: a value (the title comes from the recording) is never searched for placeholders
    return _PLACEHOLDER.sub(lambda m: values[m.group(0)], page)


def write_html(events: list[dict[str, Any]], out: Path | str, title: str = "recording") -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(events, title), encoding="utf-8")
    return out
