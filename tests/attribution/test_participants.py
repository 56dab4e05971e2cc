"""The wait for a save participant's write (crowd.server.attribution.participants): the write
must hold exactly the buffer after the edit and be no later than the window after the edit's
stamp. Stamps in the past make each case decide at its first look at the file (no timing)."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from crowd.server.attribution.participants import WINDOW_MS, edit_wall_ms, written_with

TEXT = "x = 1\ny = 2\n"


def written_at(path: Path, text: str, wall_ms: float) -> None:
    path.write_text(text)
    os.utime(path, ns=(int(wall_ms * 1e6), int(wall_ms * 1e6)))


def test_a_write_within_the_window_holding_the_buffer_is_the_participants(tmp_path: Path) -> None:
    edit_ms = time.time() * 1000 - 1000
    written_at(tmp_path / "f.py", TEXT, edit_ms + 20.4)   # the envelope's max (envelopes.json)
    assert written_with(str(tmp_path / "f.py"), TEXT, edit_ms, threading.Event())


def test_a_save_50_ms_after_the_edit_is_not_a_participants_write(tmp_path: Path) -> None:
    """An inline agent's edit the user saves 50 ms later: same content, too late."""
    edit_ms = time.time() * 1000 - 1000
    written_at(tmp_path / "f.py", TEXT, edit_ms + 50 - 4)   # the mtime's coarse tick before the write
    assert WINDOW_MS < 46
    assert not written_with(str(tmp_path / "f.py"), TEXT, edit_ms, threading.Event())


def test_a_write_of_another_buffer_state_is_not_this_edits(tmp_path: Path) -> None:
    edit_ms = time.time() * 1000 - 1000
    written_at(tmp_path / "f.py", TEXT + "z = 3\n", edit_ms + 10)   # a further edit was saved with it
    assert not written_with(str(tmp_path / "f.py"), TEXT, edit_ms, threading.Event())
    assert not written_with(str(tmp_path / "gone.py"), "", edit_ms, threading.Event())


def test_the_wait_ends_at_the_window_or_at_stop(tmp_path: Path) -> None:
    (tmp_path / "f.py").write_text("old\n")
    stop = threading.Event()
    stop.set()
    assert not written_with(str(tmp_path / "f.py"), TEXT, time.time() * 1000, stop)
    start = time.monotonic()
    assert not written_with(str(tmp_path / "f.py"), TEXT, time.time() * 1000, threading.Event())
    assert time.monotonic() - start >= WINDOW_MS / 1000 - 0.005   # it waited for the window, no less


def test_the_edit_stamp_falls_back_to_arrival_when_implausible() -> None:
    now = time.time() * 1000
    assert edit_wall_ms({"time": now - 15}) == now - 15
    for bad in (now + 60_000, now - 60_000, "soon", True, None):
        assert abs(edit_wall_ms({"time": bad}) - now) < 1000
