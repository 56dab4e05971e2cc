"""One batch of raw events, sorted into what the watcher must look at, and its changes.

WHY sort before looking: events only say *which paths to look at*. A batch is coalesced per
path (the first event's time is kept for ordering, the last git operation seen for
attribution), directories are turned into the files below them (a created or moved-in one
is walked, a vanished one matches the known paths under it), and moves are kept so that a
source that disappeared and a destination that appeared become one ``rename``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from crowd.server.watch.content import Content
from crowd.server.watch.observer import RawEvent


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


class GitEvents(Protocol):
    """The part of the git hook that sorting events needs (see watcher.GitHook)."""
    def is_git_path(self, abs_path: str) -> bool: ...
    def observe(self, event_type: str, abs_path: str, dest: str | None, t_ns: int | None = None) -> None: ...
    def current_op(self, abs_path: str) -> Any: ...


class Touch(NamedTuple):
    """A path to compare with the disk: the git operation running when it was written (None:
    no git command) and the monotonic time of its first event."""
    op: Any
    t_ns: int


class NewDir(NamedTuple):
    """A directory created or moved in: every file below it is looked at."""
    path: str                    # absolute
    op: Any
    t_ns: int


class GoneDir(NamedTuple):
    """A directory deleted or moved away: every known path below it is looked at."""
    prefix: str                  # workspace-relative, ending in "/"
    op: Any
    t_ns: int


@dataclass
class EventBatch:
    touched: dict[str, Touch] = field(default_factory=dict)
    new_dirs: list[NewDir] = field(default_factory=list)
    gone_dirs: list[GoneDir] = field(default_factory=list)
    moves: dict[str, str] = field(default_factory=dict)    # dest rel -> src rel ("/"-ended for directories)
    gitignore_changed: bool = False

    def touch(self, rel: str, op: Any, t_ns: int) -> None:
        """Look at ``rel``: the latest git operation seen wins, the first event's time stays."""
        first = self.touched.get(rel)
        self.touched[rel] = Touch(op, first.t_ns if first else t_ns)


def collect(events: Iterable[RawEvent], to_rel: Callable[[str], str | None],
            git: GitEvents | None) -> EventBatch:
    """Sort raw events into an ``EventBatch``; events under ``.git`` go to ``git`` first (a
    move out of ``.git``, e.g. a lock renamed into place, is also a work-tree event)."""
    batch = EventBatch()
    for event in events:
        t_ns, kind, src, dest, is_dir = event
        if git is not None and git.is_git_path(src):
            git.observe(kind, src, dest, t_ns)   # its receipt time: a batch spans up to 0.5 s
            if not (dest and not git.is_git_path(dest)):
                continue
        op = git.current_op(src) if git is not None else None
        for path in (src, dest):
            if not path or (git is not None and git.is_git_path(path)) or "/.git/" in path:
                continue
            rel = to_rel(path)
            if rel is None:
                continue
            if rel.rpartition("/")[2] == ".gitignore":
                batch.gitignore_changed = True
            if is_dir:
                if (kind == "created" and path == src) or (kind == "moved" and path == dest):
                    batch.new_dirs.append(NewDir(path, op, t_ns))
                elif kind in ("deleted", "moved") and path == src:
                    batch.gone_dirs.append(GoneDir(rel + "/", op, t_ns))
                continue
            batch.touch(rel, op, t_ns)
        if kind == "moved" and dest:
            s, d = to_rel(src), to_rel(dest)
            if s and d:
                if is_dir:
                    batch.moves[d + "/"] = s + "/"
                else:
                    batch.moves[d] = s
    return batch


def pair_renames(changes: dict[str, FsChange], moves: dict[str, str]) -> None:
    """A move whose source disappeared and whose destination appeared is one rename (also
    for every file of a moved directory). Changes ``changes`` in place."""
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
