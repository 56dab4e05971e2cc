"""Agent prompts read from a real terminal recording: tmux types into a PTY recorded by the
terminal recorder (``crowd term``) that runs a Claude-Code-like TUI (fixtures/dataset/mini_agent.py,
a stand-in because no real agent runs offline)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from crowd.serializer.dataset.signals import find_markers
from crowd.serializer.dataset.trajectories import convert_trajectories
from crowd.format import iter_recording
from crowd.serializer.interop.load import load_events
from tests.helpers.waiting import wait_for

AGENT = Path(__file__).resolve().parents[2] / "fixtures" / "dataset" / "mini_agent.py"


def test_prompt_typed_into_an_agent_tui_becomes_the_episode_goal(tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (scripts/setup.sh installs it)")
    ws = tmp_path / "ws"
    ws.mkdir()
    recs = tmp_path / "recs"
    sock, name = f"crowd-ds-{uuid.uuid4().hex[:8]}", "agent"
    crowd = f"{sys.executable} -m crowd.cli"
    cmd = (f"cd {ws} && {crowd} term --no-sidecar --recordings {recs} --name claude-like -- "
           f"{sys.executable} {AGENT}; echo TERM-DONE; sleep 600")
    subprocess.run(["tmux", "-L", sock, "new-session", "-d", "-s", name, "-x", "100", "-y", "30", cmd], check=True)
    try:
        screen = lambda: subprocess.run(["tmux", "-L", sock, "capture-pane", "-p", "-t", name],  # noqa: E731
                                        capture_output=True, text=True).stdout
        wait_for(lambda: "│ >" in screen(), 60, "the agent's input box")
        prompt = "add a docstring to parse 😀"
        subprocess.run(["tmux", "-L", sock, "send-keys", "-t", name, "-l", prompt], check=True)

        def recorded_screen_shows_prompt() -> bool:
            folders = [p for p in recs.iterdir() if any(p.glob("seg-*.crowd"))] if recs.exists() else []
            return bool(folders) and any(prompt in "\n".join(e.get("lines") or []) for e in iter_recording(folders[0])
                                         if e.get("kind") == "terminal_screen")

        wait_for(recorded_screen_shows_prompt, 60, "a recorded screen with the typed prompt")
        subprocess.run(["tmux", "-L", sock, "send-keys", "-t", name, "Enter"], check=True)
        wait_for(lambda: "TERM-DONE" in screen(), 60, "the agent to finish")
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
    assert (ws / "notes.txt").read_text(encoding="utf-8") == f"agent did: {prompt}\n"
    rec = next(p for p in recs.iterdir() if p.is_dir())
    events = load_events(rec).events
    markers = [m for m in find_markers(events) if m.kind == "prompt"]
    assert [(m.text, m.source) for m in markers] == [(prompt, "terminal_screen")]
    rows = convert_trajectories(events, "term")
    assert rows[-1]["goal"] == prompt and rows[-1]["goal_source"] == "agent_prompt"
