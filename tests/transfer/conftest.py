"""Fixtures: a real ingest server on loopback and a queue (helpers: transfer_helpers.py)."""
from __future__ import annotations

import pytest

from crowd.transfer.ingest import IngestServer
from crowd.transfer.queue import UploadQueue
from tests.transfer.transfer_helpers import TOKEN


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
