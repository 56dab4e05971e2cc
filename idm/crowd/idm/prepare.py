"""Recordings (crowd-cast layout) -> IDM clips: frames at a fixed rate plus sparse actions.

Output folder:
  prepare.json             options and counts (what produced this data)
  train.jsonl, val.jsonl   one clip per line: file, session, segment, start frame, actions
  train/, val/             one lossless animated WebP per clip (see frames.py for why)

The split is by session, never by segment: segments of one session share the same screen,
task and person, so splitting per segment leaks them across train and val. Every random
choice is keyed by (seed, session, segment, start frame), so the output is identical
whatever the worker count or processing order.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from crowd.format.desktop import keylog as kl
from crowd.format.desktop import layout

from crowd.idm.actions import extract_actions, geometry_of
from crowd.idm.clip_index import index_path, load_clips, write_index  # noqa: F401 - load_clips re-exported
from crowd.idm.frames import is_black, sample_video, video_frame_count, video_size, write_clip
from crowd.idm.options import PrepareOptions
from crowd.idm.prompt import Action

log = logging.getLogger(__name__)


@dataclass
class SegmentJob:
    session: str
    index: int
    video: str
    keylog: str
    split: str
    out: str
    options: PrepareOptions


@dataclass
class PrepareResult:
    clips: dict[str, int] = field(default_factory=dict)
    empty_dropped: int = 0
    black_frames: int = 0
    frames: int = 0
    segments: int = 0
    skipped: list[str] = field(default_factory=list)
    truncated_keylogs: list[str] = field(default_factory=list)   # "session segN": warned, clips marked
    clips_past_truncation: int = 0


def _unit(seed: int, *key: object) -> float:
    """A uniform number in [0, 1) determined by its key alone (order- and process-independent)."""
    h = hashlib.sha256(":".join(map(str, (seed, *key))).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def split_sessions(sessions: list[str], val_fraction: float, seed: int) -> dict[str, str]:
    """Session -> "train"/"val". At least one val session when there are two or more."""
    ordered = sorted(sessions, key=lambda s: _unit(seed, "split", s))
    n_val = round(val_fraction * len(ordered))
    if val_fraction > 0 and len(ordered) >= 2:
        n_val = max(1, min(n_val, len(ordered) - 1))
    return {s: ("val" if i < n_val else "train") for i, s in enumerate(ordered)}


def clip_name(session: str, index: int, start: int) -> str:
    return f"{session}_seg{index:04d}_f{start:05d}.webp"


def read_segment_keylog(path: str) -> tuple[list, bool]:
    """(entries, truncated). A keylog cut short (a crashed or killed recorder) is read up to its
    last whole entry and reported: the clips after the cut would otherwise be labelled `[]`."""
    try:
        return kl.read_keylog(path, strict=True), False
    except kl.KeylogError:
        return kl.read_keylog(path, strict=False), True


def process_segment(job: SegmentJob) -> tuple[list[dict], int, int, int, dict]:
    """Clips of one segment: (records, empty clips dropped, black frames, frames sampled, notes).

    Every run of non-black frames is covered: after the windows at `stride`, a tail that no
    window reached gets one more window aligned to the run's end (overlapping the previous
    one), and a run shorter than a window becomes one shorter clip. The reference dropped the
    tail silently (frames 10-18 of a 19-frame segment, holding 4 of its 6 actions).
    A truncated keylog is warned about, its clips are marked `keylog_truncated`, and clips that
    reach past its last entry are dropped: their actions are unknown, not `[]`.
    """
    o = job.options
    window, stride = (o.val_window, o.val_stride) if job.split == "val" else (o.window, o.stride)
    entries, truncated = read_segment_keylog(job.keylog)
    cut = max((e.frame(o.fps) for e in entries), default=-1) if truncated else None
    notes: dict = {"truncated": truncated, "past_cut": 0}
    if truncated:
        log.warning("%s: keylog truncated after %d entries (frame %d); clips past it are dropped",
                    job.keylog, len(entries), cut)
    geometry = geometry_of(entries, video_size(job.video))
    per_frame = extract_actions(entries, o.fps, geometry, n_frames=video_frame_count(job.video, o.fps), held=o.held)
    out_dir = Path(job.out) / job.split
    records: list[dict] = []
    run: list[tuple[int, object]] = []
    dropped = black = total = 0
    covered = -1   # last frame index inside an emitted (or deliberately dropped) clip

    def emit(frames: list[tuple[int, object]]) -> None:
        nonlocal dropped, covered
        start = frames[0][0]
        covered = max(covered, frames[-1][0])
        if cut is not None and frames[-1][0] > cut:
            notes["past_cut"] += 1
            return
        actions = [Action(a.frame - start, a.type, a.details, a.visibility).to_record()
                   for i, _ in frames for a in per_frame.get(i, [])]
        if not actions and _unit(o.seed, "empty", job.session, job.index, start) >= o.keep_empty:
            dropped += 1
            return
        name = clip_name(job.session, job.index, start)
        write_clip(out_dir / name, [f for _, f in frames], o.fps)
        h, w = frames[0][1].shape[:2]
        rec = {"clip": f"{job.split}/{name}", "session": job.session, "segment": job.index,
               "start_frame": start, "n_frames": len(frames), "fps": o.fps, "width": w, "height": h,
               "source_width": geometry.width, "source_height": geometry.height, "actions": actions}
        if truncated:
            rec["keylog_truncated"] = True
        records.append(rec)

    def finish(tail: list[tuple[int, object]]) -> None:
        """End of a run: one window aligned to its end covers any frames no window reached."""
        if tail and tail[-1][0] > covered:
            emit(tail[-window:])

    recent: list[tuple[int, object]] = []   # the run's last `window` frames, for the end-aligned window
    for i, frame in sample_video(job.video, o.fps, o.max_pixels):
        total += 1
        if is_black(frame):
            black += 1          # a black frame ends the run; its events are dropped with it
            finish(recent)
            run, recent = [], []
            continue
        if run and run[-1][0] != i - 1:
            finish(recent)
            run, recent = [], []
        run.append((i, frame))
        recent = (recent + [(i, frame)])[-window:]
        if len(run) == window:
            emit(run)
            run = run[stride:] if stride < window else []
    finish(recent)
    return records, dropped, black, total, notes


def prepare(recordings: str | Path, out: str | Path, options: PrepareOptions | None = None) -> PrepareResult:
    """Turns every complete segment under `recordings` into clips under `out`."""
    import multiprocessing as mp
    import os

    o = options or PrepareOptions()
    if o.window < 1 or o.stride < 1 or o.fps <= 0:
        raise ValueError("window, stride and fps must be positive")
    out = Path(out)
    segments = layout.list_segments(recordings, recursive=True)
    result = PrepareResult()
    complete = []
    for seg in segments:
        if seg.complete:
            complete.append(seg)
        else:
            result.skipped.append(f"{seg.session_id} seg{seg.index}: missing {'video' if seg.video is None else 'keylog'}")
    if not complete:
        raise FileNotFoundError(f"no complete recording segments (recording_*.mp4 + input_*.msgpack) under {recordings}")
    splits = split_sessions(sorted({s.session_id for s in complete}), o.val_fraction, o.seed)
    for split in ("train", "val"):
        (out / split).mkdir(parents=True, exist_ok=True)
    jobs = [SegmentJob(s.session_id, s.index, str(s.video), str(s.keylog), splits[s.session_id], str(out), o)
            for s in complete]
    workers = min(len(jobs), o.workers or os.cpu_count() or 1)
    if workers > 1:
        with mp.get_context("spawn").Pool(workers) as pool:
            outputs = pool.map(safe_process, jobs, chunksize=1)
    else:
        outputs = [safe_process(j) for j in jobs]
    collect(jobs, outputs, out, o, splits, result)
    return result


def collect(jobs: list[SegmentJob], outputs: list[tuple | str], out: Path, o: PrepareOptions,
            splits: dict[str, str], result: PrepareResult) -> None:
    """Segments' outputs (in job order) -> the jsonl files, indexes and prepare.json; also
    what crowd.idm.sharded calls with the outputs of its Ray tasks."""
    by_split: dict[str, list[dict]] = {"train": [], "val": []}
    for job, res in zip(jobs, outputs):
        if isinstance(res, str):
            result.skipped.append(f"{job.session} seg{job.index}: {res}")
            continue
        records, dropped, black, total, notes = res
        if notes["truncated"]:
            result.truncated_keylogs.append(f"{job.session} seg{job.index}")
            result.clips_past_truncation += notes["past_cut"]
        by_split[job.split].extend(records)
        result.empty_dropped += dropped
        result.black_frames += black
        result.frames += total
        result.segments += 1
    for split, records in by_split.items():
        with open(out / f"{split}.jsonl", "w") as fh:
            for r in records:
                fh.write(json.dumps(r) + "\n")
        write_index(records, index_path(out, split))   # memory-mapped by the trainer (clip_index.py)
        result.clips[split] = len(records)
    (out / "prepare.json").write_text(json.dumps({"options": asdict(o), "result": asdict(result),
                                                  "sessions": splits}, indent=1))


def safe_process(job: SegmentJob) -> tuple | str:
    """A damaged segment is reported and skipped; it must not abort the whole run."""
    try:
        return process_segment(job)
    except Exception as exc:  # noqa: BLE001 - reported per segment in the result
        return f"{type(exc).__name__}: {exc}"


def clip_actions(record: dict) -> list[Action]:
    return [Action.from_record(a) for a in record["actions"]]
