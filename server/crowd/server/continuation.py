"""Continuing an editor window's session in a new sidecar process (issue 17 item 4).

Each sidecar process used to start a session of its own, so a window reload, a settings
change or a new browser tab split one working day into fragments (15 in 40 minutes of a
trial in code-server), and "Replay this session" showed only the last one. Now the bridge
keeps the id of its window's session (VS Code's workspaceState) and names it at
``initialize`` (``continueSession``); the new sidecar appends a new segment to that same
recording folder when

- the id is a session id (``YYYYMMDD-HHMMSS-hex``: it names a folder, so nothing else is
  accepted) started on the same local day (one session per editor window per day),
- its folder is in this sidecar's recordings folder and holds segments (a recording the
  user deleted, or a changed ``crowd.exportPath``, starts a new session), and
- no live writer holds the folder (another window of the same workspace, or the previous
  sidecar still closing): its ``flock`` is waited for up to ``LOCK_WAIT_S``, then a new
  session is started rather than two writers sharing one folder.

The continued recording goes on with the next ``seq`` and a ``t`` that counts the time in
between (``t`` of the last event plus the wall-clock gap), so every event of the folder keeps
one order and panic's time window (``t >= cutoff``) covers the earlier segments too; the
earlier segments are the same folder, so panic and ``crowd.panic``'s sweep find every part.
The new part starts with ``session``/``resume`` (``continued: true``, with the client,
folders and settings a ``start`` carries) and ``consent``.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crowd.format.reader import iter_recording
from crowd.format.writer import RecordingWriter, list_segments

log = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^(\d{8})-\d{6}-[0-9a-f]{6}$")
LOCK_WAIT_S = 3.0       # the previous sidecar of a reloaded window closes its writer within this
LOCK_POLL_S = 0.05      # flock has no event to await across processes: it is tried again


@dataclass(frozen=True)
class Continuation:
    """Where a continued session goes on: its folder and its last event's stamps."""

    session_id: str
    directory: Path
    last_seq: int
    last_t: int       # microseconds
    last_wall: int    # epoch milliseconds

    def t0_ns(self, now_mono_ns: int, now_wall_ms: int) -> int:
        """The monotonic origin that makes the next ``t`` follow the last one by the wall gap."""
        gap_us = max(0, now_wall_ms - self.last_wall) * 1000
        return now_mono_ns - (self.last_t + gap_us) * 1000


def find_continuation(recordings_dir: Path, session_id: object, *, today: str | None = None) -> Continuation | None:
    """The session ``session_id`` of ``recordings_dir`` when it may be continued (module
    docstring), else None (the reason is logged)."""
    if not isinstance(session_id, str):
        return None
    match = SESSION_ID.match(session_id)
    if match is None:
        log.warning("not continuing session %r: not a session id", session_id[:80])
        return None
    if match.group(1) != (today or time.strftime("%Y%m%d")):
        log.info("not continuing session %s: it started on another day", session_id)
        return None
    directory = Path(recordings_dir) / session_id
    segments = list_segments(directory) if directory.is_dir() else []
    for segment in reversed(segments):
        last = None
        for event in iter_recording(segment):
            last = event
        if last is not None and isinstance(last.get("seq"), int):
            return Continuation(session_id, directory, last["seq"], int(last.get("t", 0)), int(last.get("wall", 0)))
    log.info("not continuing session %s: no recording of it in %s", session_id, recordings_dir)
    return None


def open_continued_writer(make_writer: Callable[[], RecordingWriter], *, wait_s: float = LOCK_WAIT_S
                          ) -> RecordingWriter | None:
    """A writer that holds the continued folder alone, or None when another live writer
    kept it for ``wait_s`` (that writer's recording must not be written into)."""
    deadline = time.monotonic() + wait_s
    while True:
        writer = make_writer()
        if writer.owns_folder:
            return writer
        writer.close()
        if time.monotonic() >= deadline:
            return None
        time.sleep(LOCK_POLL_S)


__all__ = ["Continuation", "LOCK_WAIT_S", "SESSION_ID", "find_continuation", "open_continued_writer"]
