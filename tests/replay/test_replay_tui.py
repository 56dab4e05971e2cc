"""``crowd replay`` in a real terminal: tmux runs the real CLI in a PTY and we read its screen."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

CROWD = [sys.executable, "-m", "crowd.cli"]


class Tmux:
    def __init__(self, command: list[str], width: int = 120, height: int = 45) -> None:
        if shutil.which("tmux") is None:
            pytest.skip("tmux is not installed (scripts/setup.sh installs it)")
        self.name = f"crowd-replay-{uuid.uuid4().hex[:8]}"
        self.sock = f"crowd-test-{self.name}"
        cmd = " ".join(_q(c) for c in command)
        subprocess.run(["tmux", "-L", self.sock, "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
                        cmd + "; echo REPLAY-EXITED-$?; sleep 600"], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "-L", self.sock, "capture-pane", "-p", "-t", self.name],
                              capture_output=True, text=True, check=True).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "-L", self.sock, "send-keys", "-t", self.name, *keys], check=True)

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.screen())
            if m:
                return m
            time.sleep(0.1)  # polling the screen for a condition, with a deadline
        raise AssertionError(f"{pattern!r} never appeared; screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)


def _q(s: str) -> str:
    return "'" + s.replace("'", "'\"'\"'") + "'"


def test_terminal_replay_steps_seeks_plays_and_quits(recording):
    term = Tmux(CROWD + ["replay", str(recording)])
    try:
        m = term.wait_for(r"frame 1/(\d+)")
        total = int(m.group(1))
        screen = term.screen()
        assert "── editor" in screen and "── terminal" in screen and "── actions" in screen
        term.keys("End")
        term.wait_for(rf"frame {total}/{total}")
        screen = term.screen()
        assert re.search(r"^\s+\d+[ >]", screen, re.M)  # line numbers in the editor pane
        assert re.search(r"^\s+user ", screen, re.M)  # the action log names the actor
        term.keys("Home")
        term.wait_for(rf"frame 1/{total}")
        for _ in range(3):
            term.keys("Right")
        term.wait_for(rf"frame 4/{total}")
        term.keys("Left")
        term.wait_for(rf"frame 3/{total}")
        term.keys("PageDown")
        term.wait_for(rf"frame 103/{total}")
        term.keys("5")
        term.wait_for(rf"frame {5 * (total - 1) // 10 + 1}/{total}")
        term.keys("Home", "n")  # to the first snapshot marker
        from crowd.serializer.interop.load import load_events

        first_snap = next(i for i, e in enumerate(load_events(recording).events) if e["type"] == "snapshot")
        term.wait_for(rf"frame {first_snap + 1}/{total}")
        assert "snapshot" in term.screen()
        term.keys("Home")
        term.wait_for(rf"frame 1/{total}")
        term.keys("PageDown")
        term.wait_for(rf"frame 101/{total}")
        term.keys("Right", "Right")
        term.wait_for(rf"frame 103/{total}")
        term.keys("+")
        term.wait_for(r"speed x2")
        term.keys("i")
        term.wait_for(r"idle-skip off")
        term.keys("i", "+", "+", "+", "+", "+", " ")  # idle skip on, x64, play
        term.wait_for(r"playing")
        m = term.wait_for(r"frame (\d{3,})/")
        term.wait_for(rf"frame (?!{m.group(1)}/)\d+/")   # it moves on its own while playing
        term.keys(" ")
        term.wait_for(r"paused")
        term.keys("q")
        term.wait_for(r"REPLAY-EXITED-0")
    finally:
        term.close()


def test_replay_shows_agent_diff_and_snapshot_marker(recording):
    from crowd.serializer.interop.load import load_events

    events = load_events(recording).events
    agent = next(i for i, e in enumerate(events) if e.get("source") == "agent" and e["kind"] == "edit")
    term = Tmux(CROWD + ["replay", str(recording)])
    try:
        term.wait_for(r"frame 1/")
        for _ in range(agent // 100):
            term.keys("PageDown")
        term.wait_for(rf"frame {agent // 100 * 100 + 1}/")
        for _ in range(agent - agent // 100 * 100 + 1):
            term.keys("Right")
        term.wait_for(rf"frame {agent + 2}/")
        screen = term.screen()
        assert "last agent change" in screen and "◆" in screen
        assert re.search(r"^\+", screen, re.M)  # the diff's added lines
    finally:
        term.close()


def test_plain_frames_for_pipes(recording):
    out = subprocess.run(CROWD + ["replay", str(recording), "--frames", "2"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("crowd replay  frame") == 2 and "\x1b[" not in out.stdout


def test_plain_frames_of_crowd_code_imports(capsys):
    from crowd.serializer.interop.load import load_events
    from crowd.serializer.replay.tui import run_tui

    fix = Path(__file__).resolve().parents[2] / "fixtures" / "interop"
    run_tui(load_events(fix / "cc2" / "crowd-code-5f0c2a1e-2025_06_02-14.03.11" / "source_part_001.tar.gz").events, frames=3)
    out = capsys.readouterr().out
    assert "second 🎉" in out  # a file 2.0 showed whole is known from that viewport
    assert "last agent change" in out and '+    """Say hi."""' in out
    run_tui(load_events(fix / "cc1" / "session.csv").events, frames=1)
    out = capsys.readouterr().out
    assert "main()" in out and "hi 😀" in out and "git_checkout" in out
