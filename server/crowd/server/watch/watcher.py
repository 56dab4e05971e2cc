"""One watchdog observer per workspace folder, coalesced into per-path changes.

WHY compare instead of trusting events: editors and tools save in many ways (write in place,
write-then-rename, vim's f -> f~ / new f / delete f~, git deleting and recreating files), and
inotify can drop events under load. Events here only say *which paths to look at*; the
change reported is always "known content -> content on disk now", so the baseline ends
equal to the disk whatever the event sequence was.

Raw events are queued by watchdog's thread in the order the kernel produced them (one
inotify queue), and a worker thread drains them in that order. Events under ``.git`` go to
an optional ``git`` hook first, so a worktree event can be tagged with the git operation
that was running (index.lock held) when it happened, not guessed from a time window.
"""
from __future__ import annotations

import hashlib
import logging
import os
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from crowd.server.watch.drain import pass_fence, wait_delayed_moves
from crowd.server.watch.roots import Roots

log = logging.getLogger(__name__)

# Editor scratch files that are never content (vim swap/backup and its 4913 probe, emacs locks).
DEFAULT_EXCLUDES = ("*.swp", "*.swx", "*.swo", "*~", ".#*", "4913", "*.crowdtmp")
MAX_CONTENT_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Link:
    """A symbolic link, recorded by its target and never followed (it may point outside)."""
    target: str


@dataclass(frozen=True)
class LargeFile:
    """A file above MAX_CONTENT_BYTES: known by size and hash only."""
    size: int
    sha256: str


Content = bytes | Link | LargeFile


@dataclass
class FsChange:
    rel: str
    change: str                  # create | change | delete | rename
    old: Content | None
    new: Content | None
    old_rel: str | None = None
    git: Any = None              # the git operation that was running, from the git hook
    t_ns: int = 0                # monotonic time of the first event on this path
    rescan: bool = False         # found by a full rescan after lost events (no order, no git tag)


class Baseline(Protocol):
    """The last known content of every watched file (the sidecar's cache implements it)."""
    def get(self, rel: str) -> Content | None: ...
    def set(self, rel: str, content: Content) -> None: ...
    def remove(self, rel: str) -> None: ...
    def paths(self) -> Iterable[str]: ...


class MemoryBaseline:
    """A plain dict baseline, used standalone and by the benchmarks."""

    def __init__(self) -> None:
        self.data: dict[str, Content] = {}
        self._lock = threading.Lock()

    def get(self, rel: str) -> Content | None:
        return self.data.get(rel)

    def set(self, rel: str, content: Content) -> None:
        with self._lock:
            self.data[rel] = content

    def remove(self, rel: str) -> None:
        with self._lock:
            self.data.pop(rel, None)

    def paths(self) -> list[str]:
        with self._lock:
            return list(self.data)


class GitHook(Protocol):
    def is_git_path(self, abs_path: str) -> bool: ...
    def watch_paths(self, roots: list[Path]) -> list[str]: ...
    def observe(self, event_type: str, abs_path: str, dest: str | None) -> None: ...
    def current_op(self, abs_path: str) -> Any: ...
    def op_finished(self, op: Any) -> bool: ...
    def busy(self) -> bool: ...


def read_content(abs_path: str) -> Content | None:
    """What is at ``abs_path`` now: bytes, a Link, a LargeFile, or None (absent/not a file)."""
    try:
        st = os.lstat(abs_path)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        try:
            return Link(os.readlink(abs_path))
        except OSError:
            return None
    if not stat.S_ISREG(st.st_mode):
        return None
    try:
        if st.st_size > MAX_CONTENT_BYTES:
            h = hashlib.sha256()
            with open(abs_path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            return LargeFile(st.st_size, h.hexdigest())
        with open(abs_path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


class _Overflow(logging.Handler):
    """watchdog reports a kernel queue overflow only in its log; turn that into a rescan."""

    def __init__(self, flag: threading.Event) -> None:
        super().__init__(logging.WARNING)
        self.flag = flag

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            log.warning("watch: events were lost (inotify queue overflow); rescanning")
            self.flag.set()


class _Handler(FileSystemEventHandler):
    def __init__(self, sink: Callable[[tuple], None]) -> None:
        self.sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        et = event.event_type
        if et in ("opened", "closed_no_write"):
            return
        src = os.fsdecode(event.src_path)
        dest = os.fsdecode(event.dest_path) if event.dest_path else None
        self.sink((time.monotonic_ns(), et, src, dest, event.is_directory))


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
        self._queue: deque[tuple] = deque()
        self._wake = threading.Event()
        self._overflow = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._held: dict[str, tuple[Any, int]] = {}   # rel -> (git op, first t_ns) awaiting op end
        self._observer: Any = None
        self._prepare: Callable[[], None] | None = None
        self.ready = threading.Event()     # set once prepare ran and batches are handled
        self._rescanned: set[str] = set()
        if git is not None and hasattr(git, "backlog"):
            git.backlog = lambda: len(self._queue)   # type: ignore[attr-defined]
        self.overflows = 0
        self._thread: threading.Thread | None = None
        self._log_handler = _Overflow(self._overflow)
        self.batches = 0
        self.events_seen = 0
        self.errors: list[BaseException] = []

    # -- life cycle -------------------------------------------------------------------------
    def initial_scan(self) -> int:
        """Load the baseline with every watched file (once, before watching starts)."""
        n = 0
        for rel, abs_path in self._walk_all():
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
        logging.getLogger("watchdog.observers.inotify_c").addHandler(self._log_handler)
        logging.getLogger("watchdog.observers.inotify").addHandler(self._log_handler)
        self._observer = Observer()
        handler = _Handler(self._push)
        for path in self.roots.paths():
            self._observer.schedule(handler, str(path), recursive=True)
        # git dirs outside the folders (a sub-project opened alone, worktrees): their lock only
        for git_dir in (self.git.watch_paths(self.roots.paths()) if self.git is not None else []):
            self._observer.schedule(handler, git_dir, recursive=False)
        self._observer.start()
        self._thread = threading.Thread(target=self._run, name="crowd-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching, after recording every change the kernel reported before this call.

        The fence (drain.py) brings what is still inside watchdog into our queue; the worker
        then handles it in one last batch (git-held paths included) before it exits."""
        if self._observer is not None and self._thread is not None and self._thread.is_alive() \
                and self.ready.is_set() and not self._stop.is_set():
            if pass_fence(self._observer):
                wait_delayed_moves(self._observer)
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=10)
        for name in ("watchdog.observers.inotify_c", "watchdog.observers.inotify"):
            logging.getLogger(name).removeHandler(self._log_handler)

    def _push(self, item: tuple) -> None:
        self._queue.append(item)
        self._idle.clear()
        self._wake.set()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until every queued event has been processed and nothing is held."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._idle.wait(timeout=0.05) and not self._queue and not self._held:
                return True
        return False

    # -- helpers ----------------------------------------------------------------------------
    def _excluded(self, rel: str, is_dir: bool = False) -> bool:
        name = rel.rpartition("/")[2]
        if not is_dir and self._excludes.match_file(name):
            return True
        return self.roots.is_ignored(rel, is_dir)

    def _walk_all(self, under: str | None = None) -> Iterable[tuple[str, str]]:
        """(rel, abs) of every non-ignored file, below ``under`` (absolute) or everywhere."""
        starts = [under] if under else [str(p) for p in self.roots.paths()]
        for start in starts:
            for dirpath, dirnames, filenames in os.walk(start):
                keep = []
                for d in dirnames:
                    full = os.path.join(dirpath, d)
                    rel = self.roots.to_rel(full)
                    if rel is None or self._excluded(rel, True):
                        continue
                    if os.path.islink(full):
                        filenames.append(d)  # a link to a directory is an entry, not followed
                        continue
                    keep.append(d)
                dirnames[:] = keep
                for f in filenames:
                    full = os.path.join(dirpath, f)
                    rel = self.roots.to_rel(full)
                    if rel is not None and not self._excluded(rel):
                        yield rel, full

    # -- worker -----------------------------------------------------------------------------
    def _run(self) -> None:
        if self._prepare is not None:
            try:
                self._prepare()
            except Exception as exc:  # noqa: BLE001
                log.exception("watch preparation failed")
                self.errors.append(exc)
        self.ready.set()
        while not self._stop.is_set():
            if not self._queue and not self._held and not self._overflow.is_set():
                self._idle.set()
            self._wake.wait(timeout=0.2)
            self._wake.clear()
            stopping = self._stop.is_set()
            if stopping and not self._queue and not self._held:
                break
            try:
                self._one_batch(final=stopping)
            except Exception as exc:  # noqa: BLE001 - a bad batch must not stop the watcher
                log.exception("watch batch failed")
                self.errors.append(exc)
            if stopping:
                break

    def _drain(self) -> list[tuple]:
        """Take events until the stream is quiet for ``settle_s`` or the batch is old enough."""
        items: list[tuple] = []
        started = time.monotonic()
        while True:
            while self._queue:
                items.append(self._queue.popleft())
            if time.monotonic() - started >= self.max_batch_s:
                break
            self._wake.clear()
            if not self._queue and not self._wake.wait(timeout=self.settle_s) and not self._queue:
                break
        return items

    def _one_batch(self, final: bool = False) -> None:
        """Handle the queued events; ``final`` (stopping) also releases paths still held for
        a running git operation: the session ends, nothing will come after them."""
        items = self._drain()
        self.events_seen += len(items)
        touched: dict[str, tuple[Any, int]] = {}     # rel -> (git op or None, first t)
        scans: list[tuple[str, Any, int]] = []       # created/moved-in directories to walk
        moves: dict[str, str] = {}                   # dest rel -> src rel
        gone_dirs: list[tuple[str, Any, int]] = []   # (rel prefix, git op, t) of vanished directories
        gitignore_changed = False
        git = self.git
        for t_ns, et, src, dest, is_dir in items:
            if git is not None and git.is_git_path(src):
                git.observe(et, src, dest)
                if not (dest and not git.is_git_path(dest)):
                    continue
            op = git.current_op(src) if git is not None else None
            for path in (src, dest):
                if not path or (git is not None and git.is_git_path(path)) or "/.git/" in path:
                    continue
                rel = self.roots.to_rel(path)
                if rel is None:
                    continue
                if rel.rpartition("/")[2] == ".gitignore":
                    gitignore_changed = True
                if is_dir:
                    if (et == "created" and path == src) or (et == "moved" and path == dest):
                        scans.append((path, op, t_ns))
                    elif et in ("deleted", "moved") and path == src:
                        gone_dirs.append((rel + "/", op, t_ns))
                    continue
                first = touched.get(rel)
                touched[rel] = (op, first[1] if first else t_ns)
            if et == "moved" and dest:
                s, d = self.roots.to_rel(src), self.roots.to_rel(dest)
                if s and d:
                    if is_dir:
                        moves[d + "/"] = s + "/"
                    else:
                        moves[d] = s
        if gone_dirs:   # one pass over the known paths for every directory deleted or moved away
            prefixes = tuple(p for p, _, _ in gone_dirs)
            for known in self.baseline.paths():
                if known.startswith(prefixes):
                    for prefix, op, t_ns in gone_dirs:
                        if known.startswith(prefix):
                            first = touched.get(known)
                            touched[known] = (op, first[1] if first else t_ns)
                            break
        if gitignore_changed:
            self.roots.invalidate()
        for path, op, t_ns in scans:
            for rel, _ in self._walk_all(path):
                touched.setdefault(rel, (op, t_ns))
        # Events were lost: once no git command is running any more, compare everything.
        # Those changes carry ``rescan`` (their order and git tags are unknown).
        if self._overflow.is_set() and not (self.git is not None and self.git.busy()) and \
                not any(op is not None and not self._finished(op) for op, _ in self._held.values()):
            self._overflow.clear()
            now = time.monotonic_ns()
            for rel, _ in self._walk_all():
                touched.setdefault(rel, (None, now))
                self._rescanned.add(rel)
            for rel in self.baseline.paths():
                touched.setdefault(rel, (None, now))
                self._rescanned.add(rel)
        # Paths written by a git operation that is still running wait for it to finish.
        for rel, (op, t_ns) in touched.items():
            prev = self._held.get(rel)
            if op is None and prev is not None and prev[0] is not None and not self._finished(prev[0]):
                op = prev[0]  # the running git operation wrote it first and still owns it
            self._held[rel] = (op, prev[1] if prev else t_ns)
        # Changes are released in event order: while a git operation that wrote earlier is
        # still running, later changes (of any writer) wait behind it.
        ready = {}
        if final or not any(op is not None and not self._finished(op) for op, _ in self._held.values()):
            ready, self._held = self._held, {}
        changes = self._compare(ready, moves)
        self._rescanned.difference_update(ready)
        if changes:
            self.batches += 1
            self.on_changes(changes)
            for ch in changes:
                if ch.change == "rename" and ch.old_rel:
                    self.baseline.remove(ch.old_rel)
                if ch.new is None:
                    self.baseline.remove(ch.rel)
                else:
                    self.baseline.set(ch.rel, ch.new)

    def _finished(self, op: Any) -> bool:
        return self.git is None or self.git.op_finished(op)

    def _compare(self, ready: dict[str, tuple[Any, int]], moves: dict[str, str]) -> list[FsChange]:
        changes: dict[str, FsChange] = {}
        for rel in sorted(ready):
            op, t_ns = ready[rel]
            excluded = self._excluded(rel)
            old = self.baseline.get(rel)
            new = None if excluded else read_content(str(self.roots.to_abs(rel)))
            if old == new:
                continue
            if old is None:
                kind = "create"
            elif new is None:
                kind = "delete"
            else:
                kind = "change"
            changes[rel] = FsChange(rel, kind, old, new, git=op, t_ns=t_ns, rescan=rel in self._rescanned)
        # A move whose source disappeared and whose destination appeared is one rename.
        for dest, ch in list(changes.items()):
            if ch.change != "create":
                continue
            src = moves.get(dest)
            if src is None:
                for d, s in moves.items():
                    if d.endswith("/") and dest.startswith(d):
                        src = s + dest[len(d):]
                        break
            gone = changes.get(src) if src else None
            if gone is not None and gone.change == "delete":
                ch.change, ch.old_rel, ch.old = "rename", src, gone.old
                del changes[src]
        return sorted(changes.values(), key=lambda c: (c.t_ns, c.rel))
