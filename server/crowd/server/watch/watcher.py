"""One watchdog observer (a recursive watch per workspace folder), coalesced into per-path changes.

WHY compare instead of trusting events: editors and tools save in many ways (write in place,
write-then-rename, vim's f -> f~ / new f / delete f~, git deleting and recreating files), and
inotify can drop events under load. Events here only say *which paths to look at*; the
change reported is always "known content -> content on disk now", so the baseline ends
equal to the disk whatever the event sequence was.

Raw events are queued by watchdog's thread in the order the kernel produced them (one
inotify queue, observer.py), and a worker thread drains them in that order. Events under
``.git`` go to an optional ``git`` hook first, so a worktree event can be tagged with the git
operation that was running (index.lock held) when it happened, not guessed from a time window.

A batch goes through named phases (``_one_batch``): take the events, sort them (batch.py),
expand vanished and new directories, rescan after lost events, hold what a running git
command wrote, release what is ready, compare with the disk and report.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from crowd.server.watch.batch import EventBatch, FsChange, Touch, collect, pair_renames
from crowd.server.watch.content import (
    MAX_CONTENT_BYTES, Baseline, Content, LargeFile, Link, MemoryBaseline, read_content, written_ns,
)
from crowd.server.watch.drain import pass_fence
from crowd.server.watch.observer import FolderObserver, RawEvent
from crowd.server.watch.roots import Roots
from crowd.server.workspace.ignore import matchable

log = logging.getLogger(__name__)

# Editor scratch files that are never content (vim swap/backup and its 4913 probe, emacs locks).
DEFAULT_EXCLUDES = ("*.swp", "*.swx", "*.swo", "*~", ".#*", "4913", "*.crowdtmp")
# GNU sed -i's temporary file (mkostemp "sedXXXXXX" next to the file, renamed over it). A new
# file so named is held until it is gone (renamed) or TEMP_HOLD_S old: on a loaded machine sed
# stalled between the two longer than a batch waits (timed suite, load 14-22: recorded as a
# create in 1 of 3 runs). A real file so named is recorded TEMP_HOLD_S late, nothing lost.
SED_TEMP = re.compile(r"sed[A-Za-z0-9]{6}")
TEMP_HOLD_S = 2.0

__all__ = ["DEFAULT_EXCLUDES", "MAX_CONTENT_BYTES", "Baseline", "Content", "FsChange", "GitHook", "LargeFile",
           "Link", "MemoryBaseline", "WorkspaceWatcher", "read_content"]


class GitHook(Protocol):
    def is_git_path(self, abs_path: str) -> bool: ...
    def watch_paths(self, roots: list[Path]) -> list[str]: ...
    def observe(self, event_type: str, abs_path: str, dest: str | None) -> None: ...
    def current_op(self, abs_path: str) -> Any: ...
    def op_finished(self, op: Any) -> bool: ...
    def busy(self) -> bool: ...
    def set_backlog(self, backlog: Callable[[], int]) -> None: ...


class WorkspaceWatcher:
    """Watches ``roots``, keeps ``baseline`` equal to the disk and reports each change.

    ``on_changes(list[FsChange])`` runs on the watcher's worker thread, in the order the
    changes were coalesced; the baseline already holds the *old* content when it runs
    and is updated right after, so a consumer can snapshot the workspace as it was.
    """

    def __init__(
        self,
        roots: Roots,
        baseline: Baseline,
        on_changes: Callable[[list[FsChange]], None],
        *,
        git: GitHook | None = None,
        settle_s: float = 0.05,
        max_batch_s: float = 0.5,
        excludes: Iterable[str] = DEFAULT_EXCLUDES,
    ) -> None:
        import pathspec

        self.roots = roots
        self.baseline = baseline
        self.on_changes = on_changes
        self.git = git
        self.settle_s = settle_s
        self.max_batch_s = max_batch_s
        self._excludes = pathspec.GitIgnoreSpec.from_lines(list(excludes))
        self._queue: deque[RawEvent] = deque()
        self._wake = threading.Event()
        self._overflow = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._held: dict[str, Touch] = {}   # paths awaiting the end of the git op that wrote them
        self._observer: FolderObserver | None = None
        self._prepare: Callable[[], None] | None = None
        self.ready = threading.Event()     # set once prepare ran and batches are handled
        self._rescanned: set[str] = set()
        self._temp_held: dict[str, tuple[Touch, float]] = {}   # sed temp files: (touch, held since)
        if git is not None:
            git.set_backlog(lambda: len(self._queue))
        self.overflows = 0
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.events_seen = 0
        self.errors: list[BaseException] = []
        self.nested_git: set[str] = set()   # .git folders the last walk met (repositories in the folders)
        # linked subfolders leading out of every folder: real target -> the link's path inside
        self.linked: dict[str, str] = {}
        self._linked_watched: set[str] = set()

    # -- life cycle -------------------------------------------------------------------------
    def initial_scan(self) -> int:
        """Load the baseline with every watched file (once, before watching starts)."""
        n = 0
        for rel, abs_path in self.files():
            content = read_content(abs_path)
            if content is not None:
                self.baseline.set(rel, content)
                n += 1
        return n

    def start(self, *, scan: bool = True, prepare: Callable[[], None] | None = None) -> None:
        """Start watching. ``prepare`` runs on the worker thread before the first batch is
        handled (events queue meanwhile), e.g. to wait for a cache's own initial scan."""
        if scan:
            self.initial_scan()
        self._prepare = prepare
        self._observer = FolderObserver(self._push, self._overflow.set)
        for path in self.roots.paths():
            self._observer.watch(str(path), recursive=True)
        # git dirs outside the folders (a sub-project opened alone, worktrees): their lock only
        for git_dir in (self.git.watch_paths(self.roots.paths()) if self.git is not None else []):
            self._observer.watch(git_dir, recursive=False)
        self._observer.start()
        self._watch_linked()
        self._thread = threading.Thread(target=self._run, name="crowd-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching, after recording every change the kernel reported before this call.

        The fence (drain.py) brings what is still inside watchdog into our queue; the worker
        then handles it in one last batch (git-held paths included) before it exits."""
        if self._observer is not None and self._thread is not None and self._thread.is_alive() \
                and self.ready.is_set() and not self._stop.is_set():
            if pass_fence(self._observer):
                self._observer.wait_held_moves()
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _watch_linked(self) -> None:
        """Watch the targets of linked subfolders (inotify does not follow links); their
        events are renamed back to the paths through the link (``_push``)."""
        if self._observer is None:
            return
        for target in list(self.linked):
            if target not in self._linked_watched:
                self._linked_watched.add(target)
                try:
                    self._observer.watch(target, recursive=True)
                except OSError as exc:
                    log.error("cannot watch a linked subfolder: %s", exc.strerror or exc)

    def _through_link(self, path: str | None) -> str | None:
        if not path or not self.linked:
            return path
        for target, link in list(self.linked.items()):
            if path == target or path.startswith(target + os.sep):
                return link + path[len(target):]
        return path

    def _push(self, event: RawEvent) -> None:
        if self.linked:
            t_ns, kind, src, dest, is_dir = event
            event = RawEvent(t_ns, kind, self._through_link(src) or src, self._through_link(dest), is_dir)
        self._queue.append(event)
        self._idle.clear()
        self._wake.set()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until every queued event has been processed and nothing is held."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._idle.wait(timeout=0.05) and not self._queue and not self._held:
                return True
        return False

    # -- what is watched --------------------------------------------------------------------
    def excluded(self, rel: str, is_dir: bool = False) -> bool:
        """An editor scratch file, or ignored (.gitignore, the folders' excludes)."""
        name = rel.rpartition("/")[2]
        if not is_dir and self._excludes.match_file(matchable(name)):
            return True
        return self.roots.is_ignored(rel, is_dir)

    def files(self, under: str | None = None) -> Iterable[tuple[str, str]]:
        """(rel, abs) of every watched (not ignored) file, below ``under`` (absolute) or in
        every folder. Links are entries, never followed."""
        starts = [under] if under else [str(p) for p in self.roots.paths()]
        linked: list[str] = []
        for start in starts:
            for dirpath, dirnames, filenames in os.walk(start):
                keep = []
                for d in dirnames:
                    full = os.path.join(dirpath, d)
                    if d == ".git":
                        self.nested_git.add(full)   # a repository below a folder (discovered for git.py)
                        continue
                    rel = self.roots.to_rel(full)
                    if rel is None or self.excluded(rel, True):
                        continue
                    if os.path.islink(full):
                        filenames.append(d)  # a link to a directory is an entry...
                        linked.append(full)  # ...and, leading out of every folder, walked and watched
                        continue
                    keep.append(d)
                dirnames[:] = keep
                for f in filenames:
                    full = os.path.join(dirpath, f)
                    rel = self.roots.to_rel(full)
                    if rel is not None and not self.excluded(rel):
                        yield rel, full
        for link in linked:
            target = os.path.realpath(link)
            inside = any(target == str(p) or target.startswith(str(p) + os.sep) for p in self.roots.paths())
            if inside or not os.path.isdir(target) or target in self.linked:
                continue   # inside a folder (watched there), dangling, or met already (a cycle)
            self.linked[target] = link
            yield from self.files(link)

    # -- worker -----------------------------------------------------------------------------
    def _run(self) -> None:
        if self._prepare is not None:
            try:
                self._prepare()
            except Exception as exc:  # noqa: BLE001
                log.exception("watch preparation failed")
                self.errors.append(exc)
        self._watch_linked()
        self.ready.set()
        while not self._stop.is_set():
            if not self._queue and not self._held and not self._temp_held and not self._overflow.is_set():
                self._idle.set()
            self._wake.wait(timeout=0.2)
            self._wake.clear()
            stopping = self._stop.is_set()
            if stopping and not self._queue and not self._held and not self._temp_held:
                break
            try:
                self._one_batch(final=stopping)
            except Exception as exc:  # noqa: BLE001 - a bad batch must not stop the watcher
                log.exception("watch batch failed")
                self.errors.append(exc)
            if stopping:
                break

    def _one_batch(self, final: bool = False) -> None:
        """Handle the queued events; ``final`` (stopping) also releases paths still held for
        a running git operation: the session ends, nothing will come after them."""
        events = self._take_events()
        self.events_seen += len(events)
        batch = collect(events, self.roots.to_rel, self.git)
        self._expand_gone_dirs(batch)
        if batch.gitignore_changed:
            self.roots.invalidate()
        self._expand_new_dirs(batch)
        self._watch_linked()
        self._rescan_after_lost_events(batch)
        self._hold_for_git(batch.touched)
        changes = self._compare(self._hold_temp_files(self._release(final), final), batch.moves)
        if changes:
            self._report(changes)

    # -- the phases of a batch --------------------------------------------------------------
    def _take_events(self) -> list[RawEvent]:
        """Take events until the stream is quiet for ``settle_s`` or the batch is old enough."""
        events: list[RawEvent] = []
        started = time.monotonic()
        while True:
            while self._queue:
                events.append(self._queue.popleft())
            if time.monotonic() - started >= self.max_batch_s:
                break
            self._wake.clear()
            if not self._queue and not self._wake.wait(timeout=self.settle_s) and not self._queue:
                break
        return events

    def _expand_gone_dirs(self, batch: EventBatch) -> None:
        """Every known path below a directory deleted or moved away (one pass over them)."""
        if not batch.gone_dirs:
            return
        prefixes = tuple(gone.prefix for gone in batch.gone_dirs)
        for known in self.baseline.paths():
            if known.startswith(prefixes):
                for gone in batch.gone_dirs:
                    if known.startswith(gone.prefix):
                        batch.touch(known, gone.op, gone.t_ns)
                        break

    def _expand_new_dirs(self, batch: EventBatch) -> None:
        """Every file below a directory created or moved in (its own events may be missing:
        files written before the watch on the new directory was added)."""
        for new in batch.new_dirs:
            for rel, _ in self.files(new.path):
                batch.touched.setdefault(rel, Touch(new.op, new.t_ns))

    def _rescan_after_lost_events(self, batch: EventBatch) -> None:
        """Events were lost: once no git command is running any more, compare everything.
        Those changes carry ``rescan`` (their order and git tags are unknown)."""
        if not self._overflow.is_set() or (self.git is not None and self.git.busy()) or \
                any(held.op is not None and not self._finished(held.op) for held in self._held.values()):
            return
        self._overflow.clear()
        now = time.monotonic_ns()
        for rel, _ in self.files():
            batch.touched.setdefault(rel, Touch(None, now))
            self._rescanned.add(rel)
        for rel in self.baseline.paths():
            batch.touched.setdefault(rel, Touch(None, now))
            self._rescanned.add(rel)

    def _hold_for_git(self, touched: dict[str, Touch]) -> None:
        """Paths written by a git operation that is still running wait for it to finish."""
        for rel, touch in touched.items():
            prev = self._held.get(rel)
            op = touch.op
            if op is None and prev is not None and prev.op is not None and not self._finished(prev.op):
                op = prev.op  # the running git operation wrote it first and still owns it
            self._held[rel] = Touch(op, prev.t_ns if prev else touch.t_ns)

    def _release(self, final: bool) -> dict[str, Touch]:
        """Changes are released in event order: while a git operation that wrote earlier is
        still running, later changes (of any writer) wait behind it."""
        if final or not any(held.op is not None and not self._finished(held.op) for held in self._held.values()):
            ready, self._held = self._held, {}
            return ready
        return {}

    def _hold_temp_files(self, ready: dict[str, Touch], final: bool) -> dict[str, Touch]:
        """Hold new ``sedXXXXXX`` files until they are gone or TEMP_HOLD_S old (SED_TEMP);
        those held before are looked at again in every batch."""
        now = time.monotonic()
        for rel, (touch, _) in self._temp_held.items():
            ready.setdefault(rel, touch)
        out: dict[str, Touch] = {}
        for rel, touch in ready.items():
            held = self._temp_held.pop(rel, None)
            since = held[1] if held is not None else now
            if not final and now - since < TEMP_HOLD_S and SED_TEMP.fullmatch(rel.rpartition("/")[2]) \
                    and self.baseline.get(rel) is None and os.path.lexists(self.roots.to_abs(rel)):
                self._temp_held[rel] = (touch, since)
            else:
                out[rel] = touch
        return out

    def _finished(self, op: Any) -> bool:
        return self.git is None or self.git.op_finished(op)

    def _compare(self, ready: dict[str, Touch], moves: dict[str, str]) -> list[FsChange]:
        """Known content -> content on disk now, for every released path that differs."""
        changes: dict[str, FsChange] = {}
        for rel in sorted(ready):
            op, t_ns = ready[rel]
            excluded = self.excluded(rel)
            old = self.baseline.get(rel)
            abs_path = str(self.roots.to_abs(rel))
            new = None if excluded else read_content(abs_path)
            if old == new:
                continue
            if new is not None:   # the write's own time, however late its event was handled
                t_ns = written_ns(abs_path, t_ns)
            if old is None:
                kind = "create"
            elif new is None:
                kind = "delete"
            else:
                kind = "change"
            changes[rel] = FsChange(rel, kind, old, new, git=op, t_ns=t_ns, rescan=rel in self._rescanned)
        pair_renames(changes, moves)
        self._rescanned.difference_update(ready)
        return sorted(changes.values(), key=lambda c: (c.t_ns, c.rel))

    def _report(self, changes: list[FsChange]) -> None:
        """Hand the changes over while the baseline still holds the old contents, then update it."""
        self.batches += 1
        self.on_changes(changes)
        for ch in changes:
            if ch.change == "rename" and ch.old_rel:
                self.baseline.remove(ch.old_rel)
            if ch.new is None:
                self.baseline.remove(ch.rel)
            else:
                self.baseline.set(ch.rel, ch.new)
