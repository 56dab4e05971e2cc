"""Output that arrives while the recording is paused is not recorded, but the terminal's model
still absorbs it: the first screen after resume is the screen the user sees (here: tmux fed
the same bytes), not the pre-pause screen with later output drawn over it.

Real processes: a stdio sidecar driven over its JSON-RPC pipe, ``crowd term`` in a real PTY
streaming to it, bash inside; tmux is the reference terminal.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from crowd.format import read_recording
from crowd.server.client import SidecarClient
from tests.terminal.streaming import absorbed, streaming_sidecar
from tests.terminal.term_oracle import PtyProgram, TmuxPane

SCRIPT = ("echo before-pause; read a; printf '\\033[2J\\033[Hduring-pause\\n'; "
          "read b; echo after-resume; read c")


def test_first_screen_after_resume_includes_what_the_pause_hid(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    client = streaming_sidecar(home, ws_dir)
    prog = None
    try:
        recording = client.status()["recording"]
        prog = PtyProgram([sys.executable, "-m", "crowd.cli", "term", "--", "bash", "-c", SCRIPT],
                          env={"CROWD_HOME": str(home), "HOME": str(tmp_path),
                               "PYTHONPATH": os.environ.get("PYTHONPATH", "")}, cwd=str(ws_dir))

        def screens() -> list[dict]:
            client.request("crowd/flush")
            return [e for e in read_recording(recording).events if e["kind"] == "terminal_screen"]

        prog.expect("before-pause")
        client.wait_for(lambda: absorbed(client, prog), 30, "the sidecar to absorb the first output")
        client.wait_for(lambda: any("before-pause" in s["lines"][0] for s in screens()), 30, "a screen")

        assert client.request("crowd/pause")["state"] == "paused"
        prog.type("secret-while-paused\r")
        prog.expect("during-pause")
        client.wait_for(lambda: absorbed(client, prog), 30, "the sidecar to absorb the output of the pause")
        assert client.request("crowd/resume")["state"] == "recording"
        reference = TmuxPane(24, 80)
        try:
            reference.write(prog.output)
            reference.sync()
            expected, _cursor = reference.screen()
        finally:
            reference.close()

        def resumed_screens() -> list[dict]:
            recorded = screens()                  # flushes first: the resume is on disk too
            resume = next(e["seq"] for e in read_recording(recording).events if e["kind"] == "resume")
            return [e for e in recorded if e["seq"] > resume]

        client.wait_for(lambda: bool(resumed_screens()), 30, "a screen after resume")
        first = resumed_screens()[0]
        assert [line.rstrip() for line in first["lines"]] == [line.rstrip() for line in expected]
        assert first["lines"][0].startswith("during-pause")
        assert "before-pause" not in "\n".join(first["lines"])   # cleared during the pause

        prog.type("y\r")
        prog.expect("after-resume")
        client.wait_for(lambda: any("after-resume" in "\n".join(s["lines"]) for s in screens()), 30,
                        "the screen after resume")
        prog.send("\r")
        assert prog.wait_exit() == 0
    finally:
        if prog is not None and not prog.exited:
            prog.kill()
        client.close()
    events = read_recording(recording).events
    pause = next(e["seq"] for e in events if e["kind"] == "pause")
    resume = next(e["seq"] for e in events if e["kind"] == "resume")
    assert resume == pause + 1, [e["kind"] for e in events if pause < e["seq"] < resume]
    typed = "".join(e.get("data") or "" for e in events if e["kind"] == "terminal_input")
    assert "secret-while-paused" not in typed and "y" in typed
    assert not any("secret-while-paused" in "\n".join(e["lines"]) for e in events
                   if e["kind"] == "terminal_screen" and e["seq"] < pause)


def test_terminals_opened_before_consent_and_across_recordings(tmp_path: Path) -> None:
    """Bridge terminal events before consent and between two recordings reach the model; each
    recording starts with the terminal's open (its real size) and its current screen."""
    home = tmp_path / "home"
    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    client = SidecarClient(env={"CROWD_HOME": str(home)}, args=["--no-ws"])
    try:
        client.initialize([ws_dir], consent=None)
        answer = client.events([
            {"kind": "terminal_open", "terminal": "t1", "name": "bash", "rows": 5, "cols": 30},
            {"kind": "terminal_data", "terminal": "t1", "data": "typed-before-consent\r\n"}], ack=True)
        assert answer["rejected"] == 0
        assert client.status()["terminals"]["t1"]["outputBytes"] == len("typed-before-consent\r\n")
        assert client.request("crowd/consent", {"granted": True})["state"] == "recording"
        first = client.status()["recording"]

        def screen_with(recording: str, text: str) -> bool:
            client.request("crowd/flush")
            return any(e["kind"] == "terminal_screen" and text in "\n".join(e["lines"])
                       for e in read_recording(recording).events)

        client.wait_for(lambda: screen_with(first, "typed-before-consent"), 30, "the screen")
        assert client.request("crowd/stop")["state"] == "stopped"
        client.events([{"kind": "terminal_data", "terminal": "t1", "data": "between-recordings\r\n"}], ack=True)
        second = client.request("crowd/start")["recording"]
        assert second != first
        client.wait_for(lambda: screen_with(second, "between-recordings"), 30, "the screen of the new recording")
        client.request("crowd/pause")
        client.events([{"kind": "terminal_close", "terminal": "t1", "exitCode": 4}], ack=True)
        assert "t1" not in client.status()["terminals"]
        client.request("crowd/resume")

        def closed() -> bool:
            client.request("crowd/flush")
            return any(e["kind"] == "terminal_close" for e in read_recording(second).events)

        client.wait_for(closed, 30, "the close that happened while paused")
    finally:
        client.close()
    for recording in (first, second):
        events = read_recording(recording).events
        opened = [e for e in events if e["kind"] == "terminal_open"]
        assert [(e["terminal"], e["rows"], e["cols"]) for e in opened] == [("t1", 5, 30)]
        screen = next(e for e in events if e["kind"] == "terminal_screen")
        assert screen["seq"] > opened[0]["seq"] and screen["lines"][0].rstrip() == "typed-before-consent"
    assert not any("between-recordings" in "\n".join(e.get("lines") or [])
                   for e in read_recording(first).events)
    events = read_recording(second).events
    resume = next(e["seq"] for e in events if e["kind"] == "resume")
    close = next(e for e in events if e["kind"] == "terminal_close")
    assert close["seq"] > resume and close["exit_code"] == 4
