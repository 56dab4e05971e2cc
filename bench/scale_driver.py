"""One run of the scale benchmark's pipeline, printing its measurements as JSON.

    python -m bench.scale_driver [--small] [--ray-workers 1 2] --json OUT

Stages, each timed (wall) and costed (CPU seconds of this process and everything it started,
bench.scale_cpu): generate the recordings (bench.scale_inputs); today's single-process
converters on the local folders (``crowd dataset`` = build_datasets, ``crowd idm prepare``
with one worker); upload through the real client (queue -> bundle tars -> crowd ingest
presigns -> PUT) into the embedded SeaweedFS on 127.0.0.1; then the same conversions on Ray
reading ``s3://`` from that bucket, once per worker count.

It is its own process because Ray must run inside a private network namespace (outside one,
Ray listens on every interface: shared/reference/scale.md), and the store it reads from must
be reachable there: bench.bench_scale starts this module under ``unshare -n`` with loopback
up, so store, ingest, uploader and Ray all talk over that namespace's 127.0.0.1.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.scale_cpu import tree_cpu_seconds
from bench.scale_inputs import FULL, SMALL, Shape, desktop_segments, editor_sessions, folder_bytes, hd_segment

TOKEN = "bench-scale"


def measured(fn: Callable[[], Any]) -> tuple[dict[str, float], Any]:
    """Wall and CPU seconds (process tree) of ``fn()``, and its result."""
    c0, t0 = tree_cpu_seconds(), time.perf_counter()
    result = fn()
    wall, cpu = time.perf_counter() - t0, tree_cpu_seconds() - c0
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}, result


def _parquet_rows(folder: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in sorted(Path(folder).rglob("*.parquet")))


def output_bytes(folder: Path) -> dict[str, int]:
    """All bytes a converter wrote, and those in Parquet files (``crowd dataset`` writes JSONL
    beside its Parquet; the Ray path writes only Parquet shards)."""
    return {"out_bytes": folder_bytes(folder),
            "parquet_bytes": sum(p.stat().st_size for p in Path(folder).rglob("*.parquet"))}


def local_dataset(inputs: list[Path], out: Path) -> dict[str, Any]:
    from crowd.serializer.dataset.build import build_datasets

    meta = build_datasets(inputs, out, parquet=True)
    return {"rows": sum(sum(d["rows"].values()) for d in meta["datasets"].values()), **output_bytes(out)}


def local_prepare(folder: Path, out: Path) -> dict[str, Any]:
    from crowd.idm.options import PrepareOptions
    from crowd.idm.prepare import prepare

    result = prepare(folder, out, PrepareOptions(workers=1))
    return {"rows": sum(result.clips.values()), "segments": result.segments, **output_bytes(out)}


def upload(store_settings: Any, sources: dict[str, Path], queue_dir: Path) -> dict[str, Any]:
    """Every generated recording as bundles into the bucket, through crowd ingest (presigned
    PUTs with checksums); local files are deleted after the store confirms, as in real use."""
    from crowd.transfer.client import Uploader, UploaderConfig
    from crowd.transfer.ingest import IngestServer
    from crowd.transfer.queue import UploadQueue
    from crowd.transfer.scan import enqueue_desktop_recordings, enqueue_editor_recordings

    server = IngestServer(store_settings, token=TOKEN).start()
    try:
        queue = UploadQueue(queue_dir, hold_s=0)
        queue.set("consent", "granted")
        editor = sources["editor"]
        sessions = {p.name for p in editor.iterdir()}
        bundles = enqueue_editor_recordings(queue, editor, final_sessions=sessions)
        bundles += enqueue_desktop_recordings(queue, sources["desktop"], final=True)
        uploader = Uploader(queue, UploaderConfig(endpoint=f"{server.url}/v1/presign", token=TOKEN, concurrency=3))
        result = uploader.run_until_idle()
        uploader.stop()
        queue.close()
    finally:
        server.stop()
    if result["uploaded"] != len(bundles):
        raise RuntimeError(f"uploaded {result['uploaded']} of {len(bundles)} bundles: {result}")
    return {"bundles": len(bundles), "bytes": sum(b.size for b in bundles)}


def run(shape: Shape, workers: list[int], tmp: Path, save: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Every stage; ``save`` gets the measurements so far after each one (a later failure,
    after minutes of work, keeps what was measured)."""
    from crowd.transfer.seaweed import EmbeddedStore
    from crowd.transfer.store import ensure_bucket, s3_client

    out: dict[str, Any] = {"shape": {"sessions": shape.sessions, "session_hours": shape.session_hours,
                                     "segments": shape.segments, "segment_seconds": shape.segment_seconds,
                                     "size": list(shape.size), "video_fps": shape.video_fps,
                                     "hd_seconds": shape.hd_seconds},
                           "stages": {}}
    stages = out["stages"]
    editor_root, desktop_root = tmp / "recordings", tmp / "desktop"
    stages["generate editor"], editor = measured(lambda: editor_sessions(editor_root, shape))
    stages["generate desktop"], _ = measured(lambda: desktop_segments(desktop_root, shape))
    out["input_bytes"] = {"editor": folder_bytes(editor_root), "desktop": folder_bytes(desktop_root)}
    save(out)

    stages["dataset, one process"], local_ds = measured(lambda: local_dataset(editor, tmp / "local-dataset"))
    stages["dataset, one process"].update(local_ds)
    save(out)
    stages["idm prepare, one process"], local_pr = measured(lambda: local_prepare(desktop_root, tmp / "local-clips"))
    stages["idm prepare, one process"].update(local_pr)
    hd_root = tmp / "desktop-1080p"
    hd_segment(hd_root, shape)
    out["input_bytes"]["desktop 1080p30"] = folder_bytes(hd_root)
    stages["idm prepare 1080p30, one process"], hd = measured(lambda: local_prepare(hd_root, tmp / "hd-clips"))
    stages["idm prepare 1080p30, one process"].update(hd)
    save(out)

    store = EmbeddedStore(tmp / "store").start()
    try:
        settings = store.settings
        settings.bucket = "bench-scale"
        ensure_bucket(s3_client(settings), settings.bucket)
        stages["upload -> bucket"], up = measured(
            lambda: upload(settings, {"editor": editor_root, "desktop": desktop_root}, tmp / "queue"))
        stages["upload -> bucket"].update(up)
        out["bucket_bytes"] = sum(o["size"] for o in _objects(settings))
        save(out)
        os.environ.update(AWS_ACCESS_KEY_ID=settings.access_key, AWS_SECRET_ACCESS_KEY=settings.secret_key)
        out["ray"] = {}
        reason = ray_stages(settings, workers, tmp, out["ray"], lambda: save(out))
        if reason:
            out["ray"] = reason
        save(out)
    finally:
        store.stop(kill=True)
    return out


def _objects(settings: Any) -> list[dict[str, Any]]:
    from crowd.transfer.store import list_objects, s3_client

    return list_objects(s3_client(settings), settings.bucket, settings.prefix)


def ray_stages(settings: Any, workers: list[int], tmp: Path, out: dict[str, Any],
               saved: Callable[[], None]) -> str | None:
    """The same conversions on a local Ray reading ``s3://`` from the bucket, once per worker
    count (``ray.init(num_cpus=N)``: N tasks at a time), into ``out``; or why they were not
    measured. Ray is started before each pair of jobs and timed on its own row. A job that
    fails is recorded as its error (the table shows it) and the others still run."""
    if not workers:
        return ("not measured: no private network namespace here (needs root and unshare; Ray listens "
                "on every interface outside one)")
    source = f"s3://{settings.bucket}/{settings.prefix}"
    # A token and a temp folder of this run's own: by default every Ray of the user shares
    # ~/.ray/auth_token (and /tmp/ray), which another Ray started on the machine rewrites
    # (the cluster tests saw InvalidAuthToken while this benchmark started its Ray)
    ray_tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")   # short: Ray's socket paths live in it
    os.environ.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
                       "RAY_USAGE_STATS_ENABLED": "0", "RAY_TMPDIR": ray_tmp})
    try:
        return _ray_jobs(source, settings.endpoint, workers, tmp, out, saved)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)


def _ray_jobs(source: str, endpoint: str, workers: list[int], tmp: Path, out: dict[str, Any],
              saved: Callable[[], None]) -> str | None:
    from crowd.cluster.engine import RayMissing, connect
    from crowd.idm.sharded import run_prepare
    from crowd.serializer.dataset.sharded import run_dataset

    def job(name: str, fn: Callable[[], Any], rows: Callable[[Any], int], folder: Path) -> None:
        try:
            out[name], result = measured(fn)
        except Exception as exc:  # noqa: BLE001 - recorded in the table; the other jobs still run
            out[name] = f"failed: {exc!r}"[:400]
            return
        out[name].update(rows=rows(result), **output_bytes(folder))

    for n in workers:
        label = f"{n} worker" + ("s" if n > 1 else "")
        try:
            out[f"ray start, {label}"], _ = measured(lambda: connect(None, n))
        except RayMissing as exc:
            return f"not measured: {exc}"
        import ray

        try:
            ds_out, clips_out = tmp / f"ray-dataset-{n}", tmp / f"ray-clips-{n}"
            job(f"dataset, {label}",
                lambda: run_dataset(source, ds_out, ray_address=None, num_cpus=n, endpoint=endpoint),
                lambda r: sum(sum(v.values()) for v in r.rows.values()), ds_out)
            saved()
            job(f"idm prepare, {label}",
                lambda: run_prepare(source, clips_out, ray_address=None, num_cpus=n, endpoint=endpoint),
                lambda r: sum(r.clips.values()), clips_out)
            saved()
        finally:
            ray.shutdown()
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_driver", description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the CI-sized shape")
    parser.add_argument("--ray-workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--json", type=Path, required=True, help="where to write the measurements")
    args = parser.parse_args(argv)
    # as the first process of a PID namespace, SIGTERM without a handler would be ignored
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="crowd-bench-scale-"))
    try:
        run(SMALL if args.small else FULL, args.ray_workers, tmp,
            lambda result: args.json.write_text(json.dumps(result, indent=1)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
