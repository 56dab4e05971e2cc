"""Deciding the source of every change on disk, and of every editor edit without a claim.

Inputs, each on its own thread: coalesced disk changes from the watcher (each tagged with
the git operation that was running, see git.py), the editor's events from the session bus
(documents, file operations, user-input signals, editor commands, terminal commands), and
the agent process scanner. Output: ``file_change`` actions with a source, preceded by a
``snapshot`` before each agent batch.

The order of decisions for one disk change (docs/attribution.md has the reasoning):
1. written while a git operation held the index lock -> ``git`` / ``git_checkout``;
2. created/deleted/renamed through the editor's UI (a ``file_op`` event) -> already
   recorded by the core as ``user``; here only its content is recorded;
3. the file is open and the disk now equals the editor's buffer (or one of its recent
   states) -> an editor save: the edits are already recorded with their sources;
4. otherwise the writer is outside the editor: a named agent when one runs in a recorded
   terminal, ``agent`` when the editor held unsaved edits (the rest after applying them),
   else ``external``. The diff is taken from whichever baseline is closer: the disk before,
   or the user's buffer (so an agent that wrote on top of unsaved edits gets only its part).
Disk changes of open documents, and creations/deletions, wait up to ``grace_s`` for the
editor's events that explain them (the two channels race); nothing else waits.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crowd.server.attribution.diffs import as_text, diff_size, unified
from crowd.server.attribution.git import GitOp
from crowd.server.watch.watcher import Content, FsChange

log = logging.getLogger(__name__)

GRACE_S = 0.6              # how long a disk change waits for the editor events that explain it
INPUT_WINDOW_S = 0.75      # an edit this soon after a user-input signal is the user's
KEYBINDING_CREDIT = 4      # edits one keybinding may cause (completion + auto-import...)
KEYBINDING_WINDOW_S = 0.3  # ...and how soon they follow it
COMMAND_TAIL_S = 0.5       # edits this soon after a user command ends still belong to it
BATCH_GAP_S = 2.0          # agent changes further apart than this start a new batch (new snapshot)
FILE_OP_TTL_S = 30.0       # an editor file operation explains a disk change this long at most
HISTORY = 256              # buffer states remembered per open document (saves of earlier states)


@dataclass
class Decision:
    source: str
    agent: str | None = None
    record: bool = True          # False: already recorded elsewhere (editor save, UI file op)
    base: str | None = None      # text the diff starts from (None: the disk before)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Held:
    change: FsChange
    deadline: float


class _DocState:
    __slots__ = ("history", "synced")

    def __init__(self, text: str) -> None:
        self.history: deque[int] = deque([hash(text)], maxlen=HISTORY)
        self.synced = text      # what the disk held when the buffer was last in sync with it


class Attributor:
    """Holds the attribution state of one recording session."""

    def __init__(
        self,
        session: Any,
        baseline: Any,
        *,
        snapshots: Any = None,
        agents: Any = None,
        git: Any = None,
        agent_names: tuple[str, ...] = (),
        grace_s: float = GRACE_S,
    ) -> None:
        self.session = session
        self.baseline = baseline
        self.snapshots = snapshots
        self.agents = agents
        self.git = git
        self.agent_names = agent_names
        self.grace_s = grace_s
        self._lock = threading.RLock()          # decision state (taken briefly, also by the event thread)
        self._emit_lock = threading.RLock()     # diffs, snapshots and recording, in decision order
        self._woken: set[str] = set()           # files whose editor events may explain a held change
        self._held: list[_Held] = []
        self._docs: dict[str, _DocState] = {}              # rel -> state of an open document
        self._file_ops: dict[str, tuple[str, str | None, float]] = {}  # rel -> (op, old rel, time)
        self._expect_reload: dict[str, tuple[int, Decision]] = {}      # rel -> (hash of disk text, writer)
        self._last_input = 0.0
        self._input_credit = 0
        self._input_window = INPUT_WINDOW_S
        self._signals_seen = False
        self._command_depth = 0
        self._last_command_end = 0.0
        self._terminal_cmds: dict[str, tuple[str, str | None, int]] = {}   # terminal -> (command, agent, start ns)
        self._agent_cmds: list[tuple[str, int, int | None]] = []          # (agent, start ns, end ns)
        self._batch_agent: str | None = None
        self._batch_last = 0.0
        self._in_batch = False
        self._dirty: set[str] = set()
        self._overlay: dict[str, Content | None] = {}        # snapshot view while a batch is decided
        self.stats: dict[str, int] = {}
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="crowd-attribution", daemon=True)
        self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        self.flush_held()

    # -- the watcher's side --------------------------------------------------------------
    def on_changes(self, changes: list[FsChange]) -> None:
        """Called by the watcher with a coalesced batch; the baseline still holds old content.

        Decisions are taken under the state lock (short); diffs and recording happen under
        the emit lock only, so the editor's events (the sidecar's hot path) never wait for a
        large batch such as a 5,000-file checkout."""
        with self._emit_lock:
            decided: list[tuple[FsChange, Decision]] = []
            with self._lock:
                for ch in changes:
                    self._dirty.add(ch.rel)
                    if ch.old_rel:
                        self._dirty.add(ch.old_rel)
                    decision = self._decide(ch, final=False)
                    if decision is None:
                        self._held.append(_Held(ch, time.monotonic() + self.grace_s))
                    else:
                        decided.append((ch, decision))
            self._emit_all(decided)

    def _emit_all(self, decided: list[tuple[FsChange, Decision]]) -> None:
        self._overlay = {}
        try:
            for ch, decision in decided:
                self._emit(ch, decision)
                self._overlay[ch.rel] = ch.new
                if ch.old_rel:
                    self._overlay[ch.old_rel] = None
        finally:
            self._overlay = {}

    def _tick_loop(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self._release(force=False)
            except Exception:  # noqa: BLE001
                log.exception("attribution tick failed")

    def flush_held(self) -> None:
        """Decide every waiting change now (stop, tests)."""
        self._release(force=True)

    def pending(self) -> int:
        return len(self._held)

    def _release(self, force: bool) -> None:
        """Decide waiting changes: those whose editor events arrived (``_woken``), those
        whose grace period ended, or all (``force``)."""
        with self._emit_lock:
            with self._lock:
                woken, self._woken = self._woken, set()
                if not self._held:
                    return
                now = time.monotonic()
                keep: list[_Held] = []
                decided: list[tuple[FsChange, Decision]] = []
                for held in self._held:
                    final = force or held.deadline <= now
                    if not final and held.change.rel not in woken:
                        keep.append(held)
                        continue
                    decision = self._decide(held.change, final=final, force=force)
                    if decision is None:
                        keep.append(held)
                    else:
                        decided.append((held.change, decision))
                self._held = keep
            self._emit_all(decided)

    # -- decisions -----------------------------------------------------------------------
    def _decide(self, ch: FsChange, final: bool, force: bool = False) -> Decision | None:
        if ch.rescan and ch.git is None:
            ch.git = self._git_after_lost_events(ch)
        if ch.git is None and not ch.rescan and self.git is not None:
            info = self._repo_info(ch)
            if info is not None and info[2]:
                # The repository's git dir is watched apart from the work tree, so the lock's
                # events are not ordered with this change: wait for git's events, then check
                # the content against HEAD's tree.
                if not final or (not force and self.git.running(info[0])):
                    return None
                ch.git = self._git_by_content(ch, info[0], info[1], within_s=5.0)
        if isinstance(ch.git, GitOp) and (ch.git.label != "restore" or self._git_wrote(ch)):
            self._note_reload(ch, Decision(ch.git.source, extra={"git_op": ch.git.label}))
            return Decision(ch.git.source, extra={"git_op": ch.git.label})
        op = self._file_ops.get(ch.rel)
        if op is not None and time.monotonic() - op[2] > FILE_OP_TTL_S:
            del self._file_ops[ch.rel]   # an editor file operation that never matched a disk change
            op = None
        if ch.change in ("create", "delete", "rename"):
            if op is not None and op[0] == ch.change and (ch.change != "rename" or op[1] == ch.old_rel):
                del self._file_ops[ch.rel]
                return Decision("user", record=False, extra={"ui": True})
            if ch.change == "delete" and op is not None and op[0] == "rename" and op[1] is None:
                pass
            if not final:
                return None
        doc = self._doc_text(ch.rel)
        new_text = as_text(ch.new) if ch.new is not None else None
        if doc is not None and new_text is not None and ch.change != "delete":
            state = self._docs.get(ch.rel)
            if doc == new_text or (state is not None and hash(new_text) in state.history):
                synced = state.synced if state is not None else None
                if state is not None:
                    state.synced = new_text
                old_text = as_text(ch.old)
                overwrote = synced is not None and old_text is not None and old_text != synced and ch.old is not None
                return Decision("user", record=overwrote, extra={"save": True})
            if not final:
                return None
            writer = self._writer(ch, dirty=state is not None and doc != state.synced)
            old_text = as_text(ch.old)
            if old_text is not None and doc != old_text and diff_size(doc, new_text) < diff_size(old_text, new_text):
                writer.base = doc   # written on top of the user's unsaved edits: only the agent's part
            if state is not None and doc == state.synced:
                self._note_reload(ch, writer)
            return writer
        if doc is not None and not final:
            return None
        return self._writer(ch, dirty=False)

    def _writer(self, ch: FsChange, dirty: bool) -> Decision:
        name = self._agent_at(ch.t_ns)
        if name is not None:
            return Decision("agent", agent=name)
        if dirty:
            return Decision("agent")
        running = [c for c, a, _ in self._terminal_cmds.values() if a is None]
        extra = {"command": running[0]} if len(running) == 1 else {}
        return Decision("external", extra=extra)

    def _agent_at(self, t_ns: int) -> str | None:
        for name, start, end in reversed(self._agent_cmds):
            if start <= t_ns and (end is None or t_ns <= end):   # the end is reported after the fact
                return name
        if self.agents is not None:
            return self.agents.agent_at(t_ns)
        return None

    def _doc_text(self, rel: str) -> str | None:
        docs = getattr(self.session, "documents", None)
        doc = docs.by_rel(rel) if docs is not None else None
        return doc.text if doc is not None else None

    def _note_reload(self, ch: FsChange, writer: Decision) -> None:
        """An open, unmodified document reloads from disk: that edit is the writer's, not the user's."""
        text = as_text(ch.new)
        if text is not None and self._doc_text(ch.rel) is not None:
            self._expect_reload[ch.rel] = (hash(text), Decision(writer.source, writer.agent))

    def _repo_info(self, ch: FsChange) -> tuple[str, str, bool] | None:
        path = self.session.workspace.abs_path(ch.rel) if hasattr(self.session, "workspace") else None
        return self.git.repo_info(str(path)) if path is not None else None

    def _git_by_content(self, ch: FsChange, git_dir: str, inner: str, within_s: float) -> GitOp | None:
        """The last git command's, if it finished within ``within_s`` and the file now holds
        exactly HEAD's blob (or is gone from both)."""
        op = self.git.recent_op(git_dir, within_s)
        if op is None:
            return None
        tree = self.git.head_tree(git_dir)
        if ch.new is None:
            return op if inner not in tree else None
        if not isinstance(ch.new, bytes):
            return None
        sha = hashlib.sha1(b"blob %d\0" % len(ch.new) + ch.new).hexdigest()
        return op if tree.get(inner) == sha else None

    def _git_after_lost_events(self, ch: FsChange) -> GitOp | None:
        """Events were lost, so their order with the index lock is unknown: a change is the
        last git command's when that command finished within a minute (or the repository moved
        since the last command seen) and the file now holds exactly what HEAD holds."""
        if self.git is None:
            return None
        info = self._repo_info(ch)
        if info is None:
            return None
        if self.git.recent_op(info[0]) is None:
            self.git.reconcile(info[0])
        return self._git_by_content(ch, info[0], info[1], within_s=60.0)

    def _git_wrote(self, ch: FsChange) -> bool:
        """A lock held without a ref moving (restore, checkout -- file, or just `git status`):
        the new content must be a blob git has, or a deletion, for it to be git's write."""
        if ch.new is None:
            return True
        if not isinstance(ch.new, bytes):
            return True
        sha = hashlib.sha1(b"blob %d\0" % len(ch.new) + ch.new).hexdigest()
        from crowd.server.attribution.git import common_dir  # noqa: PLC0415

        git_dir = common_dir(ch.git.git_dir)
        if os.path.exists(os.path.join(git_dir, "objects", sha[:2], sha[2:])):
            return True
        try:
            import git  # noqa: PLC0415 - gitpython only when packs must be searched

            repo = _repos.get(git_dir) or _repos.setdefault(git_dir, git.Repo(git_dir))
            return bool(repo.odb.has_object(bytes.fromhex(sha)))
        except Exception:  # noqa: BLE001
            return False

    # -- recording -----------------------------------------------------------------------
    def _emit(self, ch: FsChange, d: Decision) -> None:
        key = d.source + (f":{d.agent}" if d.agent else "")
        self.stats[key] = self.stats.get(key, 0) + 1
        session = self.session
        if d.source != "agent":
            self._in_batch = False
        if not d.record:
            if d.extra.get("ui") and ch.new is not None:
                text = as_text(ch.new)
                if text is not None and getattr(session, "recording", False):
                    session.record_file_content(ch.rel, text)
            return
        if not getattr(session, "recording", True):
            return
        if d.source == "agent":
            self._maybe_snapshot(d.agent)
        old_text = d.base if d.base is not None else as_text(ch.old)
        new_text = as_text(ch.new) if ch.new is not None else ""
        diff = None
        base_rel = ch.old_rel if ch.change == "rename" else ch.rel
        if old_text is not None and new_text is not None and ch.change != "delete":
            if ch.old is not None and not session.knows_content(base_rel, old_text):
                session.record_file_content(base_rel, old_text, force=True)
            diff = unified(old_text, new_text, ch.rel, ch.old_rel)
        fields: dict[str, Any] = {"source": d.source, "file": ch.rel, "change": ch.change, "diff": diff}
        if d.agent:
            fields["agent"] = d.agent
        if ch.old_rel:
            fields["old_file"] = ch.old_rel
        if d.base is not None:
            fields["base"] = "buffer"
        fields.update(d.extra)
        session.record("action", "file_change", **fields)
        if new_text is not None and ch.new is not None:
            session.note_content(ch.rel, new_text)

    def _maybe_snapshot(self, agent: str | None) -> None:
        now = time.monotonic()
        if self._in_batch and agent == self._batch_agent and now - self._batch_last < BATCH_GAP_S:
            self._batch_last = now
            return
        self._in_batch, self._batch_agent, self._batch_last = True, agent, now
        if self.snapshots is None:
            return
        try:
            t, wall = self.session.now()
            dirty, self._dirty = self._dirty, set()
            info = self.snapshots.take(self._snapshot_read, dirty, self._all_paths, t=t, wall=wall)
        except Exception as exc:  # noqa: BLE001 - a failed snapshot must not lose the change
            log.exception("snapshot failed")
            self.session.record("session", "error", message=f"snapshot failed: {exc}")
            return
        self.session.record("snapshot", "snapshot", snapshot_id=info.snapshot_id, files=info.files,
                            changed=info.changed, bytes_added=info.bytes_added)

    def _snapshot_read(self, rel: str) -> bytes | None:
        """The workspace just before the change being recorded: decided changes of this batch
        applied, undecided (held) ones not yet."""
        if rel in self._overlay:
            content = self._overlay[rel]
        else:
            content = None
            with self._lock:
                held_now = list(self._held)
            for held in held_now:
                if held.change.rel == rel:
                    content = held.change.old
                    break
                if held.change.old_rel == rel:
                    content = held.change.old
                    break
            else:
                content = self.baseline.get(rel)
        if not isinstance(content, bytes) or getattr(self.baseline, "is_secret", lambda r: False)(rel):
            return None
        return content

    def _all_paths(self) -> list[str]:
        paths = set(self.baseline.paths())
        with self._lock:
            held_now = list(self._held)
        for held in held_now:
            if held.change.old is not None:
                paths.add(held.change.old_rel or held.change.rel)
        return sorted(paths)

    # -- the editor's side (bus) ---------------------------------------------------------
    def on_event(self, event: dict[str, Any]) -> None:
        handler = self._handlers.get(event.get("kind", ""))
        if handler is not None:
            with self._lock:
                handler(self, event)

    def _on_open(self, event: dict[str, Any]) -> None:
        rel = event.get("file")
        if rel:
            text = self._doc_text(rel)
            disk = as_text(self.baseline.get(rel))
            self._docs[rel] = _DocState(text if text is not None else "")
            if disk is not None and text is not None and disk != text:
                self._docs[rel].synced = disk

    def _on_change(self, event: dict[str, Any]) -> None:
        rel = event.get("file")
        state = self._docs.get(rel) if rel else None
        text = self._doc_text(rel) if rel else None
        if state is not None and text is not None:
            state.history.append(hash(text))
        if (event.get("_crowd_source") or event.get("source") or "user") == "user":
            self._in_batch = False
        if rel:
            self._woken.add(rel)

    def _on_save(self, event: dict[str, Any]) -> None:
        rel = event.get("file")
        if rel:
            self._woken.add(rel)

    def _on_close(self, event: dict[str, Any]) -> None:
        rel = event.get("file")
        if rel:
            self._docs.pop(rel, None)
            self._expect_reload.pop(rel, None)
            self._woken.add(rel)

    def _on_file_op(self, event: dict[str, Any]) -> None:
        op = event.get("op")
        rel_of = self._rel_of
        now = time.monotonic()
        for item in event.get("files") or []:
            if op == "rename" and isinstance(item, dict):
                old, new = rel_of(item.get("oldUri")), rel_of(item.get("newUri"))
                if new:
                    self._file_ops[new] = ("rename", old, now)
                if old:
                    self._file_ops[old] = ("rename-source", None, now)
            else:
                uri = item.get("uri") if isinstance(item, dict) else item
                rel = rel_of(uri)
                if rel:
                    self._file_ops[rel] = (str(op), None, now)
        self._woken.update(self._file_ops)

    def _rel_of(self, uri: Any) -> str | None:
        if not isinstance(uri, str):
            return None
        from crowd.server.workspace.folders import uri_to_path  # noqa: PLC0415

        path = uri_to_path(uri)
        return self.session.workspace.rel_path(path) if path is not None else None

    def _on_input(self, event: dict[str, Any]) -> None:
        """One keystroke or paste licenses one edit; a keybinding (which may run a small
        command, e.g. accept a completion with its auto-import) licenses a few."""
        self._signals_seen = True
        self._last_input = time.monotonic()
        typed = event.get("what") in ("type", "paste", "key")
        self._input_credit = 1 if typed else KEYBINDING_CREDIT
        self._input_window = INPUT_WINDOW_S if typed else KEYBINDING_WINDOW_S
        self._in_batch = False

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
        words = command.strip().split()
        agent = None
        for w in words[:3]:
            b = os.path.basename(w)
            if b in self.agent_names:
                agent = b
                break
            if "=" not in w and b not in ("npx", "bunx", "uvx", "sudo", "env", "exec", "time", "node", "python", "python3"):
                break
        term = str(event.get("terminal"))
        self._terminal_cmds[term] = (command, agent, time.monotonic_ns())
        if agent:
            self._agent_cmds.append((agent, time.monotonic_ns(), None))

    def _on_exec_end(self, event: dict[str, Any]) -> None:
        term = str(event.get("terminal"))
        entry = self._terminal_cmds.pop(term, None)
        if entry and entry[1]:
            for i in range(len(self._agent_cmds) - 1, -1, -1):
                name, start, end = self._agent_cmds[i]
                if name == entry[1] and start == entry[2] and end is None:
                    self._agent_cmds[i] = (name, start, time.monotonic_ns())
                    break

    _handlers: dict[str, Callable[["Attributor", dict[str, Any]], None]] = {
        "document_open": _on_open,
        "document_change": _on_change,
        "document_save": _on_save,
        "document_close": _on_close,
        "file_op": _on_file_op,
        "user_input": _on_input,
        "editor_command": _on_command,
        "terminal_exec_start": _on_exec_start,
        "terminal_exec_end": _on_exec_end,
    }

    # -- the core's edit classifier --------------------------------------------------------
    def classify_edit(self, event: dict[str, Any]) -> tuple[str, str | None] | None:
        """Source of an editor edit the bridge did not label (runs on the event thread)."""
        with self._lock:
            decided = self._classify(event)
        event["_crowd_source"] = decided[0] if decided else None
        return decided

    def _classify(self, event: dict[str, Any]) -> tuple[str, str | None] | None:
        if event.get("reason") in ("undo", "redo"):
            return "user", None
        docs = getattr(self.session, "documents", None)
        doc = docs.get(event.get("uri")) if docs is not None else None
        if doc is not None and doc.rel is not None:
            expected = self._expect_reload.get(doc.rel)
            if expected is not None and hash(doc.text) == expected[0]:
                del self._expect_reload[doc.rel]
                return expected[1].source, expected[1].agent
        now = time.monotonic()
        if self._command_depth > 0 or now - self._last_command_end < COMMAND_TAIL_S:
            return "user", None
        if self._signals_seen:
            if self._input_credit > 0 and now - self._last_input < self._input_window:
                self._input_credit -= 1
                return "user", None
            return "agent", None
        return None

    # -- panic -----------------------------------------------------------------------------
    def panic(self, cutoff_t: int) -> None:
        with self._emit_lock, self._lock:
            self._held.clear()
            self._in_batch = False
            if self.snapshots is not None:
                self.snapshots.panic(cutoff_t)
                self._dirty = set()


_repos: dict[str, Any] = {}
