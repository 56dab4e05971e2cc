"""The sidecar's terminal component, through a real sidecar over its real JSON-RPC pipe:
editor-bridge terminal events become screens, commands and focus; ``crowd term`` events
(base64 bytes, hidden input) too."""
from __future__ import annotations

import base64
from pathlib import Path

from crowd.format import read_recording
from crowd.server.workspace.folders import path_to_uri
from tests.helpers.sidecar import start_recording_sidecar


def _recording(home: Path) -> list[dict]:
    found = [p for p in (home / "recordings").iterdir() if p.is_dir()]
    assert len(found) == 1
    return read_recording(found[0]).events


def test_bridge_and_crowd_term_events_become_screens_and_actions(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    home = tmp_path / "home"
    client = start_recording_sidecar(home, [ws], env={"HOME": str(tmp_path)})
    try:
        bridge = [
            {"kind": "terminal_open", "terminal": "term-1", "name": "bash"},
            {"kind": "terminal_resize", "terminal": "term-1", "name": "bash", "rows": 10, "cols": 40},
            {"kind": "terminal_focus", "terminal": "term-1", "name": "bash"},
            {"kind": "terminal_exec_start", "terminal": "term-1", "exec": "exec-1", "command": "pytest -q",
             "cwd": path_to_uri(ws / "src")},
            {"kind": "terminal_data", "terminal": "term-1", "exec": "exec-1",
             "data": "\x1b[32m3 passed\x1b[0m in 0.01s\r\n"},
            {"kind": "terminal_exec_end", "terminal": "term-1", "exec": "exec-1", "command": "pytest -q",
             "cwd": path_to_uri(ws / "src"), "exitCode": 0},
            {"kind": "terminal_open", "terminal": "term-2", "name": "crowd term", "crowdTerm": True},
            {"kind": "terminal_data", "terminal": "term-2", "data": "not recorded twice"},
        ]
        crowd_term = [
            {"kind": "terminal_open", "terminal": "ct-9", "name": "crowd term", "rows": 6, "cols": 30,
             "source": "crowd_term"},
            {"kind": "terminal_data", "terminal": "ct-9", "encoding": "base64", "program": "claude",
             "data": base64.b64encode("agent says 日本\r\n".encode()).decode()},
            {"kind": "terminal_input", "terminal": "ct-9", "encoding": "base64",
             "data": base64.b64encode(b"y").decode()},
            {"kind": "terminal_input", "terminal": "ct-9", "hidden": True, "data": None},
        ]
        result = client.events(bridge + crowd_term, ack=True)
        assert result["rejected"] == 0, result
        # screens are sampled at 10 Hz: wait until they are on disk (flush makes it so)
        client.wait_for(lambda: client.request("crowd/flush") is not None and
                        sum(e["kind"] == "terminal_screen" for e in _recording(home)) >= 2,
                        what="terminal screens recorded")
    finally:
        client.close()
    events = _recording(home)
    screens = {e["terminal"]: e for e in events if e["kind"] == "terminal_screen"}
    assert set(screens) == {"term-1", "ct-9"}, "the crowdTerm bridge terminal is left to crowd term"
    s1 = screens["term-1"]
    assert (s1["rows"], s1["cols"]) == (10, 40) and s1["lines"][0].startswith("3 passed in 0.01s")
    assert s1["focused"] is True
    assert any(run[2].startswith("green/") for run in s1["styles"][0])
    assert screens["ct-9"]["lines"][0].startswith("agent says 日本")
    assert screens["ct-9"]["program"] == "claude"
    command = next(e for e in events if e["kind"] == "terminal_command")
    assert (command["command"], command["cwd"], command["exit_code"]) == ("pytest -q", "src", 0)
    assert command["start_t"] <= command["end_t"]
    inputs = [e for e in events if e["kind"] == "terminal_input"]
    assert [i.get("data") for i in inputs] == ["y", None] and inputs[1]["withheld"] is True
