"""Replay shows what is true now, and its commands behave at the edges (issue 15, "Replay").

- After an agent/git/external change, both players showed the editor's last viewport text (the
  file as it was); they now show the file as it is.
- The HTML player's editor pane was empty for crowd-code 1.0 imports (1.0 has no viewports).
- ``--frames N`` past the end repeated frames; ``crowd inspect | head`` ended in a BrokenPipe
  traceback; ``-o dir/`` wrote a file named ``dir``; ``--asciicast`` picked a blank terminal.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from crowd.serializer.interop.load import load_events
from crowd.serializer.replay.frames import Player
from crowd.serializer.replay.html import write_html
from crowd.serializer.replay.tui import run_tui
from crowd.terminal.asciicast import export_asciicast

from tests.replay.test_replay_html import EDITOR_TEXT

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "interop"
CROWD = [sys.executable, "-m", "crowd.cli"]


def _events(*body: dict[str, Any]) -> list[dict[str, Any]]:
    out = [{"seq": 1, "t": 0, "wall": 0, "type": "session", "kind": "start", "session_id": "s"}]
    for i, ev in enumerate(body, start=2):
        out.append({"seq": i, "t": i * 1000, "wall": i, **ev})
    return out


def _agent_changes_a_file_known_only_in_part() -> list[dict[str, Any]]:
    """An imported file known from a snapshot (a hint: incomplete), shown, then changed by an agent."""
    return _events(
        {"type": "observation", "kind": "file_content", "file": "a.py", "text": "one\ntwo\nthree\n", "snapshot": "s1"},
        {"type": "observation", "kind": "viewport", "editors": [
            {"file": "a.py", "visible_ranges": [[0, 2]], "first_line": 0, "text": "one\ntwo\nthree",
             "selections": [], "cursor": [0, 0], "active": True}]},
        {"type": "action", "kind": "file_change", "source": "agent", "file": "a.py", "change": "change",
         "diff": "--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n"})


def test_the_terminal_player_shows_the_file_after_an_agent_change():
    events = _agent_changes_a_file_known_only_in_part()
    player = Player(events)
    player.seek(2)
    assert player.frame().editor.lines[:3] == ["one", "two", "three"]
    player.seek(3)
    assert player.frame().editor.lines[:3] == ["one", "TWO", "three"]


def test_the_html_player_shows_the_file_after_an_agent_change(tmp_path, chromium):
    events = _agent_changes_a_file_known_only_in_part()
    chromium.open(write_html(events, tmp_path / "a.html").as_uri())
    chromium.wait_for("window.crowdReplay !== undefined")
    chromium.eval("window.crowdReplay.seek(2)")
    assert chromium.eval(EDITOR_TEXT).split("\n")[:3] == ["one", "two", "three"]
    chromium.eval("window.crowdReplay.seek(3)")
    assert chromium.eval(EDITOR_TEXT).split("\n")[:3] == ["one", "TWO", "three"]
    assert chromium.errors == []


def test_the_html_player_shows_the_file_of_a_1_0_import(tmp_path, chromium):
    events = load_events(FIX / "cc1" / "session.csv").events
    last_app_edit = max(i for i, e in enumerate(events) if e["kind"] == "edit" and e["file"] == "src/app.py")
    chromium.open(write_html(events, tmp_path / "cc1.html").as_uri())
    chromium.wait_for("window.crowdReplay !== undefined")
    chromium.eval(f"window.crowdReplay.seek({last_app_edit})")
    assert chromium.eval(EDITOR_TEXT) == 'import os\n\ndef main():\n    print("hi 😀")\n\nmain()'
    assert "src/app.py" in chromium.eval("document.getElementById('editor-title').textContent")
    chromium.eval(f"window.crowdReplay.seek({len(events) - 1})")
    assert chromium.eval(EDITOR_TEXT) == "a\nXb\n"                       # the CRLF file, last tab
    assert chromium.errors == []


def test_frames_past_the_end_show_each_event_once(capsys):
    events = load_events(FIX / "cc1" / "session.csv").events[:5]
    run_tui(events, frames=50)
    out = capsys.readouterr().out
    assert [f"frame {i}/5" in out for i in range(1, 6)] == [True] * 5
    assert out.count("crowd replay  frame") == 5


def _closed_reader(*args: str) -> subprocess.CompletedProcess:
    """Run crowd with a stdout pipe whose reader is already gone (what ``| head`` leaves)."""
    proc = subprocess.Popen(CROWD + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    return subprocess.CompletedProcess(args, proc.wait(timeout=120), "", err)


def test_a_reader_that_stops_early_gets_no_traceback():
    for args in (("inspect", str(FIX / "cc1" / "session.csv")),
                 ("inspect", "--json", str(FIX / "cc1" / "session.csv")),
                 ("replay", "--frames", "3", str(FIX / "cc1" / "session.csv"))):
        res = _closed_reader(*args)
        assert "Traceback" not in res.stderr and "BrokenPipe" not in res.stderr, (args, res.stderr)
        assert res.returncode == 0, (args, res.stderr)


def test_html_out_into_a_folder(tmp_path):
    src = FIX / "cc1" / "session.csv"
    new = tmp_path / "new"
    res = subprocess.run(CROWD + ["replay", "--html", str(src), "-o", f"{new}/"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert (new / "session.csv.html").is_file() or (new / "session.html").is_file()
    existing = tmp_path / "existing"
    existing.mkdir()
    res = subprocess.run(CROWD + ["replay", "--html", str(src), "-o", str(existing)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert [p.suffix for p in existing.iterdir()] == [".html"]


def test_asciicast_picks_a_terminal_that_shows_something(tmp_path):
    def screen(tid: str, text: str) -> dict[str, Any]:
        return {"type": "observation", "kind": "terminal_screen", "terminal": tid, "rows": 2, "cols": 10,
                "lines": [text, ""], "cursor": [0, len(text)], "title": "", "alt_screen": False}

    events = _events(screen("t-idle", ""), screen("t-used", "$ make"), screen("t-idle", ""),
                     screen("t-used", "ok"))
    res = export_asciicast(events, tmp_path / "a.cast")
    assert res.terminal == "t-used" and res.terminals == ["t-idle", "t-used"]
    assert export_asciicast(events, tmp_path / "b.cast", terminal="t-idle").terminal == "t-idle"


def test_a_2_0_diff_of_a_file_with_a_lone_cr_applies():
    """jsdiff (2.0's diffs) splits lines at "\\n" only; Python's splitlines also at a lone CR,
    so such a change used to fail to apply and leave the file stale (found by the oracle test)."""
    from crowd.serializer.replay.patch import apply_unified_diff

    old = "progress 10%\rprogress 100%\nsecond\nthird\n"
    diff = ("===================================================================\n--- a/log.txt\t\n+++ b/log.txt\t\n"
            "@@ -1,3 +1,3 @@\n progress 10%\rprogress 100%\n-second\n+SECOND\n third\n")
    assert apply_unified_diff(old, diff) == "progress 10%\rprogress 100%\nSECOND\nthird\n"
