"""Save participants whose edit reaches us before the save's own write.

A save participant (trim trailing whitespace, format on save, code actions on save) changes
the buffer, then the editor writes it. Measured in code-server 4.100.3 (tests/attribution/
envelopes.json, ``save_participant_edit_before_write``): the participant's edit reaches the
sidecar from 37.5 ms after to 20.4 ms before the save's write (2 of 9 samples before). After
the write, the engine finds the buffer equal to the disk on a dirty buffer: the user's. Before
it, nothing explains the edit yet (the workbench runs these participants before the extension
host's will-save, so the bridge cannot bracket them) and, with typing signals on, it would be
an inline agent's.

So such an edit (unexplained, on a dirty buffer, about to be called ``agent``) waits for the
evidence: the file written, holding exactly the buffer after this edit, no later than
``WINDOW_MS`` after the edit was stamped. What tells it from an inline agent's edit followed
by the user's Ctrl+S is the gap to the write: a participant's write follows its edit by at
most 20.4 ms; a user's save follows an agent's edit by a human reaction (the scenario suite
plays 50-300 ms), and must hold no other edit in between (the content test).

The wait polls the file's stat every ``POLL_S``: the write is another process's (the editor's)
and the watcher's own report of it comes after its batch settles, later than the window.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any

from crowd.server.attribution.diffs import as_text
from crowd.server.watch.content import read_content

PARTICIPANT_LEAD_MS = 20.4   # the latest participant edit before its write (envelopes.json max)
STAMP_MARGIN_MS = 10.0       # the bridge's stamp vs the sidecar's receipt (the envelope is at receipt)
LATE_WRITE_MS = 10.0         # the editor's write delayed by load after its participants ran
# 40.4 ms: still below the 46 ms (50 ms less the mtime's 4 ms coarse tick) at which the
# quickest save after an inline agent's edit that the scenario suite plays is written
WINDOW_MS = PARTICIPANT_LEAD_MS + STAMP_MARGIN_MS + LATE_WRITE_MS
POLL_S = 0.002               # between looks at the file while waiting (the wait is 40 ms at most)
MAX_STAMP_AGE_MS = 10_000.0  # a stamp older than this (or in the future): a clock problem, use arrival


def edit_wall_ms(event: dict[str, Any]) -> float:
    """When the edit was made (the bridge's ``time``, epoch ms), else now."""
    now = time.time() * 1000
    stamped = event.get("time")
    if isinstance(stamped, (int, float)) and not isinstance(stamped, bool) \
            and 0 <= now - float(stamped) < MAX_STAMP_AGE_MS:
        return float(stamped)
    return now


def written_with(abs_path: str, text: str, edit_ms: float, stop: threading.Event) -> bool:
    """Wait until ``edit_ms + WINDOW_MS`` (wall clock) at the most for ``abs_path`` to hold
    exactly ``text``, written (its mtime) no later than that. Returns at once when it does,
    or when ``stop`` is set (False)."""
    deadline_ms = edit_ms + WINDOW_MS
    seen: tuple[int, int, int] | None = None
    while True:
        try:
            st = os.stat(abs_path)
        except OSError:
            st = None
        late = time.time() * 1000 >= deadline_ms
        if st is not None:
            key = (st.st_mtime_ns, st.st_size, st.st_ino)
            if (key != seen or late) and st.st_mtime_ns / 1e6 <= deadline_ms:
                seen = key
                content = read_content(abs_path)
                if content is not None and as_text(content) == text:
                    return True
        if late:
            return False
        remaining_s = (deadline_ms - time.time() * 1000) / 1000
        if stop.wait(max(0.0, min(POLL_S, remaining_s))):
            return False
