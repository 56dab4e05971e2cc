"""Carry a panic request out on every recording folder no live recorder holds.

Recordings of every recorder under the user's data folder (editor sidecars, ``crowd term``
standalone, previous recordings of this sidecar, those of a killed one) are cleaned with
``crowd.format.writer.drop_from_folder``; a folder a live writer holds is left to its owner
(watch.py) and reported. Per-folder extras (the snapshot store inside a recording) and
machine-wide ones (the upload queue) are passed in by the caller, which may import the
packages above this one. Desktop (crowd cast) segments written in a window are deleted whole.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from crowd.format.desktop.layout import list_segments as desktop_segments
from crowd.format.writer import drop_from_folder, list_segments
from crowd.panic.journal import PanicRequest, applied, mark_applied

log = logging.getLogger(__name__)

FolderStep = Callable[[Path, PanicRequest], None]
Step = Callable[[PanicRequest], None]
SLACK_S = 120.0     # an event is on disk within ~1 s of its stamp; segments older than this skip


@dataclass
class SweepResult:
    removed: int = 0
    folders: int = 0
    live: list[Path] = field(default_factory=list)      # held by a live recorder: its owner's job
    desktop_files: int = 0
    errors: list[str] = field(default_factory=list)


def recording_folders(roots: Iterable[Path]) -> list[Path]:
    seen: set[Path] = set()
    out = []
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        for child in sorted(root.iterdir()):
            if child.is_dir() and not child.is_symlink() and child.absolute() not in seen and list_segments(child):
                seen.add(child.absolute())
                out.append(child)
    return out


def sweep(request: PanicRequest, roots: Iterable[Path], *, skip: Iterable[Path] = (),
          folder_steps: Iterable[FolderStep] = (), steps: Iterable[Step] = (),
          desktop_roots: Iterable[Path] = (), home: Path | None = None) -> SweepResult:
    result = SweepResult()
    skipped = {Path(p).absolute() for p in skip}
    since = request.earliest_ms / 1000 - SLACK_S
    for folder in recording_folders(roots):
        if folder.absolute() in skipped or applied(request, folder, home):
            continue
        try:
            removed = drop_from_folder(folder, request.doomed, modified_since=since)
        except Exception as exc:  # noqa: BLE001 - the journal stays, the next start retries
            log.exception("panic in %s failed", folder)
            result.errors.append(f"{folder.name}: {type(exc).__name__}: {exc}")
            continue
        if removed is None:
            result.live.append(folder)
            continue
        result.removed += removed
        result.folders += 1
        ok = True
        for step in folder_steps:
            try:
                step(folder, request)
            except Exception as exc:  # noqa: BLE001
                log.exception("panic step in %s failed", folder)
                result.errors.append(f"{folder.name}: {type(exc).__name__}: {exc}")
                ok = False
        if ok:
            mark_applied(request, folder, home)
    for root in desktop_roots:
        result.desktop_files += _desktop(request, Path(root))
    for step in steps:
        try:
            step(request)
        except Exception as exc:  # noqa: BLE001
            log.exception("panic step failed")
            result.errors.append(f"{type(exc).__name__}: {exc}")
    return result


def _desktop(request: PanicRequest, root: Path) -> int:
    """crowd cast segments last written in a window: deleted whole (video cannot be cut by
    event). One still being written is the live recorder's (its own panic)."""
    if not root.is_dir():
        return 0
    deleted = 0
    for seg in desktop_segments(root):
        try:
            mtime_ms = seg.mtime() * 1000
        except OSError:
            continue
        if request.covers(mtime_ms):
            for path in seg.paths():
                try:
                    path.unlink()
                    deleted += 1
                except FileNotFoundError:
                    pass
    return deleted
