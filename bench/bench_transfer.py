"""Upload throughput on loopback into a real S3 store (embedded SeaweedFS, presigned PUTs
with Content-MD5 + x-amz-checksum-sha256 checked by the store) and recovery time of a
1,000-bundle queue after a restart."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from bench.table import Table


def _recording(root: Path, name: str, segments: int, size: int) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for i in range(segments):
        (folder / f"seg-{i:06d}.crowd").write_bytes(os.urandom(size))
    return folder


def _bucket(store, name: str):
    from crowd.transfer.store import ensure_bucket, s3_client

    settings = store.settings
    settings.bucket = name
    ensure_bucket(s3_client(settings), name)
    return settings


def _throughput(tmp: Path, store, bundles: int, size: int, concurrency: int) -> list[object]:
    from crowd.transfer.bundle import editor_candidate
    from crowd.transfer.client import Uploader, UploaderConfig
    from crowd.transfer.ingest import IngestServer
    from crowd.transfer.queue import UploadQueue

    run = tmp / f"tp-{bundles}-{size}-{concurrency}"
    server = IngestServer(_bucket(store, f"tp-{bundles}-{size}-{concurrency}"), token="bench").start()
    q = UploadQueue(run / "queue", hold_s=0)
    q.set("consent", "granted")
    t0 = time.perf_counter()
    for i in range(bundles):
        q.add(editor_candidate(_recording(run / "rec", f"s{i}", 1, size), final=True))
    bundle_s = time.perf_counter() - t0
    up = Uploader(q, UploaderConfig(endpoint=f"{server.url}/v1/presign", token="bench", concurrency=concurrency))
    t0 = time.perf_counter()
    result = up.run_until_idle()
    elapsed = time.perf_counter() - t0
    up.stop()
    server.stop()
    total = bundles * size
    assert result["uploaded"] == bundles
    return [f"{bundles} x {size // 1024} KiB", concurrency, round(total / bundle_s / 2**20, 1),
            round(total / elapsed / 2**20, 1), round(bundles / elapsed, 1)]


def _recovery(tmp: Path, store, bundles: int) -> list[list[object]]:
    from crowd.transfer.bundle import editor_candidate
    from crowd.transfer.client import Uploader, UploaderConfig
    from crowd.transfer.ingest import IngestServer
    from crowd.transfer.queue import UploadQueue

    run = tmp / "recovery"
    q = UploadQueue(run / "queue", hold_s=0)
    q.set("consent", "granted")
    for i in range(bundles):
        q.add(editor_candidate(_recording(run / "rec", f"s{i:04d}", 1, 2048), final=True))
    q.close()                                     # "crash": the process goes away here
    t0 = time.perf_counter()
    q2 = UploadQueue(run / "queue")               # restart: open, clean up, find what is due
    due = q2.due(time.time(), limit=bundles)
    reopen_s = time.perf_counter() - t0
    server = IngestServer(_bucket(store, "recovery"), token="bench").start()
    up = Uploader(q2, UploaderConfig(endpoint=f"{server.url}/v1/presign", token="bench", concurrency=3))
    t0 = time.perf_counter()
    result = up.run_until_idle()
    drain_s = time.perf_counter() - t0
    up.stop()
    server.stop()
    assert len(due) == bundles and result["uploaded"] == bundles
    return [["reopen queue + list due", bundles, round(reopen_s * 1000, 1)],
            ["upload all after restart", bundles, round(drain_s * 1000, 1)]]


def run(quick: bool) -> list[Table]:
    from crowd.transfer.seaweed import EmbeddedStore

    with tempfile.TemporaryDirectory(prefix="crowd-bench-transfer-") as d:
        tmp = Path(d)
        store = EmbeddedStore(tmp / "store").start()
        cases = [(20, 1 << 20, 3), (200, 32 << 10, 3), (200, 32 << 10, 1)] if quick else \
            [(40, 8 << 20, 3), (40, 8 << 20, 1), (500, 64 << 10, 3), (500, 64 << 10, 1)]
        try:
            rows = [_throughput(tmp, store, *c) for c in cases]
            recovery = _recovery(tmp, store, 200 if quick else 1000)
        finally:
            store.stop(kill=True)
    return [
        Table("transfer: upload throughput on loopback (presign + PUT into S3 + checksums + delete)",
              ["bundles", "concurrency", "bundling MiB/s", "upload MiB/s", "bundles/s"], rows,
              ["crowd ingest presigns (boto3), SeaweedFS stores and checks; all on 127.0.0.1, sharing "
               "the machine's 2 cores",
               "baseline, the folder-writing ingest this replaced (--quick, same machine, 2026-12-06): "
               "20 x 1 MiB c3 56.8 MiB/s; 200 x 32 KiB c3 89.9 bundles/s, c1 32.6 bundles/s",
               "S3 here (same run): 11.6 MiB/s; 78.7 and 38.1 bundles/s. Both runs on a loaded shared "
               "machine: the bundling column (no network) halved between them too"]),
        Table("transfer: recovering a queue of pending bundles after a restart",
              ["step", "bundles", "ms"], recovery,
              ["reopen = sqlite open + crash cleanup + due query; bundles of 2 KiB"]),
    ]
