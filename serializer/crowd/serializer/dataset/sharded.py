"""``crowd dataset`` at scale: one task per session on Ray Data, Parquet shards + a dataset card.

Usage::

    from crowd.serializer.dataset.sharded import run_dataset
    result = run_dataset(["s3://crowd/bundles"], "out/", ray_address=None, num_cpus=2)
    result.rows      # {"trajectories": {"train": 812, "validation": 95}, ...}

Sources are recordings on disk (one task each) or ``s3://bucket/prefix`` (one task per
uploaded editor session, its bundles unpacked by the task). Each task loads its session and
runs the very converters ``build_datasets`` runs (``build.convert``, same tokenizer, same
split rule), writing ``OUT/<kind>/<split>/<session hash>.parquet``; the driver then writes
``README.md`` (configs + features, read by ``datasets.load_dataset(OUT)``) and
``metadata.json``. Rows equal ``build_datasets``'s rows (tests/scale compares them); only
the order across sessions differs (shards are named by a hash of the session id).
``engine="local"`` runs the same task function in a loop, without Ray.
"""
from __future__ import annotations

import functools
import hashlib
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crowd.cluster.engine import run_tasks
from crowd.cluster.shards import finish_card, write_shard
from crowd.cluster.sources import (S3Location, fetch_bundles, is_s3, parse_s3, s3_sessions,
                                   settings_from_env)
from crowd.serializer.dataset.build import DATASET_FORMAT_VERSION, DESCRIPTIONS, KINDS, convert
from crowd.serializer.dataset.common import parquet_row, session_split
from crowd.serializer.dataset.tokenizer import QwenCounter
from crowd.transfer.store import StoreSettings

SPLITS = ("train", "validation")


@dataclass
class DatasetResult:
    sessions: list[dict[str, Any]] = field(default_factory=list)
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class DatasetJob:
    """What every task needs besides its session (sent to the workers once per task)."""
    out: str
    kinds: tuple[str, ...]
    val_fraction: float
    max_tokens: int
    settings: StoreSettings | None


def plan(sources: list[str], endpoint: str | None = None) -> tuple[list[dict[str, Any]], StoreSettings | None]:
    """Task descriptions for the sources: {"path"} for a local recording, {"name", "keys"} for
    an uploaded session. One store (bucket) per run."""
    tasks: list[dict[str, Any]] = []
    settings = None
    for src in sources:
        if is_s3(src):
            loc: S3Location = parse_s3(str(src))
            if settings is not None and settings.bucket != loc.bucket:
                raise ValueError("all s3:// sources of one run must be in the same bucket")
            settings = settings or settings_from_env(loc.bucket, endpoint)
            found = s3_sessions(settings, loc, "editor")
            if not found:
                raise ValueError(f"no editor sessions under {loc.url}")
            tasks += [{"path": "", "name": s["name"], "keys": json.dumps(s["keys"])} for s in found]
        else:
            if not Path(src).exists():
                raise ValueError(f"no such recording: {src}")
            tasks.append({"path": str(src), "name": Path(src).name, "keys": "[]"})
    return tasks, settings


@functools.lru_cache(maxsize=1)
def _counter() -> Any:
    """One tokenizer per worker process (loading the vocabulary takes ~1 s)."""
    return QwenCounter()


def shard_name(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()[:20] + ".parquet"


def convert_session(task: dict[str, Any], job: DatasetJob) -> dict[str, Any]:
    """One session -> its rows of every kind, written as shards. Idempotent (Ray may rerun it)."""
    from crowd.serializer.interop.load import UnknownInput, load_events  # noqa: PLC0415

    tmp = None
    try:
        if task["path"]:
            path = Path(task["path"])
        else:
            assert job.settings is not None
            tmp = Path(tempfile.mkdtemp(prefix="crowd-session-"))
            path = fetch_bundles(job.settings, json.loads(task["keys"]), tmp / task["name"])
        loaded = load_events(path)
    except (UnknownInput, ValueError, OSError) as exc:   # one unreadable session must not end the job
        return {"session_id": "", "format": "", "events": 0, "split": "", "rows": "{}",
                "problems": json.dumps([f"{task['name']}: skipped, unreadable: {exc}"])}
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    sid = loaded.session_id or task["name"]
    split = session_split(sid, job.val_fraction)
    counter = _counter() if any(k in ("next-action", "sed") for k in job.kinds) else None
    rows = {}
    for kind in job.kinds:
        converted = convert(kind, loaded.events, sid, counter, job.max_tokens)
        rows[kind] = write_shard([parquet_row(r) for r in converted], Path(job.out) / kind / split / shard_name(sid))
    return {"session_id": sid, "format": loaded.format, "events": len(loaded.events), "split": split,
            "rows": json.dumps(rows), "problems": json.dumps([f"{sid}: {p}" for p in loaded.problems])}


def run_dataset(sources: list[str] | str, out: str | Path, ray_address: str | None = None,
                num_cpus: int | None = None, *, kinds: tuple[str, ...] | list[str] = KINDS,
                val_fraction: float = 0.1, max_tokens: int = 8192, engine: str = "ray",
                endpoint: str | None = None) -> DatasetResult:
    """Convert every session of ``sources`` into ``out`` (must be new or empty)."""
    t0 = time.monotonic()
    sources = [sources] if isinstance(sources, (str, Path)) else list(sources)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown dataset kind {unknown[0]!r}; choose from {', '.join(KINDS)}")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty; choose a new output folder")
    tasks, settings = plan([str(s) for s in sources], endpoint)
    out.mkdir(parents=True, exist_ok=True)
    job = DatasetJob(str(out.resolve()), tuple(kinds), val_fraction, max_tokens, settings)
    results = run_tasks(tasks, functools.partial(convert_session, job=job), engine=engine,
                        ray_address=ray_address, num_cpus=num_cpus)
    read = [r for r in results if r["session_id"]]
    ids = [r["session_id"] for r in read]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"the same session id appears twice in the inputs: {dupes}")
    result = DatasetResult()
    for r in sorted(results, key=lambda r: r["session_id"]):
        if r["session_id"]:
            result.sessions.append({"session_id": r["session_id"], "format": r["format"], "events": r["events"],
                                    "split": r["split"]})
        result.problems += json.loads(r["problems"])
    description = ("Training data converted by crowd (`crowd dataset`), one Parquet shard per session "
                   "and split.\n\n" + "\n".join(f"- **{k}**: {DESCRIPTIONS[k]}" for k in kinds))
    result.rows = finish_card(out, {k: {s: f"{k}/{s}" for s in SPLITS} for k in kinds}, description)
    meta = {"format": "crowd-dataset", "format_version": DATASET_FORMAT_VERSION, "layout": "parquet-shards",
            "val_fraction": val_fraction, "split_rule": "sha256(session_id)[:8] / 2**64 < val_fraction -> validation",
            "sessions": result.sessions, "max_tokens": max_tokens,
            "tokenizer": QwenCounter.name if any(k in ("next-action", "sed") for k in kinds) else None,
            "datasets": {k: {"rows": result.rows[k], "description": DESCRIPTIONS[k]} for k in kinds},
            "problems": result.problems}
    (out / "metadata.json").write_text(json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    result.seconds = time.monotonic() - t0
    return result
