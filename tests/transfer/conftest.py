"""Fixtures: a real ingest server in front of a real S3 store (SeaweedFS, one per test
process, a bucket per test) and a queue (helpers: transfer_helpers.py)."""
from __future__ import annotations

import pytest

from crowd.transfer.ingest import IngestServer
from crowd.transfer.queue import UploadQueue
from tests.helpers.object_store import fresh_bucket
from tests.transfer.transfer_helpers import TOKEN


@pytest.fixture
def bucket():
    return fresh_bucket()


@pytest.fixture
def ingest(bucket):
    server = IngestServer(bucket, token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def queue(tmp_path):
    q = UploadQueue(tmp_path / "queue", hold_s=0)
    q.set("consent", "granted")
    yield q
    q.close()
