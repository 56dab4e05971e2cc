"""The replay state machine: events in, the world as the recorded person saw it out.

``ReplayState.apply(event)`` updates editor buffers (one ``Document`` per file), all
cursors, the visible editors, terminal screens and who acted last, and returns a ``Step``
describing what changed, which is what the terminal UI, the HTML player, the exporters and
the dataset converters all consume. Nothing here renders or writes: one state machine,
many views.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crowd.serializer.replay.patch import PatchError, apply_unified_diff, reverse_diff, unified_diff
from crowd.text.document import Document
from crowd.text.lines import split_lines


@dataclass
class TerminalView:
    """The last screen a terminal showed, plus the commands run in it."""
    id: str
    name: str = ""
    rows: int = 0
    cols: int = 0
    lines: list[str] = field(default_factory=list)
    cursor: tuple[int, int] = (0, 0)
    title: str = ""
    focused: bool = False
    alt_screen: bool = False
    open: bool = True
    commands: list[str] = field(default_factory=list)


@dataclass
class Step:
    """What one event did: the row of the action log and, for changes, the diff."""
    index: int
    event: dict[str, Any]
    source: str | None
    summary: str
    file: str | None = None
    diff: str | None = None


@dataclass
class Snapshot:
    index: int
    snapshot_id: str
    t: int


class ReplayState:
    """Applies events in order; ``diffs=True`` also computes diffs of non-user changes."""

    def __init__(self, diffs: bool = False) -> None:
        self.diffs = diffs
        self.files: dict[str, Document] = {}
        self.selections: dict[str, list[dict[str, int]]] = {}
        self.editors: list[dict[str, Any]] = []
        self.active_file: str | None = None
        self.terminals: dict[str, TerminalView] = {}
        self.active_terminal: str | None = None
        self.open_docs: set[str] = set()
        self.tracks_open = False   # the recording reports open/close (our sidecar does)
        self.snapshots: list[Snapshot] = []
        # files changed by something other than the user's typing since their last viewport:
        # the viewport's text is stale for them, the buffer is what the file is now
        self.changed_since_view: set[str] = set()
        self.problems: list[str] = []
        self.session_id: str | None = None
        self.session_start: dict[str, Any] | None = None
        self.last_source: str | None = None
        self.source_counts: dict[str, int] = {}
        self.index = -1
        self.t = 0
        self.wall = 0
        self.paused = False

    # -- queries -----------------------------------------------------------------------------
    def doc(self, path: str) -> Document:
        doc = self.files.get(path)
        if doc is None:
            doc = self.files[path] = Document("", complete=False)
        return doc

    def visible_text(self, editor: dict[str, Any]) -> str | None:
        """The text our buffer shows in an observed editor's visible ranges (None if unknown)."""
        doc = self.files.get(editor.get("file"))
        if doc is None or not doc.complete:
            return None
        lines = doc.lines()
        out: list[str] = []
        for start, end in editor.get("visible_ranges") or []:
            out.extend(lines[start:end + 1])
        return "\n".join(out)

    def terminal(self, tid: str) -> TerminalView:
        term = self.terminals.get(tid)
        if term is None:
            term = self.terminals[tid] = TerminalView(tid)
        return term

    # -- the machine -------------------------------------------------------------------------
    def apply(self, event: dict[str, Any]) -> Step:
        self.index += 1
        self.t = event.get("t", self.t)
        self.wall = event.get("wall", self.wall)
        etype, kind = event.get("type"), event.get("kind")
        handler = _HANDLERS.get((etype, kind)) or _HANDLERS.get((etype, "*"))
        source = event.get("source")
        if etype == "action" and source:
            self.last_source = source
            self.source_counts[source] = self.source_counts.get(source, 0) + 1
        if handler is None:
            return Step(self.index, event, source, f"{etype}/{kind}")
        return handler(self, event)


def _step(state: ReplayState, event: dict[str, Any], summary: str, **kw: Any) -> Step:
    return Step(state.index, event, event.get("source"), summary, **kw)


def _session(state: ReplayState, ev: dict[str, Any]) -> Step:
    kind = ev["kind"]
    if kind == "start":
        state.session_id = ev.get("session_id")
        state.session_start = ev
    elif kind == "pause":
        state.paused = True
    elif kind == "resume":
        state.paused = False
    return _step(state, ev, f"session {kind}")


def _edit(state: ReplayState, ev: dict[str, Any]) -> Step:
    path = ev.get("file")
    doc = state.doc(path)
    before = doc.text if state.diffs and ev.get("source") != "user" else None
    changes = ev.get("changes") or []
    length = doc.length16()
    if doc.complete:
        for ch in changes:
            if ch["offset"] < 0 or ch["offset"] + ch["length"] > length:
                state.problems.append(f"event {ev.get('seq')}: edit range past the end of {path}")
                break
    doc.apply(changes)
    if ev.get("source") != "user":
        state.changed_since_view.add(path)
    if ev.get("version") is not None:
        doc.version = ev["version"]
    diff = None
    if before is not None:
        diff = ev.get("diff") or unified_diff(before, doc.text, path)
    reason = f" ({ev['reason']})" if ev.get("reason") else ""
    text = "".join(c["text"] for c in changes)
    summary = f"edit {path}{reason}: " + (repr(text[:40]) if text else f"delete {sum(c['length'] for c in changes)}")
    return _step(state, ev, summary, file=path, diff=diff)


def _selection(state: ReplayState, ev: dict[str, Any]) -> Step:
    sels = ev.get("selections") or []
    state.selections[ev.get("file")] = sels
    first = sels[0] if sels else {"anchor": 0, "active": 0}
    return _step(state, ev, f"select {ev.get('file')} @{first['active']}" + (f" (+{len(sels) - 1})" if len(sels) > 1 else ""),
                 file=ev.get("file"))


def _tab(state: ReplayState, ev: dict[str, Any]) -> Step:
    state.active_file = ev.get("file")
    return _step(state, ev, f"tab {ev.get('previous_file')} -> {ev.get('file')}", file=ev.get("file"))


def _file_change(state: ReplayState, ev: dict[str, Any]) -> Step:
    path, change, diff = ev.get("file"), ev.get("change"), ev.get("diff")
    state.changed_since_view.add(path)
    if change == "delete":
        state.files.pop(path, None)
    elif change == "rename":
        old = ev.get("old_file")
        if old in state.files:
            state.files[path] = state.files.pop(old)
        if old in state.selections:
            state.selections[path] = state.selections.pop(old)
    elif diff and state.tracks_open and path in state.open_docs:
        # An open document's buffer changes only through edits: the editor reloads a clean
        # document (that reload arrives as an edit with the writer's source) and keeps a
        # dirty one. Applying the disk diff too would apply the change twice.
        pass
    elif diff:
        doc = state.files.get(path)
        if change == "create" and doc is None:
            doc = state.files[path] = Document("", complete=True)
        if doc is not None:
            try:
                doc.set_text(apply_unified_diff(doc.text, diff), complete=doc.complete)
            except PatchError:
                try:  # the editor already showed this change as an edit: nothing to do
                    apply_unified_diff(doc.text, reverse_diff(diff))
                except PatchError as exc:
                    if doc.complete:
                        state.problems.append(f"event {ev.get('seq')}: diff of {path} does not apply: {exc}")
                    doc.complete = False
    elif change == "create" and path not in state.files:
        state.files[path] = Document("", complete=False)
    elif path in state.files:
        state.files[path].complete = False
    agent = f" [{ev['agent']}]" if ev.get("agent") else ""
    return _step(state, ev, f"{change} {path}{agent}", file=path, diff=diff)


def _terminal_action(state: ReplayState, ev: dict[str, Any]) -> Step:
    kind, tid = ev["kind"], ev.get("terminal")
    term = state.terminal(tid)
    if ev.get("name"):
        term.name = ev["name"]
    if kind == "terminal_open":
        term.open = True
        term.rows, term.cols = ev.get("rows") or term.rows, ev.get("cols") or term.cols
    elif kind == "terminal_close":
        term.open = False
        if state.active_terminal == tid:
            state.active_terminal = None
    elif kind == "terminal_focus":
        state.active_terminal = tid
    elif kind == "terminal_resize":
        term.rows, term.cols = ev.get("rows") or term.rows, ev.get("cols") or term.cols
    elif kind == "terminal_command":
        term.commands.append(ev.get("command") or "")
        return _step(state, ev, f"$ {ev.get('command')}" + (f"  -> {ev['exit_code']}" if ev.get("exit_code") is not None else ""))
    elif kind == "terminal_input":
        data = ev.get("data") or ""
        return _step(state, ev, f"keys {tid}: {data[:30]!r}")
    return _step(state, ev, f"{kind.replace('_', ' ')} {term.name or tid}")


def _viewport(state: ReplayState, ev: dict[str, Any]) -> Step:
    editors = ev.get("editors") or []
    state.editors = editors
    for ed in editors:
        state.changed_since_view.discard(ed.get("file"))
        if ed.get("selections") is not None:
            state.selections[ed["file"]] = ed["selections"]
        if ed.get("active"):
            state.active_file = ed["file"]
    return _step(state, ev, "viewport " + ", ".join(e.get("file", "?") for e in editors))


def _file_content(state: ReplayState, ev: dict[str, Any]) -> Step:
    path = ev.get("file")
    doc = state.files.get(path)
    if ev.get("snapshot"):
        # a snapshot's copy of the disk (imports): a hint for unknown files, never the truth
        if doc is None or not doc.complete:
            state.files[path] = Document(ev.get("text") or "", complete=False)
        return _step(state, ev, f"snapshot content {path}", file=path)
    if ev.get("base") != "viewport":
        state.changed_since_view.add(path)
    # a 2.0 import's text from a viewport (base "viewport") is complete only when it covered the file
    complete = bool(ev.get("complete")) if ev.get("base") == "viewport" else True
    if doc is None:
        state.files[path] = Document(ev.get("text") or "", complete=complete)
    else:
        doc.set_text(ev.get("text") or "", complete=complete)
    lines = len(split_lines(ev.get("text") or ""))
    if ev.get("base") == "viewport":
        return _step(state, ev, f"seen {path} ({lines} lines{', the whole file' if complete else ''})", file=path)
    return _step(state, ev, f"content {path} ({lines} lines)", file=path)


def _terminal_screen(state: ReplayState, ev: dict[str, Any]) -> Step:
    term = state.terminal(ev.get("terminal"))
    term.rows = ev.get("rows") or len(ev.get("lines") or [])
    term.cols = ev.get("cols") or term.cols
    term.lines = list(ev.get("lines") or [])
    cur = ev.get("cursor") or (0, 0)
    term.cursor = (cur[0], cur[1])
    term.title = ev.get("title") or term.title
    term.alt_screen = bool(ev.get("alt_screen"))
    term.focused = bool(ev.get("focused"))
    if term.focused:
        state.active_terminal = term.id
    return _step(state, ev, f"screen {term.name or term.id}")


def _snapshot(state: ReplayState, ev: dict[str, Any]) -> Step:
    state.snapshots.append(Snapshot(state.index, ev.get("snapshot_id", ""), ev.get("t", 0)))
    return _step(state, ev, f"snapshot {ev.get('snapshot_id')} ({ev.get('files', '?')} files)")


def _redaction(state: ReplayState, ev: dict[str, Any]) -> Step:
    return _step(state, ev, f"redacted {ev.get('what')} in {ev.get('file') or ev.get('where')}")


def _open_close(state: ReplayState, ev: dict[str, Any]) -> Step:
    state.tracks_open = True
    if ev["kind"] == "open":
        state.open_docs.add(ev.get("file"))
    else:
        state.open_docs.discard(ev.get("file"))
    return _step(state, ev, f"{ev['kind']} {ev.get('file')}", file=ev.get("file"))


def _save(state: ReplayState, ev: dict[str, Any]) -> Step:
    return _step(state, ev, f"save {ev.get('file')}", file=ev.get("file"))


def _editor_command(state: ReplayState, ev: dict[str, Any]) -> Step:
    return _step(state, ev, f"command {ev.get('command')} {ev.get('phase') or ''}".strip())


def _window_focus(state: ReplayState, ev: dict[str, Any]) -> Step:
    return _step(state, ev, "window focused" if ev.get("focused") else "window blurred")


_HANDLERS = {
    ("session", "*"): _session,
    ("action", "edit"): _edit,
    ("action", "selection"): _selection,
    ("action", "tab_switch"): _tab,
    ("action", "file_change"): _file_change,
    ("action", "editor_command"): _editor_command,
    ("action", "open"): _open_close,
    ("action", "close"): _open_close,
    ("action", "save"): _save,
    ("action", "window_focus"): _window_focus,
    ("observation", "viewport"): _viewport,
    ("observation", "file_content"): _file_content,
    ("observation", "terminal_screen"): _terminal_screen,
    ("snapshot", "*"): _snapshot,
    ("redaction", "*"): _redaction,
}
for _k in ("terminal_open", "terminal_close", "terminal_focus", "terminal_resize", "terminal_command", "terminal_input"):
    _HANDLERS[("action", _k)] = _terminal_action
