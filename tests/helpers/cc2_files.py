"""Write crowd-code 2.0 sessions the way the 2.0 extension does (for interop, replay, dataset tests).

``crowd-code-<sessionId>-<local time with milliseconds>/temp/chunk_000.json``; an action is
followed by the observation of the state after it; the viewport ``content`` is lines
``startLine..endLine`` of the file (1-based); the terminal viewport is the last 20 raw lines.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

T0 = 1_748_872_991_000


class Session:
    """Writes a 2.0 session event by event (sequence and timestamps as 2.0 numbers them)."""

    def __init__(self, session_id: str = "0b7d6a1c-3f2e-4d1a-9c8b-7a6e5d4c3b2a") -> None:
        self.session_id = session_id
        self.events: list[dict[str, Any]] = []

    def _add(self, type_: str, **body: Any) -> None:
        n = len(self.events) + 1
        self.events.append({"sequence": n, "timestamp": T0 + 100 * n, "type": type_, **body})

    def action(self, kind: str, **body: Any) -> None:
        self._add("action", action={"kind": kind, "source": body.pop("source", "user"), **body})

    def observe(self, file: str | None, text: str = "", start: int = 1, end: int | None = None,
                cursor: tuple[int, int] = (0, 0), terminal: list[str] | None = None) -> None:
        """An observation: ``text`` is the whole file, lines start..end (1-based) are visible."""
        viewport = None
        if file is not None:
            lines = text.split("\n")
            end = end or len(lines)
            viewport = {"file": file, "startLine": start, "endLine": end,
                        "content": "\n".join(lines[start - 1:end]),
                        "cursorPosition": {"line": cursor[0], "character": cursor[1]}}
        term = None if terminal is None else {"id": "terminal-1", "name": "zsh", "viewport": terminal[-20:]}
        self._add("observation", observation={"viewport": viewport, "activeTerminal": term})

    def write(self, root: Path, stamp: str = "2025_06_02-14.03.11.512") -> Path:
        folder = root / f"crowd-code-{self.session_id}-{stamp}"
        (folder / "temp").mkdir(parents=True)
        doc = {"version": "2.0", "sessionId": self.session_id, "startTime": T0, "chunkIndex": 0,
               "events": self.events}
        (folder / "temp" / "chunk_000.json").write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
        return folder
