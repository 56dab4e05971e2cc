"""Deciding the source of every change on disk (the editor's edits: editor_state.py).

Inputs, each on its own thread: coalesced disk changes from the watcher (each tagged with
the git operation that was running, see git.py), the editor's and terminals' events from
the session bus (editor_state.py), and the agent process scanner (agents.py). Output
(recording.py): ``file_change`` actions with a source, preceded by a ``snapshot`` before
each agent batch.

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
from dataclasses import dataclass
from typing import Any

from crowd.server.attribution.decision import Decision
from crowd.server.attribution.diffs import as_text, diff_size
from crowd.server.attribution.editor_state import EditorState
from crowd.server.attribution.git import GitOp, common_dir
from crowd.server.attribution.recording import ChangeRecorder
from crowd.server.watch.batch import FsChange

log = logging.getLogger(__name__)

GRACE_S = 0.6   # how long a disk change waits for the editor events that explain it

__all__ = ["Attributor", "Decision", "GRACE_S"]


@dataclass
class _Held:
    change: FsChange
    deadline: float


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Attributor:
    """The attribution state of one recording session."""

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
        self.agents = agents
        self.git = git
        self.grace_s = grace_s
        self._lock = threading.RLock()        # decision state (taken briefly, also by the event thread)
        self._emit_lock = threading.RLock()   # diffs, snapshots and recording, in decision order
        self._held: list[_Held] = []
        self.recorder = ChangeRecorder(session, baseline, snapshots, self._held_changes)
        self.editor = EditorState(session, baseline, agent_names, self.recorder.end_batch)
        self._git_repos: dict[str, Any] = {}
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="crowd-attribution", daemon=True)
        self._ticker.start()

    @property
    def stats(self) -> dict[str, int]:
        return self.recorder.stats

    def stop(self) -> None:
        self._stop.set()
        self.flush_held()

    def _held_changes(self) -> list[FsChange]:
        with self._lock:
            return [h.change for h in self._held]

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
                    self.recorder.dirty.add(ch.rel)
                    if ch.old_rel:
                        self.recorder.dirty.add(ch.old_rel)
                    decision = self._decide(ch, final=False)
                    if decision is None:
                        self._held.append(_Held(ch, time.monotonic() + self.grace_s))
                    else:
                        decided.append((ch, decision))
            self.recorder.emit_all(decided)

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
        """Decide waiting changes: those whose editor events arrived, those whose grace
        period ended, or all (``force``)."""
        with self._emit_lock:
            with self._lock:
                woken, self.editor.woken = self.editor.woken, set()
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
            self.recorder.emit_all(decided)

    # -- decisions -----------------------------------------------------------------------
    def _decide(self, ch: FsChange, final: bool, force: bool = False) -> Decision | None:
        """The source of one change, or None to wait for more evidence (not ``final`` yet)."""
        if ch.git is None and self.git is not None:
            if ch.rescan:
                ch.git = self._git_after_lost_events(ch)
            else:
                info = self._repo_info(ch)
                if info is not None and info[2]:
                    # The git dir is watched apart from the work tree, so the lock's events
                    # are not ordered with this change: wait for git's events, then compare
                    # the content with HEAD's tree.
                    if not final or (not force and self.git.running(info[0])):
                        return None
                    ch.git = self._git_by_content(ch, info[0], info[1], within_s=5.0)
        if isinstance(ch.git, GitOp) and (ch.git.label != "restore" or self._git_wrote(ch)):
            decision = Decision(ch.git.source, extra={"git_op": ch.git.label})
            self.editor.expect_reload(ch.rel, as_text(ch.new), decision)
            return decision
        if ch.change in ("create", "delete", "rename"):
            if self.editor.take_file_op(ch.change, ch.rel, ch.old_rel):
                return Decision("user", record=False, extra={"ui": True})
            if not final:
                return None
        doc = self.editor.doc_text(ch.rel)
        new_text = as_text(ch.new) if ch.new is not None else None
        if doc is not None and new_text is not None and ch.change != "delete":
            return self._decide_open_document(ch, doc, new_text, final)
        if doc is not None and not final:
            return None
        return self._writer(ch, dirty=False)

    def _decide_open_document(self, ch: FsChange, doc: str, new_text: str, final: bool) -> Decision | None:
        state = self.editor.docs.get(ch.rel)
        if doc == new_text or (state is not None and hash(new_text) in state.history):
            # the editor saved its buffer (now, or a state of a moment ago)
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
            writer.base = doc   # written on top of the user's unsaved edits: only the writer's part
        if state is not None and doc == state.synced:
            self.editor.expect_reload(ch.rel, new_text, writer)
        return writer

    def _writer(self, ch: FsChange, dirty: bool) -> Decision:
        """Who wrote outside the editor: a named agent, else ``agent`` if the user had unsaved
        edits in that file (the specification's "the rest is an agent's"), else ``external``."""
        name = self.editor.command_agent_at(ch.t_ns)
        if name is None and self.agents is not None:
            name = self.agents.agent_at(ch.t_ns)
        if name is not None:
            return Decision("agent", agent=name)
        if dirty:
            return Decision("agent")
        command = self.editor.running_command()
        return Decision("external", extra={"command": command} if command else {})

    # -- git by content (when the event order cannot tell) --------------------------------
    def _repo_info(self, ch: FsChange) -> tuple[str, str, bool] | None:
        path = self.session.workspace.abs_path(ch.rel)
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
        return op if tree.get(inner) == git_blob_sha(ch.new) else None

    def _git_after_lost_events(self, ch: FsChange) -> GitOp | None:
        """Events were lost, so their order with the index lock is unknown: a change is the
        last git command's when that command finished within a minute (or the repository moved
        since the last command seen) and the file now holds exactly what HEAD holds."""
        info = self._repo_info(ch)
        if info is None:
            return None
        if self.git.recent_op(info[0]) is None:
            self.git.reconcile(info[0])
        return self._git_by_content(ch, info[0], info[1], within_s=60.0)

    def _git_wrote(self, ch: FsChange) -> bool:
        """A lock held without a ref moving (restore, checkout -- file, or just `git status`):
        the new content must be a blob git has, or a deletion, for it to be git's write."""
        if ch.new is None or not isinstance(ch.new, bytes):
            return True
        sha = git_blob_sha(ch.new)
        git_dir = common_dir(ch.git.git_dir)
        if os.path.exists(os.path.join(git_dir, "objects", sha[:2], sha[2:])):
            return True
        try:
            import git  # noqa: PLC0415 - gitpython only when packs must be searched

            repo = self._git_repos.get(git_dir) or self._git_repos.setdefault(git_dir, git.Repo(git_dir))
            return bool(repo.odb.has_object(bytes.fromhex(sha)))
        except Exception:  # noqa: BLE001
            return False

    # -- the editor's side -----------------------------------------------------------------
    def on_event(self, event: dict[str, Any]) -> None:
        """Session bus callback (the sidecar's event thread): quick, under the state lock."""
        with self._lock:
            self.editor.on_event(event)

    def classify_edit(self, event: dict[str, Any]) -> tuple[str, str | None] | None:
        """The core's edit classifier: source of an editor edit the bridge did not label."""
        with self._lock:
            decided = self.editor.classify(event)
        event["_crowd_source"] = decided[0] if decided else None
        return decided

    # -- panic -----------------------------------------------------------------------------
    def panic(self, cutoff_t: int) -> None:
        with self._emit_lock, self._lock:
            self._held.clear()
            self.recorder.panic(cutoff_t)
