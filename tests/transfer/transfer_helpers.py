"""Helpers shared by the transfer tests: the ingest token, fake recordings to queue, and
what the bucket holds."""
from __future__ import annotations

import hashlib
import os
import tarfile
from io import BytesIO
from pathlib import Path
from typing import Any

from crowd.transfer.queue import Bundle, UploadQueue
from crowd.transfer.store import StoreSettings, list_objects, parse_bundle_key, s3_client

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


def stored(settings: StoreSettings) -> list[dict[str, Any]]:
    """The bundle objects in the bucket, with their key's parts."""
    out = []
    for obj in list_objects(s3_client(settings), settings.bucket, settings.prefix + "/"):
        parts = parse_bundle_key(settings, obj["key"])
        assert parts is not None, obj["key"]
        out.append({**obj, **parts})
    return out


def check_arrived_once(settings: StoreSettings, bundles: list[Bundle]) -> None:
    """Each bundle is in the bucket exactly once, byte for byte, a tar with its manifest."""
    objects = stored(settings)
    shas = [o["sha256"] for o in objects]
    assert len(shas) == len(set(shas)), f"a bundle arrived twice: {shas}"
    assert sorted(shas) == sorted(b.sha256 for b in bundles)
    client = s3_client(settings)
    for obj in objects:
        data = client.get_object(Bucket=settings.bucket, Key=obj["key"])["Body"].read()
        assert hashlib.sha256(data).hexdigest() == obj["sha256"]
        with tarfile.open(fileobj=BytesIO(data)) as tar:
            assert any(m.name.endswith("manifest.json") for m in tar.getmembers())


__all__ = ["TOKEN", "check_arrived_once", "editor_bundle", "make_recording", "stored"]
