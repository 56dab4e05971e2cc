"""Helpers shared by the transfer tests: the ingest token and fake recordings to queue."""
from __future__ import annotations

import os
from pathlib import Path

from crowd.transfer.queue import UploadQueue

TOKEN = "test-token-123"


def make_recording(root: Path, session: str, segments: int, size: int = 40_000) -> Path:
    folder = root / session
    folder.mkdir(parents=True)
    for i in range(segments):
        (folder / f"seg-{i:06d}.crowd").write_bytes(os.urandom(size))
    return folder


def editor_bundle(q: UploadQueue, root: Path, session: str, segments: int = 2, size: int = 40_000):
    from crowd.transfer.bundle import editor_candidate

    folder = make_recording(root, session, segments, size)
    return q.add(editor_candidate(folder, final=True))


__all__ = ["TOKEN", "editor_bundle", "make_recording"]
