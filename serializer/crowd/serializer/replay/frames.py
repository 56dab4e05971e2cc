"""A frame: what a replay view shows after event i, computed from the replay state.

The terminal UI renders frames; ``Player`` owns the position in the recording and moves it
(step, seek, play with speed and idle skip). Seeking backwards replays from the nearest
checkpoint, so even a 10-hour recording seeks in a fraction of a second.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from crowd.serializer.replay.state import ReplayState, Step

SOURCE_COLORS = {"user": "green", "agent": "magenta", "git": "yellow", "git_checkout": "yellow",
                 "external": "cyan", "unknown": "red", None: "white"}
CHECKPOINT_EVERY = 2000
IDLE_GAP_US = 5 * 1_000_000   # gaps longer than this are skipped when idle skip is on


@dataclass
class EditorView:
    file: str | None
    first_line: int
    lines: list[str]
    cursors: list[tuple[int, int]]          # (line, column), 0-based
    known: bool                              # False: text from the viewport only (imports)


@dataclass
class Frame:
    index: int
    total: int
    t: int
    wall: int
    editor: EditorView
    terminal_name: str
    terminal_lines: list[str]
    log: list[Step]
    diff: Step | None
    snapshots: list[int] = field(default_factory=list)


class Player:
    def __init__(self, events: list[dict[str, Any]], log_size: int = 8) -> None:
        self.events = events
        self.log_size = log_size
        self.state = ReplayState(diffs=True)
        self.log: list[Step] = []
        self.last_diff: Step | None = None
        self.checkpoints: dict[int, tuple[ReplayState, list[Step], Step | None]] = {}
        self.snapshot_indices = [i for i, e in enumerate(events) if e.get("type") == "snapshot"]
        self.position = -1

    def _apply_next(self) -> None:
        step = self.state.apply(self.events[self.position + 1])
        self.position += 1
        if step.event.get("type") in ("action", "snapshot") or step.event.get("kind") == "file_content":
            self.log.append(step)
            del self.log[:-self.log_size]
        if step.diff and step.source != "user":
            self.last_diff = step
        if self.position % CHECKPOINT_EVERY == 0 and self.position not in self.checkpoints:
            self.checkpoints[self.position] = (copy.deepcopy(self.state), list(self.log), self.last_diff)

    def seek(self, index: int) -> None:
        index = max(-1, min(index, len(self.events) - 1))
        if index < self.position:
            base = max((c for c in self.checkpoints if c <= index), default=None)
            if base is None:
                self.state, self.log, self.last_diff, self.position = ReplayState(diffs=True), [], None, -1
            else:
                st, log, diff = self.checkpoints[base]
                self.state, self.log, self.last_diff, self.position = copy.deepcopy(st), list(log), diff, base
        while self.position < index:
            self._apply_next()

    def step(self, delta: int = 1) -> None:
        self.seek(self.position + delta)

    def next_delay(self, speed: float, idle_skip: bool) -> float:
        """Seconds to wait before the next event at ``speed``; idle gaps shrink to 0.5 s."""
        if self.position + 1 >= len(self.events):
            return 0.0
        t0 = self.events[self.position]["t"] if self.position >= 0 else self.events[0].get("t", 0)
        gap = max(0, self.events[self.position + 1].get("t", t0) - t0)
        if idle_skip and gap > IDLE_GAP_US:
            return 0.5
        return gap / 1e6 / max(speed, 0.01)

    def frame(self, rows: int = 30) -> Frame:
        st = self.state
        ed = next((e for e in st.editors if e.get("active")), st.editors[0] if st.editors else None)
        path = ed["file"] if ed else st.active_file
        doc = st.files.get(path) if path else None
        if ed is not None and ed.get("visible_ranges"):
            first = ed["visible_ranges"][0][0]
        else:
            first = 0
        cursors: list[tuple[int, int]] = []
        if doc is not None and (doc.complete or path in st.changed_since_view or ed is None):
            # the file as it is now: known in full, or changed (by an agent, git, the disk)
            # after the editor last showed it, or shown without any viewport (1.0 imports)
            lines = doc.lines()[first:first + max(rows, 200)]
            for sel in st.selections.get(path, []):
                cursors.append(doc.position(sel["active"]))
            known = True  # the buffer's text, not the viewport's (complete or not)
        else:
            lines = (ed.get("text", "") if ed else "").split("\n")[:rows]
            if ed is not None and ed.get("cursor"):
                cursors.append(tuple(ed["cursor"]))
            known = False
        term = st.terminals.get(st.active_terminal) if st.active_terminal else None
        if term is None and st.terminals:
            term = sorted(st.terminals.values(), key=lambda x: x.id)[0]
        tlines = [x.rstrip() for x in term.lines] if term else []
        while tlines and not tlines[-1]:
            tlines.pop()
        return Frame(self.position, len(self.events), st.t, st.wall,
                     EditorView(path, first, lines, cursors, known),
                     (term.name or term.title or term.id) if term else "", tlines,
                     list(self.log), self.last_diff, self.snapshot_indices)
