"""Stopping a session records every disk change made before the stop, and before the
``stop`` event: the watcher drains what the kernel already reported and the engine decides
what was still waiting for editor events, and only then does the session write ``stop``."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from crowd.format import read_recording
from tests.attribution.in_process import attribution_session


def test_external_write_immediately_before_stop_is_recorded_before_stop(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.txt").write_text("one\n")
    (root / "b.txt").write_text("two\n")
    session, _ = attribution_session(tmp_path, root)
    # another process writes, and the session is stopped the moment it has exited
    subprocess.run([sys.executable, "-c", "open('a.txt','w').write('ONE\\n'); open('new.txt','w').write('n\\n');"
                    "import os; os.rename('b.txt', 'c.txt')"], cwd=root, check=True)
    session.stop()
    events = read_recording(session.directory).events
    stop_seq = next(e["seq"] for e in events if e.get("type") == "session" and e.get("kind") == "stop")
    changes = {e["file"]: e for e in events if e.get("kind") == "file_change"}
    assert set(changes) == {"a.txt", "new.txt", "c.txt"}, changes
    assert all(c["seq"] < stop_seq for c in changes.values())
    assert events[-1]["kind"] == "stop"
    assert changes["a.txt"]["source"] == "external" and "+ONE" in changes["a.txt"]["diff"]
    assert changes["c.txt"]["change"] == "rename" and changes["c.txt"]["old_file"] == "b.txt"


def test_in_process_write_then_stop_at_once(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.txt").write_text("one\n")
    session, _ = attribution_session(tmp_path, root)
    (root / "a.txt").write_text("ONE\n")
    session.stop()
    events = read_recording(session.directory).events
    kinds = [e["kind"] for e in events]
    assert "file_change" in kinds, kinds
    assert kinds.index("file_change") < kinds.index("stop")
