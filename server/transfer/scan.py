"""Finding finished recordings on disk and putting them in the queue (also after a crash)."""
from __future__ import annotations

from pathlib import Path

from crowd.server.transfer.bundle import DEFAULT_IDLE_S, desktop_candidates, editor_candidate
from crowd.server.transfer.queue import Bundle, UploadQueue


def enqueue_editor_recordings(queue: UploadQueue, recordings: Path, *, idle_s: float = DEFAULT_IDLE_S,
                              final_sessions: set[str] | None = None) -> list[Bundle]:
    """One bundle per recording folder with finished files not yet queued."""
    added = []
    if not Path(recordings).is_dir():
        return added
    for folder in sorted(p for p in Path(recordings).iterdir() if p.is_dir()):
        final = bool(final_sessions and folder.name in final_sessions)
        bundle = queue.add(editor_candidate(folder, final=final, idle_s=idle_s))
        if bundle is not None:
            added.append(bundle)
    return added


def enqueue_desktop_recordings(queue: UploadQueue, folder: Path, *, idle_s: float = DEFAULT_IDLE_S,
                               final: bool = False) -> list[Bundle]:
    added = []
    if not Path(folder).is_dir():
        return added
    for candidate in desktop_candidates(folder, final=final, idle_s=idle_s):
        bundle = queue.add(candidate)
        if bundle is not None:
            added.append(bundle)
    return added
