"""crowd-code 2.0 sessions as the extension really writes them (issue 15, the 2.0 items).

Every session here is written the way 2.0 does: ``crowd-code-<sessionId>-<local time with
milliseconds>/temp/chunk_000.json``; an action is followed by the observation of the state
after it; edits are logged only when they touch the visible lines; the viewport ``content``
is lines ``startLine..endLine`` of the file; the terminal viewport is the last 20 lines of the
raw output split on ``\\n`` (colour codes, ``\\r`` progress steps and CRLF ends included) after
a ``$ command`` line 2.0 inserts itself.
"""
from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.serializer.interop.cc2_export import export_cc2
from crowd.serializer.interop.cc2_import import import_cc2, is_cc2
from crowd.serializer.interop.cc2_layout import folder_name
from crowd.serializer.interop.screens import cc2_screen, emulated
from crowd.serializer.replay.frames import Player
from crowd.serializer.replay.state import ReplayState

from tests.helpers.cc2_files import T0, Session

def replayed(events: list[dict[str, Any]]) -> ReplayState:
    state = ReplayState()
    for ev in events:
        state.apply(ev)
    return state


LONG = "\n".join(f"line {i}" for i in range(60)) + "\n"   # longer than the editor: 30 lines show


def test_a_viewport_that_covers_the_file_is_the_edit_base_and_undo_is_right(tmp_path):
    s = Session()
    s.action("tab_switch", file="long.py", previousFile=None)
    s.observe("long.py", LONG, 1, 30)                        # the editor shows 30 lines
    text = "def f():\n    return 1\n"
    s.action("tab_switch", file="m.py", previousFile="long.py")
    s.observe("m.py", text)                                  # 3 lines < 30: the whole file
    s.action("edit", file="m.py", diff={"rangeOffset": 20, "rangeLength": 1, "text": "42"})
    text = "def f():\n    return 42\n"
    s.observe("m.py", text, cursor=(1, 13))
    s.action("edit", file="m.py", diff={"rangeOffset": 20, "rangeLength": 2, "text": "1"}, reason="undo")
    text = "def f():\n    return 1\n"
    s.observe("m.py", text, cursor=(1, 12))
    events, problems = import_cc2(s.write(tmp_path))
    assert problems == []
    state = replayed(events)
    assert state.files["m.py"].text == text and state.files["m.py"].complete
    # before: the edits were applied to an empty document ("42" then "1" at offset 0...)
    assert state.files["long.py"].text == "\n".join(LONG.split("\n")[:30]) and not state.files["long.py"].complete
    # the replay invariant holds at every viewport of a file it knows
    check = ReplayState()
    for ev in events:
        check.apply(ev)
        if ev["kind"] == "viewport":
            for ed in ev["editors"]:
                seen = check.visible_text(ed)
                assert seen is None or seen == ed["text"]


def test_a_viewport_from_line_one_is_a_known_prefix_and_later_views_fix_what_2_0_did_not_log(tmp_path):
    s = Session()
    s.action("tab_switch", file="a.py", previousFile=None)
    s.observe("a.py", LONG, 1, 30)
    s.action("edit", file="a.py", diff={"rangeOffset": 0, "rangeLength": 4, "text": "LINE"})
    after = "LINE" + LONG[4:]
    s.observe("a.py", after, 1, 30)
    # an edit far below the viewport (a rename): 2.0 does not log it; the next view shows it
    s.observe("a.py", after.replace("line 40", "row 40"), 31, 60)
    events, problems = import_cc2(s.write(tmp_path))
    state = replayed(events)
    lines = state.files["a.py"].text.split("\n")
    assert lines[0] == "LINE 0" and lines[40] == "row 40" and lines[59] == "line 59"


def test_terminal_output_becomes_the_screen_that_was_seen_and_exports_back_raw(tmp_path):
    raw = ["$ pytest", "\x1b[1m===== test session starts =====\x1b[0m\r",
           "collecting 0 items\rcollecting 3 items\r", "\x1b[32m3 passed\x1b[0m in 0.01s\r", ""]
    s = Session()
    s.action("terminal_focus", terminalId="terminal-1", terminalName="zsh")
    s.observe(None, terminal=[])
    s.action("terminal_command", terminalId="terminal-1", terminalName="zsh", command="pytest")
    s.observe(None, terminal=raw)
    folder = s.write(tmp_path)
    events, problems = import_cc2(folder)
    assert problems == []
    screen = [e for e in events if e["kind"] == "terminal_screen"][-1]
    assert screen["lines"] == ["$ pytest", "===== test session starts =====", "collecting 3 items",
                               "3 passed in 0.01s", ""]
    assert screen["cursor"] == [4, 0]
    frame_lines = Player(events)
    frame_lines.seek(len(events) - 1)
    assert frame_lines.frame().terminal_lines == screen["lines"][:4]
    res = export_cc2(events, tmp_path / "out", tarballs=False)
    back = json.loads((res.folder / "temp" / "chunk_000.json").read_text(encoding="utf-8"))
    assert back["events"] == s.events                       # the raw lines go back as 2.0 had them
    assert res.folder.name == folder.name                   # and the folder keeps its name


def test_selections_get_offsets_where_the_file_is_known(tmp_path):
    s = Session()
    text = "alpha\nbeta 😀 gamma\n"
    s.action("tab_switch", file="x.txt", previousFile=None)
    s.observe("x.txt", LONG, 1, 30)
    s.action("tab_switch", file="s.txt", previousFile="x.txt")
    s.observe("s.txt", text)
    s.action("selection", file="s.txt", selectionStart={"line": 1, "character": 8},
             selectionEnd={"line": 1, "character": 13}, selectedText="gamma")
    s.observe("s.txt", text, cursor=(1, 13))
    events, _ = import_cc2(s.write(tmp_path))
    sel = next(e for e in events if e["kind"] == "selection")
    assert sel["selections"] == [{"anchor": 14, "active": 19}]     # UTF-16: the emoji is 2 units
    assert sel["cc2"]["selectedText"] == "gamma"


@pytest.fixture
def berlin(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_real_folder_names_with_milliseconds_in_local_time(tmp_path, berlin):
    # 2025-06-02 14:03:11.512 UTC is 16:03:11.512 in Berlin (summer time)
    assert folder_name("abc", T0 + 512) == "crowd-code-abc-2025_06_02-16.03.11.512"
    assert folder_name("abc", T0 + 7) == "crowd-code-abc-2025_06_02-16.03.11.07"   # 2.0 pads to two
    s = Session("abc")
    s.action("tab_switch", file="a.py", previousFile=None)
    folder = s.write(tmp_path, "2025_06_02-14.03.11.07")
    (folder / "temp").rename(folder / "elsewhere")           # recognised by its name alone
    (folder / "elsewhere" / "chunk_000.json").rename(folder / "chunk_000.json")
    assert is_cc2(folder)
    events, _ = import_cc2(folder)
    res = export_cc2(events, tmp_path / "out", tarballs=False)
    assert res.folder.name == folder.name
    ours = [e for e in events if e["kind"] == "start"][0]
    res2 = export_cc2([{**ours, "cc2_folder_time": None}] + events[1:], tmp_path / "out2", tarballs=False)
    assert res2.folder.name == "crowd-code-abc-2025_06_02-16.03.11.00"   # startTime T0, written like 2.0


def test_edits_to_a_file_never_seen_do_not_outlive_its_first_view(tmp_path):
    s = Session()
    s.action("tab_switch", file="long.py", previousFile=None)
    s.observe("long.py", LONG, 1, 30)
    # edits logged before any view of b.py from line 1 (offsets far into a file never seen)
    s.action("edit", file="b.py", diff={"rangeOffset": 900, "rangeLength": 0, "text": "x\n" * 40})
    s.observe("b.py", LONG, 1, 30)
    events, _ = import_cc2(s.write(tmp_path))
    assert replayed(events).files["b.py"].text == "\n".join(LONG.split("\n")[:30])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab Z09.,:;'\"$#()[]{}<>/\\|-_=+*&^%@!?~`é中😀"), max_size=50),
                min_size=1, max_size=20), st.booleans())
def test_plain_terminal_lines_skip_the_emulator_and_show_the_same(lines, crlf):
    raw = [x + "\r" for x in lines] if crlf else lines
    assert cc2_screen(raw) == emulated(raw)


def test_two_recordings_of_one_window_do_not_collide(tmp_path):
    """2.0's sessionId is VS Code's window session: a stop and start in one window reuses it."""
    first, second = Session("win-1"), Session("win-1")
    for s in (first, second):
        s.action("tab_switch", file="a.py", previousFile=None)
    second.events = [{**e, "timestamp": e["timestamp"] + 60_000} for e in second.events]
    a = first.write(tmp_path / "a")
    doc = json.loads((second.write(tmp_path / "b", "2025_06_02-14.04.11.512") / "temp" / "chunk_000.json").read_text())
    doc["startTime"] += 60_000
    (tmp_path / "b" / "crowd-code-win-1-2025_06_02-14.04.11.512" / "temp" / "chunk_000.json").write_text(json.dumps(doc))
    ids = [import_cc2(p)[0][0]["session_id"] for p in (a, tmp_path / "b" / "crowd-code-win-1-2025_06_02-14.04.11.512")]
    assert ids == [f"win-1-{T0}", f"win-1-{T0 + 60_000}"]
    events, _ = import_cc2(a)
    res = export_cc2(events, tmp_path / "out", tarballs=False)
    assert json.loads((res.folder / "temp" / "chunk_000.json").read_text())["sessionId"] == "win-1"
    assert res.folder.name == a.name
