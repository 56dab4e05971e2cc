"""Finding finished recordings on disk and putting them in the queue (also after a crash).

The desktop recorder's folder and live session come from its state files through
``crowd.format.desktop.state``, never from the recorder package: the recorder imports this
library (it hands segments to the queue), so importing it back would be a loop.
"""
from __future__ import annotations

from pathlib import Path

from crowd.format.desktop import state as desktop_state
from crowd.transfer.bundle import DEFAULT_IDLE_S, EDITOR_SEGMENT, desktop_candidates, editor_candidate
from crowd.transfer.live import locked_folders, open_for_writing
from crowd.transfer.queue import Bundle, UploadQueue


def enqueue_editor_recordings(queue: UploadQueue, recordings: Path, *, idle_s: float = DEFAULT_IDLE_S,
                              final_sessions: set[str] | None = None) -> list[Bundle]:
    """One bundle per recording folder with finished files not yet queued."""
    added = []
    if not Path(recordings).is_dir():
        return added
    folders = sorted(p for p in Path(recordings).iterdir() if p.is_dir())
    # one look at the kernel for all folders (~20 ms), not one per folder
    held = locked_folders(folders) | open_for_writing(
        [seg for folder in folders for seg in folder.iterdir() if EDITOR_SEGMENT.match(seg.name)])
    for folder in folders:
        final = bool(final_sessions and folder.name in final_sessions)
        bundle = queue.add(editor_candidate(folder, final=final, idle_s=idle_s, held=held))
        if bundle is not None:
            added.append(bundle)
    return added


def enqueue_desktop_recordings(queue: UploadQueue, folder: Path, *, idle_s: float = DEFAULT_IDLE_S,
                               final: bool = False, live: frozenset[str] | set[str] = frozenset()) -> list[Bundle]:
    """One bundle per desktop session with finished pairs not yet queued (``live``: see
    ``desktop_candidates``)."""
    added = []
    if not Path(folder).is_dir():
        return added
    for candidate in desktop_candidates(folder, final=final, idle_s=idle_s, live=live):
        bundle = queue.add(candidate)
        if bundle is not None:
            added.append(bundle)
    return added


def default_desktop_folder() -> Path:
    """Where ``crowd cast record`` writes: its settings' folder, else the default one."""
    try:
        return desktop_state.output_dir()
    except ValueError:    # unreadable settings: `crowd cast` reports it; use the default
        return desktop_state.default_output_dir()


def live_desktop_sessions() -> set[str]:
    """The session a running ``crowd cast record`` is writing (from its status file)."""
    sid = desktop_state.live_session_id()
    return {sid} if sid is not None else set()
