"""``crowd term`` recording on its own (``--no-sidecar``) in a real PTY, and its recording read
back and schema-checked: the start and the read-back that the recorder, asciicast and
fidelity tests share."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from crowd.format import read_recording
from crowd.format.schema import validate_event
from tests.terminal.term_oracle import PtyProgram

CROWD = [sys.executable, "-m", "crowd.cli"]


def crowd_term(tmp_path: Path, *cmd: str, rows: int = 24, cols: int = 80, env: dict | None = None) -> tuple[PtyProgram, Path]:
    """``crowd term`` (running ``cmd``, default the user's shell) recording under ``tmp_path``;
    returns the program and the file where it announces its recording folder."""
    announce = tmp_path / "announce.txt"
    full_env = {"CROWD_HOME": str(tmp_path / "home"), "SHELL": "/bin/bash", "HOME": str(tmp_path),
                "PYTHONPATH": os.environ.get("PYTHONPATH", ""), **(env or {})}
    argv = [*CROWD, "term", "--no-sidecar", "--recordings", str(tmp_path / "rec"),
            "--workspace", str(tmp_path), "--announce", str(announce)]
    if cmd:
        argv += ["--", *cmd]
    return PtyProgram(argv, rows, cols, env=full_env, cwd=str(tmp_path)), announce


def events_of(announce: Path) -> list[dict]:
    """The announced recording's events, every one valid against the schema."""
    result = read_recording(Path(announce.read_text()))
    assert not result.problems, result.problems
    for event in result.events:
        validate_event(event)
    return result.events
