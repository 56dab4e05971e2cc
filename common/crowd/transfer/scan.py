"""Finding finished recordings on disk and putting them in the queue (also after a crash)."""
from __future__ import annotations

from pathlib import Path

from crowd.transfer.bundle import DEFAULT_IDLE_S, desktop_candidates, editor_candidate
from crowd.transfer.queue import Bundle, UploadQueue


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
        from crowd.capture.settings import default_output_dir, load_settings  # noqa: PLC0415
    except ImportError:   # desktop capture not installed: its default place all the same
        from crowd.home import crowd_home  # noqa: PLC0415

        return crowd_home() / "cast" / "recordings"
    try:
        return load_settings().output_path
    except ValueError:    # unreadable settings: `crowd cast` reports it; use the default
        return default_output_dir()


def live_desktop_sessions() -> set[str]:
    """The session a running ``crowd cast record`` is writing (from its status file)."""
    try:
        import json  # noqa: PLC0415

        from crowd.capture.settings import running_pid, status_path  # noqa: PLC0415
    except ImportError:
        return set()
    if running_pid() is None:
        return set()
    try:
        sid = json.loads(status_path().read_text()).get("session_id")
    except (OSError, ValueError):
        return set()
    return {sid} if isinstance(sid, str) else set()
