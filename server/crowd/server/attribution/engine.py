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
editor's events that explain them (the two channels race). An editor edit about to be
``agent`` on a buffer with unsaved edits may be a save participant's whose write has not
come yet: it waits for that write, 40 ms at the most (participants.py). Nothing else waits.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from crowd.server.attribution.agents import CLK_TCK
from crowd.server.attribution.decision import Decision
from crowd.server.attribution.diffs import as_text, diff_size
from crowd.server.attribution.editor_state import EditorState
from crowd.server.attribution.git import GitOp
from crowd.server.attribution.git_state import common_dir
from crowd.server.attribution.participants import edit_wall_ms, written_with
from crowd.server.attribution.recording import ChangeRecorder
from crowd.server.watch.batch import FsChange
from crowd.server.watch.content import COARSE_TICK_NS, read_content, written_ns

log = logging.getLogger(__name__)

GRACE_S = 0.6   # how long a disk change waits for the editor events that explain it
FOLLOW_MARGIN_MS = 10   # an edit this much later than the file's write followed it (reloads: >= 33 ms)
PROC_TICK_NS = 1_000_000_000 // CLK_TCK   # resolution of a process's start in /proc (10 ms)
RELOAD_GIT_S = 1.0   # a reload this soon after a git command ended is that command's (envelopes.json)

__all__ = ["Attributor", "Decision", "GRACE_S"]


@dataclass
class _Held:
    change: FsChange
    deadline: float


def followed_disk(event: dict[str, Any], path: str) -> bool:
    """The edit happened (the bridge's ``time``, epoch ms in the extension host) well after
    the file was last written: the buffer followed the disk, it did not lead it. A save
    writes after the edits it saves, a save participant's edit is made before the write; a
    reload comes after the write (33 ms at the least, measured: envelopes.json). This holds
    whatever the typing signals say: a reload on the cursor's line looks like typing."""
    stamped = event.get("time")
    if not isinstance(stamped, (int, float)) or isinstance(stamped, bool):
        return False
    try:
        written_ms = os.stat(path).st_mtime_ns / 1e6
    except OSError:
        return False
    return written_ms < float(stamped) - FOLLOW_MARGIN_MS


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
        self.stats_participants = 0   # edits classified as save participants
        self._wait_spent: set[str] = set()   # files whose participant wait found no write (participants.py)
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
                editor = self.editor
                woken_all = editor.woken_all
                if not self._held:
                    editor.woken, editor.woken_prefixes, editor.woken_all = set(), set(), False
                    return
                now = time.monotonic()
                keep: list[_Held] = []
                decided: list[tuple[FsChange, Decision]] = []
                for held in self._held:
                    final = force or held.deadline <= now
                    if not final and not woken_all and not editor.woke(held.change.rel):
                        keep.append(held)
                        continue
                    decision = self._decide(held.change, final=final, force=force)
                    if decision is None:
                        keep.append(held)
                    else:
                        decided.append((held.change, decision))
                self._held = keep
                editor.woken, editor.woken_prefixes, editor.woken_all = set(), set(), False
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
        hook = None
        if isinstance(ch.git, GitOp) and ch.git.label == "commit":
            # git commit never writes the work tree: a hook did (a pre-commit formatter)
            hook, ch.git = "commit", None
        if isinstance(ch.git, GitOp) and (ch.git.label != "restore" or self._git_wrote(ch)):
            decision = Decision(ch.git.source, extra={"git_op": ch.git.label})
            new_text = as_text(ch.new)
            if new_text is None or self.editor.take_reload(ch.rel, new_text) is None:
                self.editor.expect_reload(ch.rel, new_text, decision)
            # else the editor reloaded it already (labelled from the repository's state): the
            # buffer is clean again, holding this text
            return decision
        decision = self._decide_outside_git(ch, final)
        if decision is not None and hook is not None and decision.record:
            decision.extra["git_hook"] = hook
        return decision

    def _decide_outside_git(self, ch: FsChange, final: bool) -> Decision | None:
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
        return self._writer(ch, dirty=False, final=final)

    def _decide_open_document(self, ch: FsChange, doc: str, new_text: str, final: bool) -> Decision | None:
        state = self.editor.docs.get(ch.rel)
        reloaded = self.editor.take_reload(ch.rel, new_text)
        if reloaded is not None:
            # the editor reloaded this write into a clean buffer: the writer's, decided when
            # the reload arrived (with the same evidence this change carries)
            return reloaded
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
        dirty = state is not None and doc != state.synced and doc != new_text
        writer = self._writer(ch, dirty=dirty)
        assert writer is not None
        old_text = as_text(ch.old)
        if old_text is not None and doc != old_text and doc != new_text \
                and diff_size(doc, new_text) < diff_size(old_text, new_text):
            writer.base = doc   # written on top of the user's unsaved edits: only the writer's part
        if state is not None and doc == state.synced:
            self.editor.expect_reload(ch.rel, new_text, writer)
        elif state is not None and doc == new_text:
            state.synced = new_text
        return writer

    def _writer(self, ch: FsChange, dirty: bool, final: bool = True) -> Decision | None:
        """Who wrote outside the editor (``_writer_at``). A write that only a process scan
        would give to an agent waits (not ``final``) for the terminals' evidence: shell
        integration reports a user's command some time after it started."""
        decision = self._writer_at(ch.t_ns, dirty)
        if decision.extra.pop("scanned", None) and not final:
            return None
        return decision

    def _writer_at(self, t_ns: int, dirty: bool) -> Decision:
        """The terminal command shell integration reported running at ``t_ns`` (the one
        started last: a user's ``black`` beats a CLI agent idling in another terminal), else
        an agent process alive then (started before it, by /proc), else ``agent`` if the user
        had unsaved edits in that file (the specification's "the rest is an agent's"), else
        ``external``."""
        found = self.editor.command_at(t_ns)
        if found is not None:
            command, agent = found
            if agent is not None:
                return Decision("agent", agent=agent)
            return Decision("external", extra={"command": command})
        # the agent must have started before the write, certainly: the write is no earlier than
        # one coarse tick before t_ns (content.written_ns) and /proc truncates a start to its tick
        # (``black f.py && claude`` forks the agent within a millisecond of black's write: recorded
        # as the agent once in three suite runs under load 22). An agent's own write comes tens
        # of ms after its start at the least (an interpreter loads, it reads and thinks first).
        name = self.agents.agent_at(t_ns - COARSE_TICK_NS - PROC_TICK_NS) if self.agents is not None else None
        if name is not None:
            return Decision("agent", agent=name, extra={"scanned": True})
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
        return self._git_has(ch.git.git_dir, ch.new)

    def _git_has(self, git_dir: str, content: bytes) -> bool:
        sha = git_blob_sha(content)
        git_dir = common_dir(git_dir)
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
            kind = event.get("kind")
            if kind == "user_input" and event.get("what") != "terminal":
                self._wait_spent.clear()
            elif kind in ("document_save", "document_open", "document_close") and event.get("file"):
                self._wait_spent.discard(event["file"])

    def classify_edit(self, event: dict[str, Any]) -> tuple[str, str | None] | None:
        """The core's edit classifier: source of an editor edit the bridge did not label.

        An edit about to be ``agent`` that may be a save participant's whose write has not
        happened yet waits for that write (``participants.py``: 40 ms after the edit's stamp
        at the most, far less than a disk change waits for its editor events), without the
        state lock; the sidecar's next events wait behind it, so records stay in order."""
        with self._lock:
            decided = self._classify_reload(event) or self.editor.classify(event)
            waiting = self._participant_candidate(event, decided)
        if waiting is not None:
            rel, path, text = waiting
            found = written_with(path, text, edit_wall_ms(event), self._stop)
            with self._lock:
                if found:
                    self.stats_participants += 1
                    decided = ("user", None)
                else:
                    self._wait_spent.add(rel)
        event["_crowd_source"] = decided[0] if decided else None
        return decided

    def _participant_candidate(self, event: dict[str, Any],
                               decided: tuple[str, str | None] | None) -> tuple[str, str, str] | None:
        """(rel, path, buffer text) of an edit to hold for its save's write: called ``agent``
        for want of a keystroke (not a reload's writer: those leave the buffer in sync), on a
        buffer with unsaved edits before it. One such wait per file until the user's next
        input or a save of that file: an inline agent streaming edits into a dirty buffer
        pays it once, not per edit."""
        if decided != ("agent", None) or event.get("reason") in ("undo", "redo"):
            return None
        doc = self.session.documents.get(event.get("uri"))
        if doc is None or doc.rel is None or doc.rel in self._wait_spent:
            return None
        state = self.editor.docs.get(doc.rel)
        if state is None or doc.text == state.synced or self.editor.was_clean(doc.rel):
            return None
        path = self.session.workspace.abs_path(doc.rel)
        return (doc.rel, str(path), doc.text) if path is not None else None

    def _classify_reload(self, event: dict[str, Any]) -> tuple[str, str | None] | None:
        """An edit after which the buffer equals what is on disk, that no input or user
        command explains, followed the disk rather than led it:

        - the buffer was clean before (or the bridge says it is clean after: ``dirty:
          false``): the editor reloaded another process's write; the edit is the writer's,
          even when a typing signal seems to license it, if it came well after the write
          (``followed_disk``: a reload on the cursor's line looks like typing to the bridge);
          decided now with the evidence its disk change carries (git's lock, terminal
          commands, agents) and kept for that change, which may not have reached the
          watcher yet;
        - the buffer was dirty before: a save participant (format on save, trim whitespace,
          code actions on save). Measured in code-server (envelopes.json): its edit reaches
          us up to 38 ms after the save's write, so the disk already holds it; the user's.
          When it comes first (up to 20 ms before the write), ``classify_edit`` waits for
          the write (participants.py).
        """
        if event.get("reason") in ("undo", "redo") or event.get("dirty") is True:
            return None
        doc = self.session.documents.get(event.get("uri"))
        if doc is None or doc.rel is None or doc.rel not in self.editor.docs:
            return None
        rel, text = doc.rel, doc.text
        if self.editor.expecting_reload(rel, text) or text == self.editor.docs[rel].synced:
            return None   # already decided (editor.classify), or a revert to what was on disk
        path = self.session.workspace.abs_path(rel)
        # a clean buffer that changed well after the file's write followed the disk (a save
        # participant's edit, on a dirty buffer, may also be stamped after the save's write)
        certain = event.get("dirty") is False or (
            path is not None and self.editor.was_clean(rel) and followed_disk(event, str(path)))
        if not certain and self.editor.input_explains(event):
            return None
        held = next((h.change for h in self._held if h.change.rel == rel and h.change.new is not None
                     and as_text(h.change.new) == text), None)
        if held is None:
            content = read_content(str(path)) if path is not None else None
            if as_text(content) != text:
                return None   # the buffer does not hold what is on disk
        if not certain and not self.editor.was_clean(rel):
            self.stats_participants += 1
            return "user", None
        if held is not None:
            writer = self._reload_writer(held.git, held.t_ns)
        else:
            # not handed over by the watcher yet (a loaded machine): the writer is whoever
            # ran when the file was written (its mtime), not when this reload arrived
            writer = self._git_evidence_now(str(path), content) or \
                self._reload_writer(self._git_now(str(path)), written_ns(str(path), time.monotonic_ns()))
        self.editor.note_reload(rel, text, writer, certain)
        return writer.source, writer.agent

    def _reload_writer(self, git: Any, t_ns: int) -> Decision:
        if isinstance(git, GitOp) and git.label != "commit":
            return Decision(self.git.source_now(git) if self.git is not None else git.source,
                            extra={"git_op": git.label})
        decision = self._writer_at(t_ns, dirty=False)
        decision.extra.pop("scanned", None)
        return decision

    def _git_evidence_now(self, abs_path: str, content: Any) -> Decision | None:
        """A reload can reach us before the watcher handled git's events (33 ms after the
        command returned, measured): read the repository itself. A lock, a moved HEAD, a new
        reflog entry; a command the monitor has just finished whose changes the watcher has
        not handed over yet (it wrote this file: its own source, not the fallback's); or
        (``git restore``, which leaves neither) an index written within RELOAD_GIT_S and
        content that is a blob git has."""
        if self.git is None or self.git.committed_only(abs_path):
            return None   # a commit's hook wrote it (a pre-commit formatter), not git
        source = self.git.unseen_op(abs_path)
        if source is None:
            # finished, its changes not handed over yet: the reload is that command's
            done = self.git.finished_op_that_wrote(abs_path, RELOAD_GIT_S)
            if done is not None:
                return Decision(done.source, extra={"git_op": done.label})
            age = self.git.index_age_s(abs_path)
            found = self.git.repo_of(abs_path)
            if age is not None and age <= RELOAD_GIT_S and found is not None and isinstance(content, bytes) \
                    and self._git_has(found[0], content):
                source = "git"
        return Decision(source, extra={"git_op": "unfinished"}) if source is not None else None

    def _git_now(self, abs_path: str) -> GitOp | None:
        """The git command holding the lock of this path's repository now, if any."""
        if self.git is None or self.git.committed_only(abs_path):
            return None
        op = self.git.current_op(abs_path)
        if op is None:
            info = self.git.repo_of(abs_path)
            op = self.git.recent_op(info[0], within_s=RELOAD_GIT_S) if info is not None else None
        return op

    # -- panic -----------------------------------------------------------------------------
    def panic(self, cutoff_t: int) -> None:
        with self._emit_lock, self._lock:
            self._held.clear()
            self.recorder.panic(cutoff_t)
