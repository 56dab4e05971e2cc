"""`crowd demo` (the README's main job) runs end to end and records what it says it did."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from crowd.format import read_recording
from crowd.format.schema import validate_event


def test_crowd_demo(tmp_path: Path) -> None:
    out = tmp_path / "recs"
    proc = subprocess.run([sys.executable, "-m", "crowd.cli", "demo", "--out", str(out), "--panic"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CROWD_HOME": str(tmp_path / "home")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "read back without problems" in proc.stdout
    recordings = list(out.iterdir())
    assert len(recordings) == 1
    events = read_recording(recordings[0]).events
    for event in events:
        validate_event(event)
    kinds = {e["kind"] for e in events}
    assert {"start", "consent", "open", "file_content", "edit", "selection", "viewport", "tab_switch", "save",
            "file_change", "panic", "stop"} <= kinds
    typed = "".join(c["text"] for e in events if e["kind"] == "edit" for c in e["changes"])
    assert "def count(items)" in typed and "hunter2" not in typed   # the panic removed the last stretch
    assert str(tmp_path) not in repr(events)
