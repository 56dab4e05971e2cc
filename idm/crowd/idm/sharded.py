"""``crowd idm prepare`` at scale: one task per desktop segment on Ray Data.

Usage::

    from crowd.idm.sharded import run_prepare
    result = run_prepare("s3://crowd/bundles", "clips/", ray_address=None, num_cpus=2)
    result.clips     # {"train": 1800, "val": 210}

Sources: a folder of crowd-cast recordings (searched recursively, as ``prepare``) or
``s3://bucket/prefix`` holding uploaded desktop bundles; their segments are listed from the
bundles' manifests, and each task fetches only its segment's video and keylog. Each task
runs ``prepare.safe_process`` (the very function the single-process ``prepare`` runs; every
random choice in it is keyed by session, segment and frame, so where it runs changes
nothing), writes its clips into ``OUT/<split>/`` and its clip records as
``OUT/clips/<split>/<session>_segNNNN.parquet``. The driver then writes what ``prepare``
writes (``train.jsonl``, ``val.jsonl``, their indexes and ``prepare.json``, through
``prepare.collect`` in segment order: byte-identical files) and ``README.md``, the dataset
card of the clip records (``actions_json`` holds the actions). ``OUT`` must be a folder every
node can write (one machine, or a shared file system).

``run_label(model, source, out, ...)`` is ``crowd idm label`` as batch inference: model
actors (one per GPU of the cluster, else one on a CPU) each load the model once and run
``label.label_video`` (the single-video command's function) on one video per task, writing
``OUT/<keylog name>`` and the predicted actions as ``OUT/actions/<video>.parquet``.
"""
from __future__ import annotations

import functools
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crowd.cluster.engine import run_actors, run_tasks
from crowd.cluster.shards import finish_card, write_shard
from crowd.cluster.sources import (bundle_manifest, fetch_bundles, is_s3, parse_s3, s3_sessions,
                                   settings_from_env)
from crowd.format.desktop import layout
from crowd.transfer.store import StoreSettings

from crowd.idm.options import PrepareOptions
from crowd.idm.prepare import PrepareResult, SegmentJob, collect, safe_process, split_sessions

SPLITS = ("train", "val")


@dataclass(frozen=True)
class PrepareJob:
    out: str
    options: PrepareOptions
    settings: StoreSettings | None


def _local_segments(folder: str) -> tuple[list[dict[str, Any]], list[str]]:
    tasks, skipped = [], []
    for seg in layout.list_segments(folder, recursive=True):
        if seg.complete:
            tasks.append({"session": seg.session_id, "index": seg.index, "video": str(seg.video),
                          "keylog": str(seg.keylog), "keys": "[]"})
        else:
            skipped.append(f"{seg.session_id} seg{seg.index}: missing {'video' if seg.video is None else 'keylog'}")
    return tasks, skipped


def _s3_segments(settings: StoreSettings, source: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Segments of every uploaded desktop session, from the bundles' manifests."""
    found: dict[tuple[str, int], dict[str, tuple[str, str]]] = {}
    for session in s3_sessions(settings, parse_s3(source), "desktop"):
        for key in session["keys"]:
            for entry in bundle_manifest(settings, key).get("files", []):
                parsed = layout.parse_name(str(entry.get("name", "")))
                if parsed and "/" not in entry["name"]:
                    kind, sid, index = parsed
                    found.setdefault((sid, index), {})[kind] = (key, entry["name"])
    tasks, skipped = [], []
    for (sid, index), files in sorted(found.items()):
        if "video" in files and "keylog" in files:
            keys = sorted({files["video"][0], files["keylog"][0]})
            tasks.append({"session": sid, "index": index, "video": files["video"][1],
                          "keylog": files["keylog"][1], "keys": json.dumps(keys)})
        else:
            skipped.append(f"{sid} seg{index}: missing {'video' if 'video' not in files else 'keylog'}")
    return tasks, skipped


def prepare_segment(task: dict[str, Any], job: PrepareJob) -> dict[str, Any]:
    """One segment -> its clips (files) and records (a shard); idempotent (Ray may rerun it)."""
    tmp = None
    try:
        video, keylog = task["video"], task["keylog"]
        keys = json.loads(task["keys"])
        if keys:
            assert job.settings is not None
            tmp = Path(tempfile.mkdtemp(prefix="crowd-segment-"))
            fetch_bundles(job.settings, keys, tmp, wanted={video, keylog})
            video, keylog = str(tmp / video), str(tmp / keylog)
        seg = SegmentJob(task["session"], task["index"], video, keylog, task["split"], job.out, job.options)
        output = safe_process(seg)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    if not isinstance(output, str):
        rows = [{**{k: v for k, v in r.items() if k != "actions"}, "actions_json": json.dumps(r["actions"])}
                for r in output[0]]
        name = f"{task['session']}_seg{task['index']:04d}.parquet"
        write_shard(rows, Path(job.out) / "clips" / task["split"] / name)
    return {"output": json.dumps(output)}


def run_prepare(source: str | Path, out: str | Path, options: PrepareOptions | None = None,
                ray_address: str | None = None, num_cpus: int | None = None, *, engine: str = "ray",
                endpoint: str | None = None) -> PrepareResult:
    """Every complete segment under ``source`` -> clips under ``out`` (new or empty)."""
    o = options or PrepareOptions()
    if o.window < 1 or o.stride < 1 or o.fps <= 0:
        raise ValueError("window, stride and fps must be positive")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty; choose a new output folder")
    settings = None
    if is_s3(source):
        settings = settings_from_env(parse_s3(str(source)).bucket, endpoint)
        tasks, skipped = _s3_segments(settings, str(source))
    else:
        tasks, skipped = _local_segments(str(source))
    if not tasks:
        raise FileNotFoundError(f"no complete recording segments (recording_*.mp4 + input_*.msgpack) under {source}")
    splits = split_sessions(sorted({t["session"] for t in tasks}), o.val_fraction, o.seed)
    for t in tasks:
        t["split"] = splits[t["session"]]
    for split in SPLITS:
        (out / split).mkdir(parents=True, exist_ok=True)
    job = PrepareJob(str(out.resolve()), o, settings)
    results = run_tasks(tasks, functools.partial(prepare_segment, job=job), engine=engine,
                        ray_address=ray_address, num_cpus=num_cpus)
    jobs = [SegmentJob(t["session"], t["index"], t["video"], t["keylog"], t["split"], str(out), o) for t in tasks]
    outputs = [json.loads(r["output"]) for r in results]
    result = PrepareResult(skipped=skipped)
    collect(jobs, outputs, out, o, splits, result)
    finish_card(out, {"clips": {s: f"clips/{s}" for s in SPLITS}},
                "Inverse-dynamics training clips prepared by crowd (`crowd idm prepare`): one record per "
                "clip (an animated WebP under train/ or val/), its actions as JSON in `actions_json`.")
    return result


@dataclass
class LabelResult:
    keylogs: list[str]
    actions: int
    failed: list[str]


def _label_videos(source: str, settings: StoreSettings | None) -> list[dict[str, Any]]:
    if settings is not None:
        videos: dict[str, str] = {}
        for session in s3_sessions(settings, parse_s3(source), "desktop"):
            for key in session["keys"]:
                for entry in bundle_manifest(settings, key).get("files", []):
                    parsed = layout.parse_name(str(entry.get("name", "")))
                    if parsed and parsed[0] == "video" and "/" not in entry["name"]:
                        videos.setdefault(entry["name"], key)
        return [{"video": name, "keys": json.dumps([key])} for name, key in sorted(videos.items())]
    path = Path(source)
    if path.is_file():
        return [{"video": str(path), "keys": "[]"}]
    if not path.is_dir():
        raise FileNotFoundError(f"no such video or folder: {source}")
    return [{"video": str(seg.video), "keys": "[]"} for seg in layout.list_segments(path, recursive=True)
            if seg.video is not None]


class Labeller:
    """A model actor: loads the predictor once, then labels one video per call."""

    def __init__(self, model: str, base: str | None, max_new_tokens: int, out: str,
                 settings: StoreSettings | None) -> None:
        from crowd.idm.inference import load_predictor  # noqa: PLC0415 - torch

        self.predictor = load_predictor(model, base=base, max_new_tokens=max_new_tokens)
        self.out = Path(out)
        self.settings = settings

    def __call__(self, task: dict[str, Any]) -> dict[str, Any]:
        from crowd.idm.label import default_output, label_video  # noqa: PLC0415

        name = Path(task["video"]).name
        keylog = default_output(Path(name)).name
        tmp = None
        try:
            video = task["video"]
            keys = json.loads(task["keys"])
            if keys:
                assert self.settings is not None
                tmp = Path(tempfile.mkdtemp(prefix="crowd-label-"))
                fetch_bundles(self.settings, keys, tmp, wanted={video})
                video = str(tmp / video)
            _, actions = label_video(self.predictor, video, self.out / keylog)
        except (FileNotFoundError, ValueError) as exc:
            return {"video": name, "keylog": "", "actions": 0, "error": f"{name}: {exc}"}
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        write_shard([{"video": name, **a.to_record()} for a in actions],
                    self.out / "actions" / (Path(name).stem + ".parquet"))
        return {"video": name, "keylog": keylog, "actions": len(actions), "error": ""}


def run_label(model: str, source: str | Path, out: str | Path, ray_address: str | None = None,
              num_cpus: int | None = None, *, base: str | None = None, max_new_tokens: int = 512,
              engine: str = "ray", endpoint: str | None = None) -> LabelResult:
    """Label every video of ``source`` (a video, a folder, or s3://) into ``out`` (new or empty)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty; choose a new output folder")
    settings = settings_from_env(parse_s3(str(source)).bucket, endpoint) if is_s3(source) else None
    tasks = _label_videos(str(source), settings)
    if not tasks:
        raise FileNotFoundError(f"no videos (recording_*.mp4) under {source}")
    out.mkdir(parents=True, exist_ok=True)
    results = run_actors(tasks, Labeller, {"model": str(model), "base": base, "max_new_tokens": max_new_tokens,
                                           "out": str(out.resolve()), "settings": settings},
                         engine=engine, ray_address=ray_address, num_cpus=num_cpus)
    finish_card(out, {"actions": {"train": "actions"}},
                "Actions predicted by an inverse dynamics model (`crowd idm label`): one row per action, "
                "`frame` in the video's frames at the model's rate; the same actions as crowd-cast keylogs "
                "beside this card.")
    return LabelResult(keylogs=[r["keylog"] for r in results if r["keylog"]],
                       actions=sum(int(r["actions"]) for r in results),
                       failed=[r["error"] for r in results if r["error"]])
