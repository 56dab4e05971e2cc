"""crowd-code 1.0 CSV import."""
from __future__ import annotations

from pathlib import Path

import pytest

from crowd.serializer.interop.cc1_import import Cc1ImportError, import_cc1
from crowd.serializer.replay.state import ReplayState

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "interop"


def test_cc1_import_rebuilds_files_terminal_and_git():
    events, problems = import_cc1(FIX / "cc1" / "session.csv", start_wall=1_700_000_000_000)
    assert problems == []
    state = ReplayState()
    for ev in events:
        state.apply(ev)
    # typed "\nmain" after the emoji line, then replaced it with "main()": UTF-16 offsets
    assert state.files["src/app.py"].text == 'import os\n\ndef main():\n    print("hi 😀")\n\nmain()'
    assert state.files["win.txt"].text == "a\r\nXb\r\n"          # CRLF file, offset counts \r\n as 2
    screen = state.terminals["terminal-1"].lines
    assert screen[:3] == ["$ python src/app.py", "hi 😀", "done"]   # the typed line, escapes interpreted
    sel = [e for e in events if e["kind"] == "selection"][0]
    assert sel["selections"] == [{"anchor": 43, "active": 47}] and sel["how"] == "keyboard"
    git = [e for e in events if e.get("source") == "git_checkout"]
    assert git and git[0]["branch"] == "feature/login"
    assert events[-1]["wall"] == 1_700_000_000_000 + 7500


def test_cc1_bad_header_and_bad_rows(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(Cc1ImportError, match="expected Sequence"):
        import_cc1(bad)
    rows = tmp_path / "y.csv"
    rows.write_text("Sequence,Time,File,RangeOffset,RangeLength,Text,Language,Type\n"
                    "1,0,a.py,0,0,hi,python,tab\nx,5,a.py,0,0,,python,content\n2,9,a.py,0,0,!,python,bogus\n",
                    encoding="utf-8")
    events, problems = import_cc1(rows)
    assert len(problems) == 2 and "bad Sequence" in problems[0] and "unknown Type 'bogus'" in problems[1]
    assert [e["kind"] for e in events] == ["start", "tab_switch", "file_content"]
