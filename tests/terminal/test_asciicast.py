"""asciicast v2 export: a recorded terminal, exported with the CLI, played back by tmux
(as asciinema's player would) must show exactly the recorded screen at every frame."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crowd.format import read_recording
from tests.terminal.term_oracle import TmuxPane
from tests.terminal.standalone import crowd_term, events_of

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux plays the cast back")

SCRIPT = r"""
import sys, time
w = sys.stdout.write
w('\x1b]2;cast demo\x07plain \x1b[1;31mbold red\x1b[0m \x1b[7mreverse\x1b[0m 日本語 e\u0301\r\n')
sys.stdout.flush()
sys.stdin.readline()
for i in range(30):
    w(f'line {i} \x1b[38;5;{i + 20}mcolour {i}\x1b[0m\r\n')
w('\x1b[?1049h\x1b[H\x1b[2J\x1b[44m full-screen app \x1b[0m\x1b[5;5Hbox')
sys.stdout.flush()
sys.stdin.readline()
w('\x1b[?1049ldone\r\n')
"""


def test_cast_plays_back_the_recorded_screens(tmp_path: Path) -> None:
    script = tmp_path / "show.py"
    script.write_text(SCRIPT)
    prog, announce = crowd_term(tmp_path, sys.executable, str(script))
    prog.expect("bold red")
    prog.send("\r")
    prog.expect("box")
    prog.send("\r")
    prog.expect("done")
    assert prog.wait_exit() == 0
    recording = Path(announce.read_text())
    out = tmp_path / "out.cast"
    run = subprocess.run([sys.executable, "-m", "crowd.cli", "export", "--asciicast", str(recording),
                          "-o", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "wrote" in run.stdout

    lines = out.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["version"] == 2 and (header["width"], header["height"]) == (80, 24)
    frames = [json.loads(line) for line in lines[1:]]
    times = [f[0] for f in frames]
    assert times == sorted(times) and times[0] >= 0
    assert {f[1] for f in frames} <= {"o", "i", "r"}
    assert any(f[1] == "i" for f in frames), "typed keys become input events"

    screens = [e for e in events_of(announce) if e["kind"] == "terminal_screen"]
    outputs = [f[2] for f in frames if f[1] == "o"]
    assert len(outputs) == len(screens)
    pane = TmuxPane(24, 80)
    try:
        for data, screen in zip(outputs, screens):
            pane.write(data.encode())
            pane.sync()
            shown, cursor = pane.screen()
            assert [s.rstrip() for s in shown] == [s.rstrip() for s in screen["lines"]]
            assert cursor == (screen["cursor"][0], min(screen["cursor"][1], 79))
    finally:
        pane.close()


def test_export_without_terminal_screens_is_a_clear_error(tmp_path: Path) -> None:
    from crowd.format import RecordingWriter

    rec = tmp_path / "rec"
    writer = RecordingWriter(rec)
    writer.append({"seq": 1, "t": 0, "wall": 0, "type": "session", "kind": "start", "session_id": "x"})
    writer.close()
    assert read_recording(rec).events
    run = subprocess.run([sys.executable, "-m", "crowd.cli", "export", "--asciicast", str(rec),
                          "-o", str(tmp_path / "x.cast")], capture_output=True, text=True)
    assert run.returncode == 1
    assert "no terminal_screen" in run.stderr
    assert not (tmp_path / "x.cast").exists()
