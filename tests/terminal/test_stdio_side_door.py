"""The editor runs its sidecar on stdio; ``crowd term`` in the editor's terminals must still
stream into that session (not write a recording of its own that panic would not delete).

A real stdio sidecar driven by the JSON-RPC pipe client, a real ``crowd term`` PTY with the
same ``CROWD_HOME`` and no hint where the sidecar is: it must find the token file the stdio
sidecar wrote, its screens/commands/keys must land in the editor's recording, and the
editor's panic must remove them.
"""
from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

from crowd.format import read_recording
from tests.terminal.streaming import streaming_sidecar
from tests.terminal.term_oracle import PtyProgram

MARK = "side-door-output"


def _terminal_events(recording: str) -> list[dict]:
    return [e for e in read_recording(recording).events if e["kind"].startswith("terminal_")]


def test_crowd_term_streams_into_the_stdio_sidecar_and_panic_removes_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    client = streaming_sidecar(home, ws_dir)
    try:
        token_file = home / "sidecar-ws.json"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        status = client.status()
        info = json.loads(token_file.read_text())
        assert status["stream"] == {"port": info["port"], "tokenFile": str(token_file)}
        assert "token" not in json.dumps(status["stream"]).replace("tokenFile", "")

        announce = tmp_path / "announce.txt"
        prog = PtyProgram([sys.executable, "-m", "crowd.cli", "term", "--announce", str(announce), "--",
                           "bash", "-c", f"echo {MARK}; read x; echo got-$x; exit 3"],
                          env={"CROWD_HOME": str(home), "HOME": str(tmp_path),
                               "PYTHONPATH": os.environ.get("PYTHONPATH", "")}, cwd=str(ws_dir))
        prog.expect(MARK)
        prog.type("typed\r")
        prog.expect("got-typed")
        assert prog.wait_exit() == 3
        assert announce.read_text() == "sidecar", "crowd term recorded standalone instead of streaming"

        recording = status["recording"]

        def closed() -> bool:
            client.request("crowd/flush")
            return any(e["kind"] == "terminal_close" for e in _terminal_events(recording))

        client.wait_for(closed, 60, "the terminal's close in the editor's recording")
        events = _terminal_events(recording)
        screens = [e for e in events if e["kind"] == "terminal_screen"]
        assert any(MARK in "\n".join(s["lines"]) for s in screens)
        assert any("got-typed" in "\n".join(s["lines"]) for s in screens)
        assert "typed" in "".join(e.get("data") or "" for e in events if e["kind"] == "terminal_input")
        close = next(e for e in events if e["kind"] == "terminal_close")
        assert close["exit_code"] == 3
        assert [p.name for p in (home / "recordings").iterdir()] == [Path(recording).name], \
            "crowd term wrote a recording of its own"

        # the editor's panic deletes the terminal too
        answer = client.request("crowd/panic", {"minutes": 10})
        assert answer["removed"] > 0
        assert _terminal_events(recording) == []
        raw = b"".join(p.read_bytes() for p in Path(recording).rglob("*") if p.is_file())
        assert MARK.encode() not in raw
    finally:
        client.close()
    assert not (home / "sidecar-ws.json").exists(), "the token file is removed when the sidecar exits"
