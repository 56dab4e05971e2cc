"""A crafted recording must not send its control sequences to the user's terminal.

``crowd replay`` in a terminal used to print recorded text (terminal lines, file names, edit
text, agents, diffs) as is, so a recording could retitle the window (OSC), move the cursor
over the UI, switch charsets or ring the bell. Now every control character is drawn as a
visible stand-in; the only escape sequences on screen are the UI's own colours.
"""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.serializer.replay.frames import Player
from crowd.serializer.replay.tui import render, run_tui, visible

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
OWN_SGR = re.compile(r"\x1b\[[0-9;]*m")   # what the UI itself writes (_c)
NASTY = ["\x1b]0;pwned\x07", "\x1b[2J", "\x1b[H", "\x9b31m", "\x1bP+q\x1b\\", "\x07", "\x0e", "\r", "\x1b[?1049l",
         "\x1b]52;c;ZXZpbA==\x07", "\x00", "\x7f", "\x85"]

texts = st.lists(st.sampled_from(NASTY) | st.text(max_size=6), max_size=6).map("".join)


def crafted(t: list[str]) -> list[dict]:
    evs = [
        {"type": "session", "kind": "start", "session_id": t[0]},
        {"type": "action", "kind": "edit", "source": "agent", "agent": t[1], "file": t[2], "reason": t[3],
         "changes": [{"offset": 0, "length": 0, "text": t[4] + "\n" + t[5]}]},
        {"type": "observation", "kind": "viewport",
         "editors": [{"file": t[6], "visible_ranges": [[0, 3]], "first_line": 0, "text": t[7] + "\n" + t[8],
                      "selections": [], "cursor": [0, 1], "active": True}]},
        {"type": "observation", "kind": "terminal_screen", "terminal": "t1", "name": t[9], "title": t[9],
         "lines": [t[10], t[11]], "cursor": [1, 0], "focused": True, "rows": 2, "cols": 80},
        {"type": "action", "kind": "terminal_command", "source": "user", "terminal": "t1", "command": t[12]},
        {"type": "action", "kind": "file_change", "source": "git", "file": "b.py", "change": "change",
         "diff": "--- a\n+++ b\n@@ -1 +1 @@\n-" + t[13] + "\n+" + t[14] + "\n"},
        {"type": "snapshot", "kind": "snapshot", "snapshot_id": t[15], "files": 0},
        {"type": "action", "kind": "tab_switch", "source": "user", "file": t[16], "previous_file": t[17]},
    ]
    for i, ev in enumerate(evs):
        ev.update(seq=i + 1, t=i * 1_000_000, wall=1_700_000_000_000 + i * 1000)
    return evs


@settings(max_examples=40, deadline=None)
@given(st.lists(texts, min_size=18, max_size=18))
def test_no_recorded_control_character_reaches_the_terminal(t):
    events = crafted(t)
    player = Player(events)
    for i in range(len(events)):
        player.seek(i)
        frame = player.frame(40)
        for color in (True, False):
            screen = "\n".join(render(frame, 100, 40, color=color))
            leftover = OWN_SGR.sub("", screen) if color else screen
            assert not CONTROL.search(leftover.replace("\n", "")), (i, color, repr(leftover)[:400])


def test_a_crafted_terminal_screen_is_shown_not_obeyed(capsys):
    events = crafted(["\x1b]0;pwned\x07 title \x1b[2J"] * 18)
    assert run_tui(events, frames=2) == 0          # the plain (non-interactive) path
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "␛]0;pwned␇ title ␛[2J" in out          # what was recorded, made visible


def test_visible_keeps_width_and_ordinary_text():
    assert visible("plain é 中文 \u200b") == "plain é 中文 \u200b"
    for ch in map(chr, [*range(0x20), 0x7F, *range(0x80, 0xA0)]):
        assert len(visible(ch)) == 1 and not CONTROL.search(visible(ch))
