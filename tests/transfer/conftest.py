"""Fixtures: a real ingest server on loopback, a queue, and bundles of random bytes."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from crowd.server.transfer.bundle import Candidate  # noqa: E402
from crowd.server.transfer.ingest import IngestServer  # noqa: E402
from crowd.server.transfer.queue import UploadQueue  # noqa: E402

TOKEN = "test-token-123"


@pytest.fixture
def ingest(tmp_path):
    server = IngestServer(tmp_path / "ingest", token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def queue(tmp_path):
    q = UploadQueue(tmp_path / "queue", hold_s=0)
    q.set("consent", "granted")
    yield q
    q.close()


def make_recording(root: Path, session: str, segments: int, size: int = 40_000) -> Path:
    folder = root / session
    folder.mkdir(parents=True)
    for i in range(segments):
        (folder / f"seg-{i:06d}.crowd").write_bytes(os.urandom(size))
    return folder


def editor_bundle(q: UploadQueue, root: Path, session: str, segments: int = 2, size: int = 40_000):
    from crowd.server.transfer.bundle import editor_candidate

    folder = make_recording(root, session, segments, size)
    return q.add(editor_candidate(folder, final=True))


__all__ = ["Candidate", "TOKEN", "editor_bundle", "make_recording"]
