"""One real S3 object store (SeaweedFS, crowd.transfer.seaweed) per test process.

Why shared: the store takes 3-10 s to start (measured here), so the suite starts it once,
the first time a test asks, and stops it at exit; each test gets a bucket of its own, so
tests see only their own objects. Tests that restart or kill a store start their own.
"""
from __future__ import annotations

import atexit
import tempfile
import uuid
from functools import lru_cache
from pathlib import Path

from crowd.transfer.seaweed import EmbeddedStore
from crowd.transfer.store import StoreSettings, ensure_bucket, s3_client


@lru_cache(maxsize=1)
def session_store() -> EmbeddedStore:
    folder = Path(tempfile.mkdtemp(prefix="crowd-s3-"))
    store = EmbeddedStore(folder).start()
    atexit.register(store.stop, kill=True)   # a graceful stop takes ~25 s; test data goes anyway
    return store


def fresh_bucket(store: EmbeddedStore | None = None) -> StoreSettings:
    """Settings for a new, empty bucket in ``store`` (the shared one by default)."""
    settings = (store or session_store()).settings
    settings.bucket = "t-" + uuid.uuid4().hex[:20]
    ensure_bucket(s3_client(settings), settings.bucket)
    return settings


__all__ = ["fresh_bucket", "session_store"]
