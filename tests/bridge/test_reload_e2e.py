"""A window reload continues the session (issue 17 item 4), in code-server.

Before: every sidecar process started a session of its own, so each `Developer: Reload
Window` split the recording (15 sessions in 40 minutes of a trial) and "Replay this session"
showed only the last fragment. Now the bridge remembers its window's session
(editor-bridge/src/core/sessionMemory.ts) and the new sidecar appends to it
(crowd.server.continuation)."""
from __future__ import annotations

from pathlib import Path

import pytest

from crowd.format import read_recording
from tests.bridge.e2e_setup import drive, one_file_window, recordings_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_reloaded_window_records_into_the_same_session(tmp_path: Path) -> None:
    server, recordings = one_file_window(tmp_path)
    try:
        out = drive(server, [
            {"file": "a.py", "steps": [{"press": "Enter"}, {"type": "before = 1", "delay": 10}]},
            {"reload": True, "file": "a.py", "steps": [{"press": "Enter"}, {"type": "after = 2", "delay": 10}]},
        ], "reload")
        assert "RELOADED" in out, out
    finally:
        server.stop()   # ends the sidecar: the recording is closed and complete

    sessions = recordings_in(recordings)
    assert len(sessions) == 1, sessions
    result = read_recording(sessions[0])
    assert not result.torn_tail, result.problems
    events = result.events
    typed = "".join(c["text"] for e in events if e.get("kind") == "edit" and e.get("file") == "a.py"
                    for c in e["changes"])
    assert "before = 1" in typed and "after = 2" in typed and typed.index("before") < typed.index("after"), typed
    session = [e for e in events if e["type"] == "session"]
    assert [e["kind"] for e in session].count("start") == 1, [e["kind"] for e in session]
    assert any(e["kind"] == "resume" and e.get("continued") for e in session), [e["kind"] for e in session]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["t"] for e in events] == sorted(e["t"] for e in events)
