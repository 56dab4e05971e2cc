"""The sidecar dies (kill -9) while ``crowd term`` streams to it: the terminal keeps working
and the rest of the session goes into a standalone recording that starts with the terminal's
exact current screen (the capture process keeps a shadow model while streaming).

Real processes: a stdio sidecar over its JSON-RPC pipe, ``crowd term`` in a real PTY, bash.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from crowd.format import read_recording
from crowd.format.schema import validate_event
from tests.terminal.streaming import absorbed, kill_both, streaming_sidecar
from tests.terminal.term_oracle import PtyProgram

SCRIPT = "echo phase-one; read a; echo phase-two-$a; read b; echo done-$b"


def test_crowd_term_falls_back_to_its_own_recording_when_the_sidecar_dies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    announce = tmp_path / "announce.txt"
    client = streaming_sidecar(home, ws_dir)
    prog = None
    try:
        prog = PtyProgram([sys.executable, "-m", "crowd.cli", "term", "--announce", str(announce),
                           "--", "bash", "-c", SCRIPT], rows=20, cols=70,
                          env={"CROWD_HOME": str(home), "HOME": str(tmp_path),
                               "PYTHONPATH": os.environ.get("PYTHONPATH", "")}, cwd=str(ws_dir))
        prog.expect("phase-one")
        client.wait_for(announce.exists, 30, "crowd term to say where it records")
        assert announce.read_text() == "sidecar"

        client.wait_for(lambda: absorbed(client, prog), 30, "the sidecar to absorb phase one")
        client.kill()                                    # SIGKILL, mid-session

        prog.type("after\r")
        prog.expect("phase-two-after")                   # the terminal never noticed
        client.wait_for(lambda: prog.read_available(0.02) and announce.read_text() != "sidecar", 30,
                        "crowd term to fall back to a recording of its own")
        prog.type("zed\r")
        prog.expect("done-zed")
        assert prog.wait_exit() == 0
    finally:
        kill_both(prog, client)
    fallback = Path(announce.read_text())
    assert fallback.parent == home / "recordings" and fallback.name.startswith("term-")
    result = read_recording(fallback)
    assert not result.problems, result.problems
    events = result.events
    for event in events:
        validate_event(event)
    start = events[0]
    assert start["kind"] == "start" and start["settings"]["fallback"] == "the sidecar went away"
    opened = next(e for e in events if e["kind"] == "terminal_open")
    assert (opened["rows"], opened["cols"]) == (20, 70)
    screens = [e for e in events if e["kind"] == "terminal_screen"]
    assert screens[0]["seq"] > opened["seq"]
    first = "\n".join(screens[0]["lines"])
    assert "phase-one" in first, "the fallback starts with the screen as it was, not a blank one"
    assert any("done-zed" in "\n".join(s["lines"]) for s in screens)
    last = "\n".join(screens[-1]["lines"])
    assert "phase-one" in last and "phase-two-after" in last and "done-zed" in last
    typed = "".join(e.get("data") or "" for e in events if e["kind"] == "terminal_input")
    assert "zed" in typed
    close = next(e for e in events if e["kind"] == "terminal_close")
    assert close["exit_code"] == 0
    assert events[-1]["kind"] == "stop"
