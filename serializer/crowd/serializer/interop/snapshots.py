"""Reading a recording's snapshot store (server/snapshots, docs/attribution.md) for exports.

When the recording folder holds ``snapshots/manifests``, crowd-code 2.0 snapshot files are
filled from the real store (the disk as it was before the agent's change, text files only),
instead of from the replay's buffers. The store is imported lazily: reading recordings
must not require the sidecar package.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def store_loader(recording: Path) -> Callable[[str], dict[str, str] | None] | None:
    """A ``snapshot_id -> {path: text}`` reader for ``recording``'s store, or None without one."""
    root = Path(recording) / "snapshots"
    if not (root / "manifests").is_dir():
        return None
    try:
        from crowd.snapshots.store import SnapshotError, SnapshotStore
    except ImportError:
        return None
    store = SnapshotStore(root)

    def load(snap_id: str) -> dict[str, str] | None:
        try:
            shas = store.files(snap_id)
        except SnapshotError:
            return None
        out: dict[str, str] = {}
        for rel, sha in sorted(shas.items()):
            try:
                out[rel] = store.blob(sha).decode("utf-8")
            except (UnicodeDecodeError, SnapshotError):
                continue  # crowd-code 2.0 snapshots hold text only
        return out

    return load
