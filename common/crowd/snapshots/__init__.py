"""Snapshots of the workspace taken just before each agent edit batch.

A content-addressed store: file contents are zstd blobs named by their sha256, and each
snapshot is a small manifest listing only what changed since the previous snapshot, so a
snapshot costs O(files changed since the previous one) instead of a copy of the workspace.
"""
from crowd.snapshots.store import SnapshotInfo, SnapshotStore, SnapshotError

__all__ = ["SnapshotInfo", "SnapshotStore", "SnapshotError"]
