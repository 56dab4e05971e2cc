"""What the editor and the recorded terminals told us: open buffers, file operations, input
signals, user commands and running terminal commands; and the source of editor edits.

Fed by the session bus (after the core handled each event) and asked by the decision engine
and by the core's edit classifier. Not thread-safe on its own: the engine's state lock
guards every call.
"""
from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from crowd.server.attribution.decision import Decision
from crowd.server.attribution.diffs import as_text

INPUT_WINDOW_S = 0.75      # an edit this soon after a keystroke/paste signal is the user's
MAX_LICENSES = 256         # outstanding input licenses kept (key repeat, fast typing)
KEYBINDING_CREDIT = 4      # edits one keybinding may cause (completion + auto-import...)
KEYBINDING_WINDOW_S = 0.3  # ...and how soon they follow it
KEYBINDING_BURST_S = 0.05  # ...the first within the window, the rest right after the first
COMMAND_TAIL_S = 0.5       # edits this soon after a user command ends still belong to it
FILE_OP_TTL_S = 30.0       # an editor file operation explains a disk change this long at most
HISTORY = 256              # buffer states remembered per open document (saves of earlier states)
TYPING = frozenset({"type", "paste", "key"})          # per-keystroke editor input signals
NOT_EDITOR_INPUT = frozenset({"terminal"})            # the bridge's terminal interaction signal
BLANK_KEYS = frozenset({                              # editing keys whose edits insert no visible text
    "deleteLeft", "deleteRight", "deleteWordLeft", "deleteWordRight", "tab", "outdent", "cut",
    "editor.action.deleteLines", "editor.action.indentLines", "editor.action.outdentLines"})
CLOSERS = frozenset(")]}>'\"`")                       # what auto-closing / auto-surround may add
MAX_EVENT_AGE_NS = 10_000_000_000   # an event stamped longer ago than this: a clock problem, use arrival
# a write is stamped when the watcher's thread gets its event, which may come after the
# shell reported the command's end (inotify delivery: p99 14 ms idle, more under load); the
# bridge stamps the end after the shell's prompt reported it, later than the exit itself
COMMAND_END_SLACK_NS = 100_000_000
COMMANDS_KEPT = 200        # terminal commands remembered (what ran when a write happened)
LAUNCH_WORDS = ("npx", "bunx", "uvx", "sudo", "env", "exec", "time", "node", "python", "python3")


def _event_ns(event: dict[str, Any]) -> int:
    """Monotonic ns of an event the bridge stamped (``time``: epoch ms in the extension host,
    the same machine), else of its arrival. A terminal command's start is stamped when the
    shell reports it, before the command writes anything; its event reaches us later."""
    now = time.monotonic_ns()
    stamped = event.get("time")
    if isinstance(stamped, (int, float)) and not isinstance(stamped, bool):
        age_ns = int((time.time() * 1000 - float(stamped)) * 1e6)
        if 0 < age_ns < MAX_EVENT_AGE_NS:
            return now - age_ns
    return now


def _visible(text: str) -> str:
    return "".join(text.split())


def fits(check: str, text: str | None, inserted: str) -> bool:
    """Whether an edit inserting ``inserted`` can be the one a user input caused.
    ``type``: the typed text, repeated per cursor, plus only auto-closed/surrounding closers
    and indentation (a typed blank: nothing visible at all). ``paste``: the pasted text,
    re-indented. ``blank`` (Backspace, Tab, cut...): nothing visible inserted."""
    if check == "any" or text is None and check != "blank":
        return True
    shown = _visible(inserted)
    if check == "blank":
        return not shown
    want = _visible(text)
    if check == "paste":
        return want in shown
    if not want:                                      # space, tab, Enter
        return not shown
    return want in shown and all(ch in CLOSERS for ch in shown.replace(want, ""))


class DocState:
    """An open document: hashes of its recent buffer states and the disk text it was last
    in sync with (open, save)."""

    __slots__ = ("history", "synced")

    def __init__(self, text: str) -> None:
        self.history: deque[int] = deque([hash(text)], maxlen=HISTORY)
        self.synced = text


class EditorState:
    def __init__(self, session: Any, baseline: Any, agent_names: tuple[str, ...],
                 on_user_activity: Callable[[], None]) -> None:
        self.session = session
        self.baseline = baseline
        self.agent_names = agent_names
        self.on_user_activity = on_user_activity          # ends an agent batch (next one gets a snapshot)
        self.woken: set[str] = set()                      # files whose events may explain a held change
        self.woken_all = False                             # a terminal command started/ended: look at all
        self.docs: dict[str, DocState] = {}
        self._file_ops: dict[str, tuple[str, str | None, float]] = {}   # rel -> (op, old rel, time)
        self._expect_reload: dict[str, tuple[int, Decision]] = {}       # rel -> (hash of disk text, writer)
        # reloads seen before their disk change was decided: rel -> (hash of the text, writer,
        # certain: the bridge said the buffer is clean; else a save may still claim it)
        self.reloaded: dict[str, tuple[int, Decision, bool]] = {}
        self.woken_prefixes: set[str] = set()              # folders whose file op may explain held changes
        self._licenses: deque[list[Any]] = deque()      # [expiry (monotonic), edits left, typed text], oldest first
        self._signals_seen = False
        self._command_depth = 0
        self._last_command_end = 0.0
        self._terminal_cmds: dict[str, tuple[str, str | None, int]] = {}   # terminal -> (command, agent, start)
        self._agent_cmds: list[tuple[str, int, int | None]] = []          # (agent, start ns, end ns)
        # every terminal command shell integration reported: [command, agent, start ns, end ns]
        self._commands: deque[list[Any]] = deque(maxlen=COMMANDS_KEPT)

    # -- queries -------------------------------------------------------------------------
    def doc_text(self, rel: str) -> str | None:
        doc = self.session.documents.by_rel(rel)
        return doc.text if doc is not None else None

    def take_file_op(self, change: str, rel: str, old_rel: str | None) -> bool:
        """True when the editor's UI reported this create/delete/rename, of the file itself
        (then forgotten) or of a folder above it (kept for the folder's other files: VS Code
        names only the folder)."""
        now = time.monotonic()
        op = self._file_ops.get(rel)
        if op is not None and now - op[2] > FILE_OP_TTL_S:
            del self._file_ops[rel]   # never matched a disk change
            op = None
        if op is not None and op[0] == change and (change != "rename" or op[1] == old_rel):
            del self._file_ops[rel]
            return True
        if change not in ("delete", "rename"):
            return False
        for folder, (kind, old_folder, when) in list(self._file_ops.items()):
            if kind != change or now - when > FILE_OP_TTL_S or not rel.startswith(folder + "/"):
                continue
            if change == "delete" or (old_folder is not None and old_rel == old_folder + rel[len(folder):]):
                return True
        return False

    def woke(self, rel: str) -> bool:
        """Whether an editor event since the last tick may explain a held change of ``rel``."""
        return rel in self.woken or any(rel.startswith(p + "/") for p in self.woken_prefixes)

    def take_reload(self, rel: str, text: str) -> Decision | None:
        """The writer of a reload the editor made before this disk change was decided."""
        found = self.reloaded.get(rel)
        if found is None or found[0] != hash(text):
            return None
        del self.reloaded[rel]
        state = self.docs.get(rel)
        if state is not None:
            state.synced = text
        return Decision(found[1].source, found[1].agent, extra=dict(found[1].extra))

    def note_reload(self, rel: str, text: str, writer: Decision, certain: bool) -> None:
        """A reload leaves the buffer clean, holding the disk's text, whether or not its disk
        change ever reaches us on its own (two git commands within one watcher batch are
        one change, the first one's never comes)."""
        self.reloaded[rel] = (hash(text), writer, certain)
        state = self.docs.get(rel)
        if state is not None:
            state.synced = text
        self.woken.add(rel)

    def expecting_reload(self, rel: str, text: str) -> bool:
        expected = self._expect_reload.get(rel)
        return expected is not None and expected[0] == hash(text)

    def was_clean(self, rel: str) -> bool:
        """The buffer equalled the disk text it was last in sync with, before the edit being
        classified (the core applies an edit before classifying it; history gets it after)."""
        state = self.docs.get(rel)
        return state is not None and bool(state.history) and state.history[-1] == hash(state.synced)

    def input_explains(self, event: dict[str, Any]) -> bool:
        """A user command or an unexpired input license that fits this edit (not taken)."""
        now = time.monotonic()
        if self._command_depth > 0 or now - self._last_command_end < COMMAND_TAIL_S:
            return True
        changes = [c for c in event.get("changes") or () if isinstance(c, dict)]
        inserted = "".join(str(c.get("text") or "") for c in changes)
        return any(lic[0] >= now and fits(lic[2], lic[3], inserted) for lic in self._licenses)

    def command_at(self, t_ns: int) -> tuple[str, str | None] | None:
        """(command, agent) of the terminal command that shell integration reported running
        at ``t_ns``; with several, the one started last (a user's ``black`` run while a CLI
        agent idles in another terminal is the narrower, better evidence)."""
        best: list[Any] | None = None
        for entry in self._commands:
            if entry[2] <= t_ns and (entry[3] is None or t_ns <= entry[3] + COMMAND_END_SLACK_NS) \
                    and (best is None or entry[2] > best[2]):
                best = entry
        return (best[0], best[1]) if best is not None else None

    def expect_reload(self, rel: str, new_text: str | None, writer: Decision) -> None:
        """An open, unmodified document will reload from disk: that edit is the writer's."""
        if new_text is not None and self.doc_text(rel) is not None:
            self._expect_reload[rel] = (hash(new_text), Decision(writer.source, writer.agent))

    def command_agent_at(self, t_ns: int) -> str | None:
        """A known agent started as a command in a recorded terminal and running at ``t_ns``."""
        for name, start, end in reversed(self._agent_cmds):
            if start <= t_ns and (end is None or t_ns <= end):   # the end is reported after the fact
                return name
        return None

    def running_command(self) -> str | None:
        """The terminal command running now, when exactly one (non-agent) runs."""
        running = [c for c, a, _ in self._terminal_cmds.values() if a is None]
        return running[0] if len(running) == 1 else None

    # -- bus events ------------------------------------------------------------------------
    def on_event(self, event: dict[str, Any]) -> None:
        handler = _HANDLERS.get(event.get("kind", ""))
        if handler is not None:
            handler(self, event)

    def _on_open(self, event: dict[str, Any]) -> None:
        rel = event.get("file")
        if rel:
            text = self.doc_text(rel)
            disk = as_text(self.baseline.get(rel))
            self.docs[rel] = DocState(text if text is not None else "")
            if disk is not None and text is not None and disk != text:
                self.docs[rel].synced = disk

    def _on_change(self, event: dict[str, Any]) -> None:
        rel = event.get("file")
        state = self.docs.get(rel) if rel else None
        text = self.doc_text(rel) if rel else None
        if state is not None and text is not None:
            state.history.append(hash(text))
        if (event.get("_crowd_source") or event.get("source") or "user") == "user":
            self.on_user_activity()
        if rel:
            self.woken.add(rel)

    def _on_save(self, event: dict[str, Any]) -> None:
        rel = event.get("file")
        if rel:
            found = self.reloaded.get(rel)
            if found is not None and not found[2]:
                del self.reloaded[rel]   # the buffer reached the disk through a save after all
            self.woken.add(rel)

    def _on_close(self, event: dict[str, Any]) -> None:
        rel = event.get("file")
        if rel:
            self.docs.pop(rel, None)
            self._expect_reload.pop(rel, None)
            self.reloaded.pop(rel, None)
            self.woken.add(rel)

    def _on_file_op(self, event: dict[str, Any]) -> None:
        op = event.get("op")
        now = time.monotonic()
        for item in event.get("files") or []:
            if op == "rename" and isinstance(item, dict):
                old, new = self._rel_of(item.get("oldUri")), self._rel_of(item.get("newUri"))
                if new:
                    self._file_ops[new] = ("rename", old, now)
                if old:
                    self._file_ops[old] = ("rename-source", None, now)
            else:
                rel = self._rel_of(item.get("uri") if isinstance(item, dict) else item)
                if rel:
                    self._file_ops[rel] = (str(op), None, now)
        self.woken.update(self._file_ops)
        self.woken_prefixes.update(self._file_ops)

    def _rel_of(self, uri: Any) -> str | None:
        if not isinstance(uri, str):
            return None
        from crowd.server.workspace.folders import uri_to_path  # noqa: PLC0415

        path = uri_to_path(uri)
        return self.session.workspace.rel_path(path) if path is not None else None

    def _on_input(self, event: dict[str, Any]) -> None:
        """One keystroke or paste licenses one edit; a keybinding (which may run a small
        command, e.g. accept a completion with its auto-import) licenses a few, briefly.
        Licenses add up: the extension host may get several keystrokes before the edit of
        the first one (fast typing, key repeat), and each keystroke's edit must find its own.
        Only per-keystroke signals (``type``/``paste``/``key``) tell that the bridge reports
        typing at all, which is what lets an unlicensed edit be called an inline agent's;
        input in a terminal licenses no editor edit."""
        what = event.get("what")
        if what in NOT_EDITOR_INPUT:
            return
        if what == "signals":   # the bridge says whether licences follow (its setting, changeable mid-session)
            self._signals_seen = event.get("on") is True
            if not self._signals_seen:
                self._licenses.clear()
            return
        typed = what in TYPING
        if typed:
            self._signals_seen = True
        now = time.monotonic()
        window, edits = (INPUT_WINDOW_S, 1) if typed else (KEYBINDING_WINDOW_S, KEYBINDING_CREDIT)
        text = event.get("text")
        text = text if isinstance(text, str) and text else None
        if what == "type" and text is not None:
            check = "type"
        elif what == "paste" and text is not None:
            check = "paste"
        elif what == "key" and event.get("command") in BLANK_KEYS:
            check = "blank"
        else:
            check = "any"
        lines = event.get("lines")
        lines = (int(lines[0]), int(lines[1])) if isinstance(lines, list) and len(lines) == 2 else None
        self._licenses.append([now + window, edits, check, text, lines])
        if len(self._licenses) > MAX_LICENSES:
            self._licenses.popleft()
        self.on_user_activity()

    def _take_license(self, now: float, event: dict[str, Any]) -> bool:
        """Use the oldest unexpired input license that fits this edit (``fits``). An agent's
        edit landing while a keystroke is on its way thus does not take that keystroke's
        license. A typed key that made no edit (typing over an auto-closed bracket) leaves a
        license behind, which the user's next fitting edit retires instead of letting it
        license an agent's edit."""
        licenses = self._licenses
        while licenses and licenses[0][0] < now:
            licenses.popleft()
        if not licenses:
            return False
        changes = [c for c in event.get("changes") or () if isinstance(c, dict)]
        inserted = "".join(str(c.get("text") or "") for c in changes)
        line: list[int] = []
        for i, lic in enumerate(licenses):
            if fits(lic[2], lic[3], inserted) and (lic[4] is None or self._near(lic[4], event, changes, line)):
                break
        else:
            return False
        if i:
            kept = [lic for lic in list(licenses)[:i] if lic[2] != "type"]   # stale typed keys go
            for _ in range(i):
                licenses.popleft()
            licenses.extendleft(reversed(kept))
            i = len(kept)
        licenses[i][1] -= 1
        if licenses[i][1] <= 0:
            del licenses[i]
        else:   # a keybinding's further edits come with its first (same renderer tick) or not at all
            licenses[i][0] = min(licenses[i][0], now + KEYBINDING_BURST_S)
            licenses[i][4] = None   # ...and may be anywhere (a completion's auto-import)
        return True

    def _near(self, lines: tuple[int, int], event: dict[str, Any], changes: list[dict[str, Any]],
              memo: list[int]) -> bool:
        """Whether the edit starts on (or next to) the lines the cursors were on when the
        editing key was pressed: an inline agent writing elsewhere at that moment does not
        take the key's license. Unknown positions do not refuse."""
        if not memo:
            doc = self.session.documents.get(event.get("uri"))
            offsets = [c.get("offset") for c in changes if isinstance(c.get("offset"), int)]
            if doc is None or not offsets:
                memo.append(-1)
            else:   # the text before the first change is the same before and after the edit
                memo.append(doc.text.count("\n", 0, min(offsets)))
        return memo[0] < 0 or lines[0] - 1 <= memo[0] <= lines[1] + 1

    def _on_command(self, event: dict[str, Any]) -> None:
        if event.get("phase") == "start":
            self._command_depth += 1
        elif event.get("phase") == "end":
            self._command_depth = max(0, self._command_depth - 1)
            self._last_command_end = time.monotonic()
        else:
            self._last_command_end = time.monotonic()

    def _on_exec_start(self, event: dict[str, Any]) -> None:
        command = str(event.get("command") or "")
        agent = None
        for word in command.strip().split()[:3]:
            base = os.path.basename(word)
            if base in self.agent_names:
                agent = base
                break
            if "=" not in word and base not in LAUNCH_WORDS:
                break
        now = _event_ns(event)
        self._terminal_cmds[str(event.get("terminal"))] = (command, agent, now)
        self._commands.append([command, agent, now, None, str(event.get("terminal"))])
        self.woken_all = True
        if agent:
            self._agent_cmds.append((agent, now, None))
            del self._agent_cmds[:-200]

    def _on_exec_end(self, event: dict[str, Any]) -> None:
        terminal = str(event.get("terminal"))
        entry = self._terminal_cmds.pop(terminal, None)
        end = _event_ns(event)
        for item in reversed(self._commands):
            if item[4] == terminal and item[3] is None:
                item[3] = max(end, item[2])
                break
        self.woken_all = True
        if entry and entry[1]:
            for i in range(len(self._agent_cmds) - 1, -1, -1):
                name, start, end_ns = self._agent_cmds[i]
                if name == entry[1] and start == entry[2] and end_ns is None:
                    self._agent_cmds[i] = (name, start, max(end, start))
                    break

    # -- the source of an editor edit ------------------------------------------------------
    def classify(self, event: dict[str, Any]) -> tuple[str, str | None] | None:
        """Source of a ``document_change`` the bridge did not label; None: the core's default."""
        if event.get("reason") in ("undo", "redo"):
            return "user", None
        doc = self.session.documents.get(event.get("uri"))
        if doc is not None and doc.rel is not None:
            expected = self._expect_reload.get(doc.rel)
            if expected is not None and hash(doc.text) == expected[0]:
                del self._expect_reload[doc.rel]
                state = self.docs.get(doc.rel)
                if state is not None:
                    state.synced = doc.text   # the buffer is clean again, holding the disk's text
                return expected[1].source, expected[1].agent
        now = time.monotonic()
        if self._command_depth > 0 or now - self._last_command_end < COMMAND_TAIL_S:
            return "user", None
        if self._signals_seen:
            return ("user", None) if self._take_license(now, event) else ("agent", None)
        return None


_HANDLERS: dict[str, Callable[[EditorState, dict[str, Any]], None]] = {
    "document_open": EditorState._on_open,
    "document_change": EditorState._on_change,
    "document_save": EditorState._on_save,
    "document_close": EditorState._on_close,
    "file_op": EditorState._on_file_op,
    "user_input": EditorState._on_input,
    "editor_command": EditorState._on_command,
    "terminal_exec_start": EditorState._on_exec_start,
    "terminal_exec_end": EditorState._on_exec_end,
}
