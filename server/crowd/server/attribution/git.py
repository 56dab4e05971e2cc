"""Git operations read from the repository's own state, not from a time window.

WHY: crowd-code 2.0 called a change "git" when .git/HEAD or refs moved within 500 ms, so
long checkouts leaked into "agent" and ``git restore`` / ``git checkout -- file`` (no ref
change) were never git. Every git command that writes the work tree holds
``.git/index.lock`` while it does so (checkout, switch, reset, restore, stash, merge, pull,
rebase, cherry-pick...). Watchdog delivers the lock's creation and removal in the same
ordered stream as the work-tree events, so a work-tree event seen while the lock is held
belongs to that git operation however long it runs. When the lock goes away the operation
is over: HEAD is compared with its value at the end of the previous operation (commit or
branch changed => ``git_checkout``), and new reflog entries name the operation.

Two commands close together are two operations. The watcher hands events over in batches
(up to 0.5 s of them), so the time an event is *handled* says nothing about how far apart
two commands ran: each event carries the time watchdog's thread received it (inotify,
monotonic), and a lock cycle that starts GROUP_QUIET_S or more after the previous release,
by those times, ends the previous operation. A command with no next one still ends
GROUP_QUIET_S after its release was *handled*, as before (with receipt times there too, one
timed-suite run recorded a reload sent 0.31 s after a fast-forward merge as ``git``, not
``git_checkout``: the finish moved into the reload's window). An operation ended by the
next one is finished after the fact, when the repository already shows the next command's
result, so it takes its outcome from its own share of the reflog: the event stream shows
each HEAD ref update as a ``HEAD.lock`` cycle in which ``logs/HEAD`` is written (measured
with git 2.39 and watchdog 7.1: checkout, commit, reset, merge, pull, rebase and stash all
update HEAD that way, after or inside their last index.lock cycle and before the next
command's first one; a checkout to the same detached commit takes HEAD.lock and writes no
line, hence "in which logs/HEAD is written"), and ``refs/stash.lock`` marks a stash change.
A single command is finished as before, from HEAD and refs/stash read when it ends.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crowd.server.attribution.git_state import (
    HeadState, ReflogEntry, common_dir, names_a_move, read_head, reflog_label, reflog_outcome, stash_sha,
)

STALE_LOCK_S = 2.0  # a held lock with no git process alive for this long is stale
GROUP_QUIET_S = 0.3  # lock cycles closer than this (by the events' receipt times) are one command

_ids = itertools.count(1)


@dataclass(eq=False)
class GitOp:
    git_dir: str
    id: int = field(default_factory=lambda: next(_ids))
    started_ns: int = field(default_factory=time.monotonic_ns)
    finished: bool = False
    released_ns: int = 0           # when its last lock release was received (groups commands)
    released_seen_ns: int = 0      # when the watcher handled that release (ends the command)
    head_before: HeadState | None = None
    head_after: HeadState | None = None
    label: str = "git"
    messages: list[str] = field(default_factory=list)
    reflog_lines: int = 0          # HEAD reflog lines the event stream showed it writing
    stash_seen: bool = False       # refs/stash was locked while it ran (its own events)
    before_exact: bool = True      # head_before read from the repository, not from the reflog
    moved: bool | None = None      # the outcome read from its own reflog lines, when not from HEAD

    @property
    def moved_head(self) -> bool:
        if self.moved is not None:
            return self.moved
        return self.head_before is not None and self.head_after is not None and self.head_before != self.head_after

    @property
    def source(self) -> str:
        """``git_checkout`` when the branch or commit changed, else ``git``."""
        return "git_checkout" if self.moved_head else "git"


class _Repo:
    def __init__(self, git_dir: str, root: str | None = None) -> None:
        self.git_dir = git_dir
        self.root = root or os.path.dirname(git_dir)   # the work tree (differs for `git worktree`)
        self.head_lock = os.path.join(git_dir, "HEAD.lock")
        self.head_log = os.path.join(git_dir, "logs", "HEAD")
        self.stash_lock = os.path.join(common_dir(git_dir), "refs", "stash.lock")
        self.head = read_head(git_dir)
        self.head_exact = True    # self.head read from the repository (False: from reflog lines)
        self.head_cycle: bool | None = None   # HEAD.lock held: whether logs/HEAD was written
        self.loose_lines = 0      # reflog lines written while no operation was open
        self.loose_stash = False  # refs/stash changed while no operation was open
        self.stash = stash_sha(git_dir)
        self.reflog_offset = self.reflog_size()
        self.op: GitOp | None = None
        self.lock_held = False
        self.last_seen_ns = 0
        self.unordered = False    # git dir watched apart from the work tree: no common event order

    def reflog_size(self) -> int:
        try:
            return os.path.getsize(os.path.join(self.git_dir, "logs", "HEAD"))
        except OSError:
            return 0

    def unread_labels(self) -> list[str]:
        """The operations the reflog's entries since the last operation seen name (not consumed)."""
        try:
            with open(os.path.join(self.git_dir, "logs", "HEAD"), "rb") as fh:
                fh.seek(self.reflog_offset)
                data = fh.read()
        except OSError:
            return []
        return [reflog_label(line.partition("\t")[2]) for line in data.decode("utf-8", "replace").splitlines()
                if line.partition("\t")[2]]

    def reflog_entries(self) -> list[ReflogEntry]:
        """The complete reflog lines after the last operation seen (not consumed)."""
        try:
            with open(self.head_log, "rb") as fh:
                fh.seek(self.reflog_offset)
                data = fh.read()
        except OSError:
            return []
        entries = []
        for raw in data.splitlines(keepends=True):
            if not raw.endswith(b"\n"):
                break   # git is still writing it
            head, _, msg = raw.decode("utf-8", "replace").rstrip("\n").partition("\t")
            parts = head.split(" ", 2)
            if len(parts) >= 2:
                entries.append(ReflogEntry(parts[0], parts[1], msg, len(raw)))
        return entries

    def open_op(self) -> GitOp | None:
        """The operation started and not finished yet, if any."""
        return self.op if self.op is not None and not self.op.finished else None

    def new_reflog(self) -> list[str]:
        path = os.path.join(self.git_dir, "logs", "HEAD")
        try:
            with open(path, "rb") as fh:
                fh.seek(self.reflog_offset)
                data = fh.read()
        except OSError:
            return []
        self.reflog_offset += len(data)
        messages = []
        for line in data.decode("utf-8", "replace").splitlines():
            _, _, msg = line.partition("\t")
            if msg:
                messages.append(msg)
        return messages


class GitMonitor:
    """The watcher's git hook: follows index.lock per repository and tags work-tree events."""

    def __init__(self) -> None:
        self._repos: dict[str, _Repo] = {}
        self._by_lock: dict[str, _Repo] = {}
        self._lock = threading.Lock()
        self._last_proc_check = 0.0
        self._git_alive = False
        self.finished_ops: list[GitOp] = []
        self._trees: dict[str, tuple[str, dict[str, str]]] = {}
        self.backlog: Callable[[], int] = lambda: 0   # events the watcher has not handled yet

    def set_backlog(self, backlog: Callable[[], int]) -> None:
        """How many events the watcher holds but has not handled yet (a lock left behind
        counts as stale only once those are handled)."""
        self.backlog = backlog

    def repo_count(self) -> int:
        """How many repositories are followed."""
        return len(self._repos)

    def add_repo(self, git_dir: str, root: str | None = None) -> None:
        """Start tracking a repository (also done lazily when its index.lock first appears)."""
        with self._lock:
            if git_dir not in self._repos and os.path.isfile(os.path.join(git_dir, "HEAD")):
                repo = _Repo(git_dir, root)
                self._repos[git_dir] = repo
                self._by_lock[os.path.join(git_dir, "index.lock")] = repo

    def discover(self, roots: list[Path]) -> None:
        """The repository of each workspace folder, wherever its git dir is: the folder itself,
        a parent (a sub-project opened alone), or elsewhere (`git worktree`, --separate-git-dir)."""
        for root in roots:
            try:
                out = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel", "--absolute-git-dir"],
                                     capture_output=True, text=True, timeout=30)
            except (OSError, subprocess.SubprocessError):
                continue
            lines = out.stdout.splitlines()
            if out.returncode == 0 and len(lines) == 2:
                self.add_repo(os.path.realpath(lines[1]), os.path.realpath(lines[0]))

    def watch_paths(self, roots: list[Path]) -> list[str]:
        """Git dirs outside every workspace folder: the watcher watches them (not recursively)."""
        inside = [str(r).rstrip("/") + "/" for r in roots]
        outside = [gd for gd in self._repos if not any((gd + "/").startswith(r) for r in inside)]
        for gd in outside:
            # a separate watch: its events are not ordered with the work tree's (see unordered)
            self._repos[gd].unordered = True
        return outside

    def is_git_path(self, abs_path: str) -> bool:
        if "/.git/" in abs_path or abs_path.endswith("/.git"):
            return True
        return any(abs_path.startswith(gd + "/") for gd in self._repos)

    # -- GitHook protocol ----------------------------------------------------------------
    def observe(self, event_type: str, abs_path: str, dest: str | None, t_ns: int | None = None) -> None:
        """One event inside a git dir, in the watcher's event order; ``t_ns``: when it was
        received (monotonic), not when it is handled (a batch holds up to 0.5 s of events)."""
        seen = time.monotonic_ns()
        now = seen if t_ns is None else t_ns
        repo = self._by_lock.get(abs_path)
        if repo is None and abs_path.endswith("/.git/index.lock"):
            self.add_repo(abs_path[: -len("/index.lock")])   # a repository created during the session
            repo = self._by_lock.get(abs_path)
        if repo is None:
            for candidate in self._repos.values():
                if abs_path.startswith(candidate.git_dir + "/"):
                    candidate.last_seen_ns = seen
                    self._ref_event(candidate, event_type, abs_path)
                    break
            return
        repo.last_seen_ns = seen
        if event_type == "created":
            op = repo.open_op()
            if op is not None and not repo.lock_held and now - op.released_ns >= GROUP_QUIET_S * 1e9:
                self._finish(repo, overtaken=True)   # a new command: the stream shows the last one over
            if repo.op is None or repo.op.finished:
                repo.op = GitOp(repo.git_dir, head_before=repo.head, before_exact=repo.head_exact,
                                reflog_lines=repo.loose_lines, stash_seen=repo.loose_stash)
                repo.loose_lines, repo.loose_stash = 0, False
            repo.lock_held = True
        elif event_type in ("deleted", "moved") and repo.op is not None:
            # One git command may take and release the lock several times (merge, rebase,
            # stash, pull): the operation ends when no new cycle follows shortly.
            repo.lock_held = False
            repo.op.released_ns, repo.op.released_seen_ns = now, seen

    @staticmethod
    def _ref_event(repo: _Repo, event_type: str, abs_path: str) -> None:
        """Count HEAD's reflog lines and note stash changes, in stream order (an operation
        finished after the fact takes its outcome from them)."""
        if abs_path == repo.head_lock:
            if event_type == "created":
                repo.head_cycle = False
            elif event_type in ("deleted", "moved") and repo.head_cycle is not None:
                # logs/HEAD is not watched with a git dir outside the folders: count the cycle
                if repo.head_cycle or repo.unordered:
                    op = repo.open_op()
                    if op is not None:
                        op.reflog_lines += 1
                    else:
                        repo.loose_lines += 1
                repo.head_cycle = None
        elif abs_path == repo.head_log and event_type in ("created", "modified", "closed"):
            if repo.head_cycle is not None:
                repo.head_cycle = True
        elif abs_path == repo.stash_lock and event_type == "created":
            op = repo.open_op()
            if op is not None:
                op.stash_seen = True
            else:
                repo.loose_stash = True

    def _overtaken(self, repo: _Repo, op: GitOp) -> bool:
        """The repository already shows more than this operation's events account for: a
        reflog line or a stash change whose events have not been handled yet (or at all)."""
        if repo.unordered:
            return False
        if len(repo.reflog_entries()) > op.reflog_lines:
            return True
        return op.before_exact and (stash_sha(repo.git_dir) != repo.stash) != op.stash_seen

    def _finish(self, repo: _Repo, overtaken: bool = False) -> None:
        """End the open operation. ``overtaken``: the event stream shows a later command
        started; when the repository shows more than this one's events account for, its
        outcome comes from its own reflog lines, else (a single command) from HEAD now."""
        op = repo.op
        if op is None:
            return
        if not op.released_ns:
            op.released_ns = time.monotonic_ns()   # its release was never seen (lost events, stale lock)
        if not op.released_seen_ns:
            op.released_seen_ns = op.released_ns
        if overtaken and self._overtaken(repo, op):
            mine = repo.reflog_entries()[: op.reflog_lines]
            repo.reflog_offset += sum(entry.size for entry in mine)
            op.messages = [entry.message for entry in mine]
            op.head_after, op.moved = reflog_outcome(op.head_before or repo.head, mine, common_dir(repo.git_dir),
                                                     exact_ref=op.before_exact)
            self._close(repo, op, stash_changed=op.stash_seen, head_exact=False)
            return
        op.head_after = read_head(repo.git_dir)
        op.messages = repo.new_reflog()
        stash = stash_sha(repo.git_dir)
        if op.before_exact:
            stash_changed = stash != repo.stash
        else:
            # head_before came from the previous operation's reflog lines: compare commits
            # and this operation's own branch moves, not the (derived) branch name
            op.moved = (op.head_before is not None and op.head_before.sha != op.head_after.sha) or \
                names_a_move(op.messages)
            stash_changed = op.stash_seen
        repo.stash = stash
        self._close(repo, op, stash_changed=stash_changed, head_exact=True)

    def _close(self, repo: _Repo, op: GitOp, stash_changed: bool, head_exact: bool) -> None:
        """Name the operation from its reflog lines and stash change, and mark it finished."""
        if op.messages:
            labels = [reflog_label(m) for m in op.messages]
            # a commit grouped with the command that followed it did not write the work tree
            op.label = next((l for l in labels if l != "commit"), labels[0])
        elif stash_changed:
            op.label = "stash"
        else:
            op.label = "restore"  # work tree written from the index/HEAD without moving a ref
        if stash_changed and op.label in ("reset", "restore"):
            op.label = "stash"
        repo.head = op.head_after
        repo.head_exact = head_exact
        op.finished = True
        repo.op = None
        repo.lock_held = False
        self.finished_ops.append(op)
        del self.finished_ops[:-100]

    def current_op(self, abs_path: str) -> GitOp | None:
        best = None
        for repo in self._repos.values():
            if repo.op is not None and repo.lock_held and (abs_path.startswith(repo.root + os.sep)) and \
                    (best is None or len(repo.root) > len(best.root)):
                best = repo
        return best.op if best is not None else None

    def unseen_op(self, abs_path: str) -> str | None:
        """Evidence of a git command read from the repository itself, for when its events
        may not have been handled yet: the lock held (``git``), HEAD moved since the last
        operation seen (``git_checkout``), or a new reflog entry or stash (``git``)."""
        found = self.repo_of(abs_path)
        if found is None:
            return None
        repo = self._repos[found[0]]
        if repo.op is not None and not repo.op.finished:
            return self.source_now(repo.op)
        if os.path.exists(os.path.join(repo.git_dir, "index.lock")):
            return "git_checkout" if read_head(repo.git_dir) != repo.head else "git"
        if read_head(repo.git_dir) != repo.head:
            return "git_checkout"
        if repo.reflog_size() != repo.reflog_offset or stash_sha(repo.git_dir) != repo.stash:
            return "git"
        return None

    def committed_only(self, abs_path: str) -> bool:
        """The repository's only news since the last operation seen is commits (read from its
        reflog now): ``git commit`` never writes the work tree, so a write meanwhile is a
        hook's (a pre-commit formatter), not git's, even though HEAD moved."""
        found = self.repo_of(abs_path)
        if found is None:
            return False
        labels = self._repos[found[0]].unread_labels()
        return bool(labels) and all(label == "commit" for label in labels)

    def index_age_s(self, abs_path: str) -> float | None:
        """Seconds since the index of this path's repository was last written."""
        found = self.repo_of(abs_path)
        if found is None:
            return None
        try:
            return time.time() - os.stat(os.path.join(found[0], "index")).st_mtime
        except OSError:
            return None

    def source_now(self, op: GitOp) -> str:
        """The source of an operation that may still run: ``git_checkout`` once HEAD moved
        (read now), else ``git`` (a reload seen before the command ended)."""
        if op.finished:
            return op.source
        if op.head_before is None:
            return "git"
        now = read_head(op.git_dir)
        moved = now != op.head_before if op.before_exact else now.sha != op.head_before.sha
        return "git_checkout" if moved else "git"

    def op_finished(self, op: GitOp) -> bool:
        if op.finished:
            return True
        repo = self._repos.get(op.git_dir)
        if repo is None or repo.op is not op:
            return True
        if not repo.lock_held:
            # by when the release was handled (a reload ~0.3 s after a command still finds it
            # running, read from HEAD); a new cycle is told apart by receipt times (observe)
            quiet_ns = time.monotonic_ns() - (op.released_seen_ns or op.released_ns)
            # the next lock cycle of the same command may still be queued behind other events
            if self.backlog() and quiet_ns < STALE_LOCK_S * 1e9:
                return False
            if quiet_ns >= GROUP_QUIET_S * 1e9:
                if quiet_ns < STALE_LOCK_S * 1e9 and self._overtaken(repo, op):
                    return False   # a later command's ref update is on disk, its events on the way
                self._finish(repo)
                return True
            return False
        # A lock left behind by a crashed git must not turn everything into "git" forever. Only
        # judged once the watcher has caught up: while events are queued, the lock's release
        # may be among them (the file on disk is gone long before a lagging watcher sees it).
        if self.backlog():
            return False
        idle_s = (time.monotonic_ns() - max(repo.last_seen_ns, op.started_ns)) / 1e9
        if idle_s > STALE_LOCK_S and not os.path.exists(os.path.join(op.git_dir, "index.lock")):
            self._finish(repo)
            return True
        if idle_s > STALE_LOCK_S and not self._any_git_process():
            self._finish(repo)
            return True
        return False

    def busy(self) -> bool:
        """True while some repository's git command is still running (lock held or grouping)."""
        return any(repo.op is not None and not self.op_finished(repo.op) for repo in list(self._repos.values()))

    def repo_of(self, abs_path: str) -> tuple[str, str] | None:
        """(git dir, path relative to the repository root) of a work-tree path."""
        best = None
        for repo in self._repos.values():
            if abs_path.startswith(repo.root + os.sep) and (best is None or len(repo.root) > len(best.root)):
                best = repo
        if best is None:
            return None
        return best.git_dir, abs_path[len(best.root) + 1:].replace(os.sep, "/")

    def repo_info(self, abs_path: str) -> tuple[str, str, bool] | None:
        """(git dir, path in the repository, unordered) of a work-tree path."""
        found = self.repo_of(abs_path)
        if found is None:
            return None
        return found[0], found[1], self._repos[found[0]].unordered

    def running(self, git_dir: str) -> bool:
        repo = self._repos.get(git_dir)
        return repo is not None and repo.op is not None and not self.op_finished(repo.op)

    def recent_op(self, git_dir: str, within_s: float = 60.0) -> GitOp | None:
        """The last finished operation of a repository, if it finished within ``within_s``."""
        now = time.monotonic_ns()
        for op in reversed(self.finished_ops):
            if op.git_dir == git_dir and now - (op.released_seen_ns or op.released_ns) <= within_s * 1e9:
                return op
        return None

    def finished_op_that_wrote(self, abs_path: str, within_s: float) -> GitOp | None:
        """The operation that wrote ``abs_path``, if it finished within ``within_s`` and its
        changes may not have reached the engine yet: the file's mtime is no later than the
        operation's last lock release (git writes the work tree while it holds the lock),
        read on the monotonic clock. A later write (a ``git restore`` whose events are not
        handled yet, a script) is not that operation's: None."""
        found = self.repo_of(abs_path)
        op = self.recent_op(found[0], within_s) if found is not None else None
        if op is None or op.label == "commit" or not op.released_ns:
            return None
        try:
            mtime_ns = os.lstat(abs_path).st_mtime_ns
        except OSError:
            return None
        written_mono_ns = time.monotonic_ns() - (time.time_ns() - mtime_ns)
        return op if written_mono_ns <= op.released_ns else None

    def reconcile(self, git_dir: str) -> GitOp | None:
        """After lost events: if the repository moved since the last operation we saw (HEAD,
        reflog or stash), account for it as one finished operation and return it."""
        repo = self._repos.get(git_dir)
        if repo is None or repo.op is not None:
            return None
        head = read_head(git_dir)
        if head == repo.head and repo.reflog_size() == repo.reflog_offset and stash_sha(git_dir) == repo.stash:
            return None
        repo.op = GitOp(git_dir, head_before=repo.head, before_exact=repo.head_exact,
                        released_ns=time.monotonic_ns(), stash_seen=stash_sha(git_dir) != repo.stash)
        op = repo.op
        self._finish(repo)
        return op

    def head_tree(self, git_dir: str) -> dict[str, str]:
        """{path: blob sha} of HEAD's tree (cached per commit), for reconciling lost events."""
        head = read_head(git_dir).sha or ""
        cached = self._trees.get(git_dir)
        if cached is not None and cached[0] == head:
            return cached[1]
        tree: dict[str, str] = {}
        if head:
            out = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "-r", "-z", head], capture_output=True,
                                 timeout=120)
            for entry in out.stdout.split(b"\0"):
                if b"\t" in entry:
                    meta, _, path = entry.partition(b"\t")
                    parts = meta.split()
                    if len(parts) == 3 and parts[1] == b"blob":
                        tree[path.decode("utf-8", "surrogateescape")] = parts[2].decode()
        self._trees[git_dir] = (head, tree)
        return tree

    def _any_git_process(self) -> bool:
        now = time.monotonic()
        if now - self._last_proc_check < 1.0:
            return self._git_alive
        self._last_proc_check = now
        alive = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/comm") as fh:
                    if fh.read().strip().startswith("git"):
                        alive = True
                        break
            except OSError:
                continue
        self._git_alive = alive
        return alive
