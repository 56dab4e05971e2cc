"""Fixtures: a real ingest server on loopback and a queue (helpers: transfer_helpers.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from crowd.transfer.ingest import IngestServer  # noqa: E402
from crowd.transfer.queue import UploadQueue  # noqa: E402
from transfer_helpers import TOKEN  # noqa: E402


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
