"""Hand-curated evaluation clips -> a prepared split that `crowd idm eval` scores.

The model card's headline numbers come from clips a person checked and annotated with a
visibility class per action (`visible`: its effect is on screen; `inferable`: deducible from
context; `not_predictable`: no frame shows it). Those are reported per class and only the
first two are scored (metrics.py). This reads such a set from a manifest and writes it in
prepare's layout (WebP clips + `<split>.jsonl` + `<split>.arrow`), so eval needs no other path.

Manifest: JSON Lines, one clip per line:
  {"video": "path/to/recording.mp4",        # relative to the manifest's folder, or absolute
   "start": 12.4,                           # seconds into the video (default 0)
   "frames": 25,                            # clip length in frames at --fps (default 25)
   "id": "optional-name",
   "actions": [{"frame": 3, "type": "KeyPress", "details": "Ctrl+C", "visibility": "inferable"}]}

Bad input gets a clear error naming the line and field, and nothing is written until every line
has been checked (so a fix and a rerun lose nothing).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from crowd.idm.clip_index import index_path, write_index
from crowd.idm.frames import sample_video, video_size, write_clip
from crowd.idm.prompt import ACTION_TYPES, VISIBILITY_CLASSES, Action


class ManifestError(ValueError):
    pass


@dataclass
class CuratedClip:
    line: int
    video: Path
    start: float
    frames: int
    name: str
    actions: list[Action]


def read_manifest(path: str | Path, default_frames: int = 25) -> list[CuratedClip]:
    """Parses and checks every line; raises ManifestError listing every problem found."""
    path = Path(path)
    problems: list[str] = []
    clips: list[CuratedClip] = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        where = f"{path.name}:{n}"
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not JSON ({exc.msg})")
            continue
        if not isinstance(item, dict) or not isinstance(item.get("video"), str):
            problems.append(f"{where}: needs a \"video\" path")
            continue
        video = Path(item["video"]) if Path(item["video"]).is_absolute() else path.parent / item["video"]
        if not video.exists():
            problems.append(f"{where}: video {video} not found")
        frames, start = item.get("frames", default_frames), item.get("start", 0)
        if not isinstance(frames, int) or frames < 1:
            problems.append(f"{where}: \"frames\" must be a positive integer")
            frames = 1
        if not isinstance(start, (int, float)) or start < 0:
            problems.append(f"{where}: \"start\" must be seconds >= 0")
            start = 0
        actions = []
        for k, a in enumerate(item.get("actions", [])):
            bad = _check_action(a, frames)
            if bad:
                problems.append(f"{where}: action {k}: {bad}")
            else:
                actions.append(Action(int(a["frame"]), a["type"], str(a["details"]), a.get("visibility", "visible")))
        clips.append(CuratedClip(n, video, float(start), frames, str(item.get("id") or f"curated_{n:05d}"), actions))
    names = [c.name for c in clips]
    problems += [f"id {x!r} is used twice" for x in sorted({x for x in names if names.count(x) > 1})]
    if problems:
        raise ManifestError("curated manifest has problems:\n  " + "\n  ".join(problems))
    if not clips:
        raise ManifestError(f"{path}: no clips")
    return clips


def _check_action(a: object, frames: int) -> str | None:
    if not isinstance(a, dict):
        return "not an object"
    if a.get("type") not in ACTION_TYPES:
        return f"type must be one of {', '.join(ACTION_TYPES)}"
    if not isinstance(a.get("frame"), int) or not 0 <= a["frame"] < frames:
        return f"frame must be an integer in 0..{frames - 1}"
    if a.get("details") in (None, ""):
        return "details missing"
    if a.get("visibility", "visible") not in VISIBILITY_CLASSES:
        return f"visibility must be one of {', '.join(VISIBILITY_CLASSES)}"
    return None


def import_curated(manifest: str | Path, out: str | Path, fps: float = 5.0, max_pixels: int = 524_288,
                   split: str = "val") -> int:
    """Writes the manifest's clips as `split` under `out`; returns the number of clips."""
    clips = read_manifest(manifest)
    out = Path(out)
    (out / split).mkdir(parents=True, exist_ok=True)
    records = []
    for c in clips:
        first = round(c.start * fps)
        frames = [f for i, f in sample_video(c.video, fps, max_pixels) if first <= i < first + c.frames]
        if len(frames) < c.frames:
            raise ManifestError(f"line {c.line}: {c.video} has {len(frames)} frames from {c.start:g} s, "
                                f"the clip needs {c.frames}")
        name = f"{c.name}.webp"
        write_clip(out / split / name, frames, fps)
        sw, sh = video_size(c.video)
        h, w = frames[0].shape[:2]
        records.append({"clip": f"{split}/{name}", "session": c.name, "segment": 0, "start_frame": first,
                        "n_frames": c.frames, "fps": fps, "width": w, "height": h, "source_width": sw,
                        "source_height": sh, "actions": [a.to_record() for a in c.actions], "curated": True})
    with open(out / f"{split}.jsonl", "w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records)
    write_index(records, index_path(out, split))
    return len(records)
