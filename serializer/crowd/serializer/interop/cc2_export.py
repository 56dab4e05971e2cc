"""Export a crowd recording to crowd-code 2.0's on-disk layout.

What crowd-code 2.0 can hold survives: edits (one event per change, in the descending-offset
order our multi-change edits apply in), the primary selection as line/character positions,
tab switches, terminal focus and commands, file changes (a rename becomes delete + create),
workspace snapshots with their file contents, and one observation (active editor viewport +
active terminal's last 20 lines) per run of our observations. What it cannot hold is dropped:
every non-active editor, full file contents, terminal keystrokes/resizes, agent names,
command exit codes, session control events. ``external`` becomes ``unknown``.

The export streams: events are converted as they are read, chunks are written as their
5-minute window closes, so a 10-hour recording never sits in memory as JSON.
"""
from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crowd.serializer.interop.cc2_layout import (CC2_VERSION, CHUNK_SECONDS, UPLOAD_SECONDS, chunk_name,
                                                 folder_name, part_name, snapshot_name)
from crowd.serializer.replay.patch import unified_diff
from crowd.serializer.replay.state import ReplayState
from crowd.serializer.bulk import bulk

_TERMINAL_ID = re.compile(r"^terminal-\d+$")
SnapshotLoader = Callable[[str], "dict[str, str] | None"]


@dataclass
class Cc2Export:
    folder: Path
    chunks: list[Path] = field(default_factory=list)
    snapshots: list[Path] = field(default_factory=list)
    parts: list[Path] = field(default_factory=list)
    events: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def json_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.chunks)

    def tar_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.parts)


class Cc2Converter:
    """Turns our events into crowd-code 2.0 events, one call per event (see ``convert``)."""

    def __init__(self, snapshot_loader: SnapshotLoader | None = None) -> None:
        self.state = ReplayState()
        self.snapshot_loader = snapshot_loader
        self.seq = 0
        self.session_id: str | None = None
        self.start_ms: int | None = None
        self.terminal_ids: dict[str, str] = {}
        self.raw_terminal: dict[str | None, list[str]] = {}  # 2.0's raw lines of imported screens
        self.folder_time: str | None = None  # the time in the name of the 2.0 folder imported
        self.pending_obs = False
        self.snapshot_count = 0
        self.snapshots: dict[str, dict[str, str]] = {}   # cc2 name -> {path: content}
        self._open_snapshot: tuple[str, str] | None = None  # (our id, cc2 name)
        self._fill_from_state = False   # the open snapshot has no contents of its own yet
        self._last: dict[str, Any] = {}  # the last observation of the current run
        self.dropped: dict[str, int] = {}

    # -- helpers -------------------------------------------------------------------------------
    def _tid(self, ours: str | None) -> str:
        if ours is None:
            ours = "?"
        if ours not in self.terminal_ids:
            self.terminal_ids[ours] = ours if _TERMINAL_ID.match(ours) else f"terminal-{len(self.terminal_ids) + 1}"
        return self.terminal_ids[ours]

    def _term_name(self, ours: str | None) -> str:
        term = self.state.terminals.get(ours)
        return (term.name or term.title) if term else ""

    def _event(self, ev: dict[str, Any], type_: str, **body: Any) -> dict[str, Any]:
        self.seq += 1
        out = {"sequence": self.seq, "timestamp": ev.get("wall", 0), "type": type_}
        out.update(body)
        return out

    def _action(self, ev: dict[str, Any], kind: str, **body: Any) -> dict[str, Any]:
        source = ev.get("source") or "unknown"
        if source == "external":
            source = "unknown"
        return self._event(ev, "action", action={"kind": kind, "source": source, **body})

    def _observation(self, ev: dict[str, Any]) -> dict[str, Any]:
        st = self.state
        viewport = None
        editor = next((e for e in st.editors if e.get("active")), st.editors[0] if st.editors else None)
        if editor is not None:
            ranges = editor.get("visible_ranges") or [[editor.get("first_line", 0)] * 2]
            cursor = editor.get("cursor")
            if cursor is None:
                sels = editor.get("selections") or []
                doc = st.files.get(editor["file"])
                if sels and doc is not None:
                    cursor = doc.position(sels[0]["active"])
                else:
                    cursor = (ranges[0][0], 0)
            viewport = {"file": editor["file"], "startLine": ranges[0][0] + 1, "endLine": ranges[-1][1] + 1,
                        "content": editor.get("text", ""),
                        "cursorPosition": {"line": cursor[0], "character": cursor[1]}}
        terminal = None
        tid = st.active_terminal
        term = st.terminals.get(tid) if tid else None
        if term is not None and term.lines:
            row = term.cursor[0] if term.cursor else len(term.lines) - 1
            lines = term.lines[:row + 1] if 0 <= row < len(term.lines) else term.lines
            terminal = {"id": self._tid(tid), "name": term.name or term.title,
                        "viewport": self.raw_terminal.get(tid, lines[-20:])}
        elif term is not None and tid in self.raw_terminal:
            terminal = {"id": self._tid(tid), "name": term.name or term.title, "viewport": self.raw_terminal[tid]}
        return self._event(ev, "observation", observation={"viewport": viewport, "activeTerminal": terminal})

    # -- conversion ------------------------------------------------------------------------------
    def convert(self, ev: dict[str, Any]) -> list[dict[str, Any]]:
        """cc2 events for ``ev``; an observation run is closed by the next non-observation."""
        out: list[dict[str, Any]] = []
        etype, kind = ev.get("type"), ev.get("kind")
        if kind == "file_content" and ev.get("base") == "viewport":
            self.state.apply(ev)  # an import's own inference from a 2.0 viewport: nothing of 2.0's
            return out
        is_obs = etype == "observation" and kind in ("viewport", "terminal_screen")
        if kind == "terminal_screen":  # an import keeps 2.0's raw lines: re-export those
            if isinstance(ev.get("cc2_viewport"), list):
                self.raw_terminal[ev.get("terminal")] = ev["cc2_viewport"]
            else:
                self.raw_terminal.pop(ev.get("terminal"), None)
        if self.pending_obs and not is_obs and not self._is_snapshot_content(ev):
            out.append(self._observation(self._last))
            self.pending_obs = False
        if etype == "session" and kind == "start":
            self.session_id = ev.get("cc2_session_id") or ev.get("session_id")  # an import's own 2.0 id
            self.start_ms = ev.get("wall")
            self.folder_time = ev.get("cc2_folder_time")
        elif etype == "action":
            out.extend(self._convert_action(ev))
        elif is_obs:
            self.pending_obs = True
            self._last = ev
        elif etype == "snapshot":
            self.snapshot_count += 1
            name = snapshot_name(self.snapshot_count)
            self._open_snapshot = (ev.get("snapshot_id"), name)
            files = self.snapshot_loader(ev.get("snapshot_id")) if self.snapshot_loader else None
            # without a store: filled by the following snapshot file_content events, else from our buffers
            self._fill_from_state = files is None
            files = files or {}
            self.snapshots[name] = files
            out.append(self._event(ev, "workspace_snapshot", snapshotId=name))
        elif self._is_snapshot_content(ev):
            self.snapshots[self._open_snapshot[1]][ev["file"]] = ev.get("text") or ""
            self._fill_from_state = False
            return out  # a snapshot's content, not a change of what the editor shows
        else:
            self.dropped[f"{etype}/{kind}"] = self.dropped.get(f"{etype}/{kind}", 0) + 1
        if etype != "snapshot" and self._open_snapshot is not None:
            self._close_snapshot()
        self.state.apply(ev)
        return out

    def _is_snapshot_content(self, ev: dict[str, Any]) -> bool:
        return (ev.get("kind") == "file_content" and self._open_snapshot is not None
                and ev.get("snapshot") == self._open_snapshot[0])

    def _close_snapshot(self) -> None:
        _, name = self._open_snapshot
        if self._fill_from_state and not self.snapshots[name]:
            self.snapshots[name] = {p: d.text for p, d in sorted(self.state.files.items()) if d.complete}
        self._open_snapshot = None

    def finish(self) -> list[dict[str, Any]]:
        out = []
        if self.pending_obs:
            out.append(self._observation(self._last))
            self.pending_obs = False
        if self._open_snapshot is not None:
            self._close_snapshot()
        return out

    def _convert_action(self, ev: dict[str, Any]) -> list[dict[str, Any]]:
        kind = ev["kind"]
        st = self.state
        if kind == "edit":
            out = []
            for ch in sorted(ev.get("changes") or [], key=lambda c: c["offset"], reverse=True):
                body: dict[str, Any] = {"file": ev["file"], "diff": {"rangeOffset": ch["offset"],
                                                                     "rangeLength": ch["length"], "text": ch["text"]}}
                if ev.get("reason"):
                    body["reason"] = ev["reason"]
                out.append(self._action(ev, "edit", **body))
            return out
        if kind == "selection":
            extra = ev.get("cc2")
            if extra:
                return [self._action(ev, "selection", file=ev["file"], **extra)]
            sels = ev.get("selections") or []
            if not sels:
                return []
            a, b = sorted((sels[0]["anchor"], sels[0]["active"]))
            doc = st.doc(ev["file"])
            sl, sc = doc.position(a)
            el, ec = doc.position(b)
            text = doc.text[doc.to_index(a):doc.to_index(b)] if doc.complete else ""
            return [self._action(ev, "selection", file=ev["file"], selectionStart={"line": sl, "character": sc},
                                 selectionEnd={"line": el, "character": ec}, selectedText=text)]
        if kind == "tab_switch":
            return [self._action(ev, "tab_switch", file=ev.get("file"), previousFile=ev.get("previous_file"))]
        if kind == "terminal_focus":
            name = ev.get("name") or self._term_name(ev.get("terminal"))
            return [self._action(ev, "terminal_focus", terminalId=self._tid(ev.get("terminal")), terminalName=name)]
        if kind == "terminal_command":
            name = ev.get("name") or self._term_name(ev.get("terminal"))
            return [self._action(ev, "terminal_command", terminalId=self._tid(ev.get("terminal")),
                                 terminalName=name, command=ev.get("command") or "")]
        if kind == "file_change":
            change = ev.get("change")
            if change == "rename":
                old = ev.get("old_file")
                doc = st.files.get(old)
                diff = unified_diff("", doc.text, ev["file"]) if doc is not None and doc.complete else None
                return [self._action(ev, "file_change", file=old, changeType="delete", diff=None),
                        self._action(ev, "file_change", file=ev["file"], changeType="create", diff=diff)]
            return [self._action(ev, "file_change", file=ev.get("file"), changeType=change, diff=ev.get("diff"))]
        self.dropped[f"action/{kind}"] = self.dropped.get(f"action/{kind}", 0) + 1
        return []


@bulk
def to_cc2_events(events: Iterable[dict[str, Any]],
                  snapshot_loader: SnapshotLoader | None = None) -> tuple[list[dict[str, Any]], Cc2Converter]:
    """All cc2 events of a recording, in memory (tests and small recordings)."""
    conv = Cc2Converter(snapshot_loader)
    out: list[dict[str, Any]] = []
    for ev in events:
        out.extend(conv.convert(ev))
    out.extend(conv.finish())
    return out, conv


def _chunks(cc2_events: Iterator[dict[str, Any]], start_ms: Callable[[], int]) -> Iterator[list[dict[str, Any]]]:
    """Group by 5-minute window since the start, like crowd-code 2.0's flush timer."""
    current: list[dict[str, Any]] = []
    window = None
    for ev in cc2_events:
        w = max(0, ev["timestamp"] - start_ms()) // (CHUNK_SECONDS * 1000)
        if window is not None and w != window and current:
            yield current
            current = []
        window = w
        current.append(ev)
    if current:
        yield current


@bulk
def export_cc2(events: Iterable[dict[str, Any]], out_dir: Path | str, *,
               snapshot_loader: SnapshotLoader | None = None, tarballs: bool = True) -> Cc2Export:
    """Write ``events`` (ours) under ``out_dir`` in crowd-code 2.0's layout; returns what was written."""
    out_dir = Path(out_dir)
    conv = Cc2Converter(snapshot_loader)
    stream = _stream(conv, events)
    first = next(stream, None)
    session_id = conv.session_id or "unknown-session"
    start_ms = conv.start_ms if conv.start_ms is not None else (first["timestamp"] if first else 0)
    folder = out_dir / folder_name(session_id, start_ms, conv.folder_time)
    temp = folder / "temp"
    (temp / "snapshots").mkdir(parents=True, exist_ok=True)
    result = Cc2Export(folder)

    def gen() -> Iterator[dict[str, Any]]:
        if first is not None:
            yield first
        yield from stream

    written_snapshots: set[str] = set()
    part_members: list[tuple[int, Path, str]] = []  # (upload window, file, arcname)
    for index, chunk in enumerate(_chunks(gen(), lambda: start_ms)):
        path = temp / chunk_name(index)
        doc = {"version": CC2_VERSION, "sessionId": session_id, "startTime": start_ms,
               "chunkIndex": index, "events": chunk}
        path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        result.chunks.append(path)
        result.events += len(chunk)
        window = max(0, chunk[0]["timestamp"] - start_ms) // (UPLOAD_SECONDS * 1000)
        part_members.append((window, path, path.name))
        for ev in chunk:
            name = ev.get("snapshotId")
            if ev["type"] == "workspace_snapshot" and name not in written_snapshots:
                snap = temp / "snapshots" / f"{name}.json"
                snap.write_text(json.dumps(conv.snapshots.get(name, {}), ensure_ascii=False, separators=(",", ":")),
                                encoding="utf-8")
                written_snapshots.add(name)
                result.snapshots.append(snap)
                part_members.append((window, snap, f"snapshots/{snap.name}"))
    if tarballs:
        result.parts = _write_parts(folder, part_members)
    result.dropped = conv.dropped
    return result


def _stream(conv: Cc2Converter, events: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for ev in events:
        yield from conv.convert(ev)
    yield from conv.finish()


def _write_parts(folder: Path, members: list[tuple[int, Path, str]]) -> list[Path]:
    parts: list[Path] = []
    windows = sorted({w for w, _, _ in members})
    for number, window in enumerate(windows, start=1):
        path = folder / part_name(number)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=6) as tar:
            for w, file, arcname in members:
                if w != window:
                    continue
                data = file.read_bytes()
                info = tarfile.TarInfo(arcname)
                info.size = len(data)
                info.mtime = 0
                info.mode = 0o600
                tar.addfile(info, io.BytesIO(data))
        path.write_bytes(buf.getvalue())
        parts.append(path)
    return parts
