"""Issue 20's scale benchmark: generated editor sessions and desktop segments through
upload -> bucket (the real embedded SeaweedFS on loopback) -> Ray -> Parquet, side by side
with today's single-process converters (``crowd dataset``, ``crowd idm prepare --workers 1``).

Full size: 1,000 editor sessions of 0.01 h (36 s of scripted work each, 10 editor-hours) and
200 desktop segments of 10 s at 320x240 10 fps (50 recordings x 4 segments), plus one 20 s
1080p30 segment through the single-process prepare (what a crowd-cast frame costs); ``--quick``:
8 sessions, 2 segments of 6 s and 2 s of 1080p30. Throughput per core is items per CPU-second of every
process the stage ran (bench.scale_cpu: our process, the weed store, Ray's daemons and
workers), so it does not depend on what else the shared 2-core machine was doing; wall times
and the 2-over-1-worker speed-up do, and are noisy here.

The pipeline runs in its own process (bench.scale_driver) inside a private network
namespace (``unshare -n``, loopback up) whenever this machine allows one: Ray listens on every
interface otherwise (shared/reference/scale.md). Without one, the Ray rows say so and are
not measured.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.table import Table

REPO = Path(__file__).resolve().parent.parent
DRIVER_TIMEOUT_S = 3600.0   # an upper bound only: the full run took 19 min here under load (~9 CPU-min)
# network namespace: loopback only; PID namespace: every process the run started (weed, Ray's
# daemons and workers) dies with it, and /proc shows only those (bench.scale_cpu sums them)
UNSHARE = ["unshare", "-n", "-p", "-f", "--mount-proc"]


def private_network() -> bool:
    """Whether ``unshare -n`` can give the driver a network namespace of its own."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return False
    return subprocess.run([*UNSHARE, "true"], capture_output=True).returncode == 0


def measure(quick: bool, workers: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """Run the driver (in private namespaces when possible) and read its JSON; Ray runs once
    per entry of ``workers``, and not at all without a private network namespace."""
    isolated = private_network()
    with tempfile.TemporaryDirectory(prefix="crowd-bench-scale-json-") as d:
        out = Path(d) / "scale.json"
        args = [sys.executable, "-m", "bench.scale_driver", "--json", str(out)]
        args += ["--small"] if quick else []
        args += ["--ray-workers", *(str(n) for n in workers)] if isolated else ["--ray-workers"]
        # $0.. are the driver's argv; loopback is down in a new namespace until set up
        cmd = [*UNSHARE, "bash", "-c", 'ip link set lo up && exec "$0" "$@"', *args] if isolated else args
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=DRIVER_TIMEOUT_S)
        if proc.returncode != 0:
            raise RuntimeError(f"bench.scale_driver failed ({proc.returncode}): {proc.stderr[-3000:]}")
        result = json.loads(out.read_text())
    result["isolated"] = isolated
    return result


def _per_core(items: float, cpu_s: float) -> float | str:
    return round(items / cpu_s, 2) if cpu_s > 0 else "-"


def table(result: dict[str, Any]) -> Table:
    shape, stages = result["shape"], result["stages"]
    editor_h = shape["sessions"] * shape["session_hours"]
    desktop_h = shape["segments"] * shape["segment_seconds"] / 3600
    rows: list[list[object]] = []
    failures: list[str] = []

    up = stages["upload -> bucket"]
    mib = up["bytes"] / 2**20
    rows.append(["upload -> bucket (client + ingest + SeaweedFS)", f"{up['bundles']} bundles, {mib:.1f} MiB",
                 up["wall_s"], up["cpu_s"], _per_core(up["bundles"], up["cpu_s"]),
                 _per_core(editor_h + desktop_h, up["cpu_s"] / 3600), "-"])

    def converter_rows(kind: str, label: str, items: int, hours: float, unit: str) -> None:
        base = stages[f"{kind}, one process"]
        rows.append([f"{label}, one process (today)", f"{items} {unit}", base["wall_s"], base["cpu_s"],
                     _per_core(items, base["cpu_s"]), _per_core(hours, base["cpu_s"] / 3600), "-"])
        ray = result.get("ray")
        if not isinstance(ray, dict):
            rows.append([f"{label}, Ray", f"{items} {unit}", "not measured", "-", "-", "-", "-"])
            return
        one = ray.get(f"{kind}, 1 worker")
        measured = sorted((k, v) for k, v in ray.items() if k.startswith(f"{kind}, "))
        if not measured:
            rows.append([f"{label}, Ray", f"{items} {unit}", "not measured", "-", "-", "-", "-"])
        for name, stage in measured:
            if isinstance(stage, str):   # the job failed: its error, in the notes
                rows.append([f"{label}, Ray {name.split(', ')[1]}", f"{items} {unit}", "FAILED", "-", "-", "-", "-"])
                failures.append(f"{name}: {stage}")
                continue
            speed = (round(one["wall_s"] / stage["wall_s"], 2)
                     if isinstance(one, dict) and name != f"{kind}, 1 worker" else "-")
            rows.append([f"{label}, Ray {name.split(', ')[1]}", f"{items} {unit}", stage["wall_s"],
                         stage["cpu_s"], _per_core(items, stage["cpu_s"]),
                         _per_core(hours, stage["cpu_s"] / 3600), speed])

    converter_rows("dataset", "crowd dataset (4 kinds, Parquet)", shape["sessions"], editor_h, "sessions")
    converter_rows("idm prepare", "crowd idm prepare (5 fps clips)", shape["segments"], desktop_h, "segments")
    hd = stages.get("idm prepare 1080p30, one process")
    if hd:
        rows.append([f"crowd idm prepare, 1080p30 ({shape['hd_seconds']:g} s), one process", "1 segment",
                     hd["wall_s"], hd["cpu_s"], _per_core(1, hd["cpu_s"]),
                     _per_core(shape["hd_seconds"] / 3600, hd["cpu_s"] / 3600), "-"])

    notes = [f"inputs: {shape['sessions']} editor sessions x {shape['session_hours']} h "
             f"({result['input_bytes']['editor'] / 2**20:.1f} MiB); {shape['segments']} desktop segments x "
             f"{shape['segment_seconds']:.0f} s at {shape['size'][0]}x{shape['size'][1]} {shape['video_fps']} fps "
             f"({result['input_bytes']['desktop'] / 2**20:.1f} MiB); bucket after upload "
             f"{result['bucket_bytes'] / 2**20:.1f} MiB",
             f"upload per core: {_per_core(mib, up['cpu_s'])} MiB per CPU-second (bundle tars: zstd frames and "
             "H.264, not compressible further)",
             "per core = items (or recorded hours) per CPU-second (CPU-hour) summed over every process of the "
             "stage (ours, weed, Ray's daemons and workers); wall s and speed-up depend on the shared machine's load",
             "speed-up = wall of 1 Ray worker / wall of N workers on this 2-core machine"]
    if result["isolated"]:
        notes.append("store, ingest, uploader and Ray ran inside private network and PID namespaces "
                     "(unshare -n -p, loopback only): Ray listens on every interface otherwise")
    ray = result.get("ray")
    if isinstance(ray, dict):
        starts = [f"{k.split(', ')[1]}: {v['wall_s']:.1f} s wall, {v['cpu_s']:.1f} CPU s"
                  for k, v in sorted(ray.items()) if k.startswith("ray start")]
        notes.append("starting a local Ray (ray.init, not in the rows above): " + "; ".join(starts))
    else:
        notes.append(f"Ray rows: {result.get('ray') or 'not measured'}")
    notes += [f"FAILED {f}" for f in failures]
    return Table("scale: upload -> bucket -> Ray -> Parquet vs today's single-process converters",
                 ["stage", "items", "wall s", "CPU s", "items / core-s", "recorded h / core-h",
                  "speed-up vs 1 worker"], rows, notes)


def run(quick: bool = False) -> list[Table]:
    return [table(measure(quick))]
