"""A crafted recording must not run script in the HTML player (headless Chromium).

The player used to build its log, diff title and diff with ``innerHTML``, putting an
event's ``source`` (and agent) into markup unescaped: a recording whose ``source`` was
``"><img onerror=...>`` ran its script when opened. Every recorded string now reaches the
page as text; this test puts markup into every string field it can and scrubs through all
events.
"""
from __future__ import annotations

from crowd.serializer.replay.html import render_html, write_html

XSS = ('"><img src=x onerror="window.__pwned=(window.__pwned||0)+1">'
       "<script>window.__pwned=1</script><b id=\"bold\">b</b>'")


def crafted_events() -> list[dict]:
    wall = 1_700_000_000_000
    evs: list[dict] = [
        {"type": "session", "kind": "start", "session_id": XSS},
        {"type": "action", "kind": "edit", "source": XSS, "agent": XSS, "file": XSS, "reason": XSS,
         "changes": [{"offset": 0, "length": 0, "text": XSS + "\n" + XSS}], "diff": XSS + "\n+" + XSS},
        {"type": "action", "kind": "edit", "source": "agent", "agent": XSS, "file": "a.py",
         "changes": [{"offset": 0, "length": 0, "text": XSS}]},
        {"type": "observation", "kind": "viewport",
         "editors": [{"file": XSS, "visible_ranges": [[0, 1]], "first_line": 0, "text": XSS + "\n" + XSS,
                      "selections": [], "cursor": [0, 3], "active": True}]},
        {"type": "observation", "kind": "terminal_screen", "terminal": XSS, "name": XSS, "title": XSS,
         "lines": [XSS, XSS], "cursor": [1, 0], "focused": True, "rows": 2, "cols": 80},
        {"type": "action", "kind": "terminal_command", "source": "user", "terminal": XSS, "command": XSS},
        {"type": "action", "kind": "file_change", "source": XSS, "agent": XSS, "file": XSS, "change": XSS,
         "diff": XSS},
        {"type": "snapshot", "kind": "snapshot", "snapshot_id": XSS, "files": 1},
        {"type": "observation", "kind": "file_content", "file": XSS, "text": XSS, "snapshot": XSS},
        {"type": "action", "kind": "tab_switch", "source": "user", "file": XSS, "previous_file": XSS},
    ]
    for i, ev in enumerate(evs):
        ev.update(seq=i + 1, t=i * 1_000_000, wall=wall + i * 1000)
    return evs


def test_recorded_markup_is_shown_as_text_and_never_runs(tmp_path, chromium):
    events = crafted_events()
    title = XSS + "__EVENTS__ __LIVE__"
    page = write_html(events, tmp_path / "crafted.html", title=title)
    chromium.open(page.as_uri())
    chromium.wait_for("window.crowdReplay !== undefined")
    for i in range(len(events)):  # every state the player can draw
        chromium.eval(f"window.crowdReplay.seek({i})")
        assert chromium.eval("document.querySelectorAll('img, b#bold').length") == 0, i
        assert chromium.eval("document.scripts.length") == 2, i   # the events and the player only
        assert chromium.eval("window.__pwned === undefined"), i
    # what was recorded is on show, as text, in every pane
    chromium.eval(f"window.crowdReplay.seek({len(events) - 1})")
    for pane in ("log", "diff", "diff-title", "terminal", "editor", "editor-title", "term-title"):
        shown = chromium.eval(f"document.getElementById('{pane}').textContent")
        assert "<img src=x" in shown, (pane, shown)
    assert chromium.eval("document.querySelector('#marks .mark').title") == XSS
    assert chromium.eval("document.title") == "crowd replay: " + title   # placeholders in it stay as typed
    assert chromium.eval("window.__pwned === undefined")
    assert chromium.errors == []


def test_the_page_template_holds_no_recorded_markup():
    text = render_html(crafted_events(), title=XSS)
    assert "<img" not in text and "<script>window" not in text
    assert "innerHTML" not in text   # the player builds nodes and sets textContent only
