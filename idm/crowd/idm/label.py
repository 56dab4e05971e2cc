"""`crowd idm label`: annotate an unlabelled screen video with a crowd-cast keylog.

The keylog is written through crowd.format.desktop.keylog, so `crowd cast overlay` and every tool
that reads crowd-cast data replays it like a recorded one. Predicted actions are placed in the
middle of their frame's interval (the recipe reports an action on the last frame before its
effect); a KeyPress "Cmd+Shift+P" becomes modifier presses, the key press, and releases in
reverse order, all within that interval.
"""
from __future__ import annotations

from pathlib import Path

from crowd.format.desktop import keylog as kl
from crowd.format.desktop import layout

from crowd.idm.actions import SCROLL_PX
from crowd.idm.frames import is_black, sample_video, video_size
from crowd.idm.inference import Predictor, predict_sequence
from crowd.idm.prompt import Action

MODIFIER_KEYS = {"Cmd": "MetaLeft", "Ctrl": "ControlLeft", "Alt": "Alt", "Shift": "ShiftLeft"}
APP_ID = kl.UNKNOWN  # a labelled video carries no focus information


def key_name(label: str) -> str:
    """Inverse of actions.key_label: A -> KeyA, 5 -> Digit5, Return -> Return."""
    if len(label) == 1 and label.isalpha():
        return "Key" + label.upper()
    if len(label) == 1 and label.isdigit():
        return "Digit" + label
    return label


def actions_to_entries(actions: list[Action], fps: float, size: tuple[int, int], platform: str = "linux") -> list[kl.Entry]:
    """Keylog entries for per-frame actions (frame indices in video frames at `fps`)."""
    w, h = size
    step_us = 1e6 / fps
    meta = kl.Metadata(w, h, w / h, w, h, w / h, w, h, w / h, "1970-01-01T00:00:00Z", None, [[0, 0, 0, w, h]],
                       platform, "display")
    entries: list[kl.Entry] = [kl.Entry(0, meta), kl.Entry(0, kl.ContextChanged(APP_ID))]
    for a in sorted(actions, key=lambda a: a.frame):
        t = int((a.frame + 0.5) * step_us)
        tick = max(1, int(step_us / 40))
        if a.type == "KeyPress":
            *mods, key = a.details.split("+")
            names = [MODIFIER_KEYS.get(m, m) for m in mods] + [key_name(key)]
            for k, n in enumerate(names):
                entries.append(kl.Entry(t + k * tick, kl.KeyPress(0, n)))
            for k, n in enumerate(reversed(names)):
                entries.append(kl.Entry(t + (len(names) + k) * tick, kl.KeyRelease(0, n)))
        elif a.type == "MouseClick":
            entries += [kl.Entry(t, kl.MousePress(a.details)), kl.Entry(t + 2 * tick, kl.MouseRelease(a.details))]
        elif a.type == "MouseMove":
            dx, dy = a.vector()
            entries.append(kl.Entry(t, kl.MouseMove(dx * w / 1000.0, dy * h / 1000.0)))
        elif a.type == "MouseScroll":
            steps = a.scroll() * h / 1000.0 / SCROLL_PX.get(platform, 1.0)
            steps_i = int(round(steps)) or (1 if steps > 0 else -1)
            entries.append(kl.Entry(t, kl.MouseScroll(0, steps_i, 0.0, 0.0)))
    entries.sort(key=lambda e: e.t_us)
    return entries


def default_output(video: Path) -> Path:
    parsed = layout.parse_name(video.name)
    if parsed and parsed[0] == "video":
        return video.with_name(layout.keylog_name(parsed[1], parsed[2]))
    return video.with_name(video.stem + ".input.msgpack")


def label_video(pred: Predictor, video: str | Path, out: str | Path | None = None, max_pixels: int | None = None,
                stride: int = 5) -> tuple[Path, list[Action]]:
    """Predicts actions over the whole video and writes them as a keylog; returns (path, actions)."""
    video = Path(video)
    if not video.exists():
        raise FileNotFoundError(f"no such video: {video}")
    size = video_size(video)
    frames = [f for _, f in sample_video(video, pred.fps, max_pixels or pred.max_pixels)]
    if not frames:
        raise ValueError(f"{video}: no frames decoded")
    actions = [a for a in predict_sequence(pred, frames, stride=stride, cover_edges=True) if not is_black(frames[a.frame])]
    out_path = Path(out) if out else default_output(video)
    kl.write_keylog(out_path, actions_to_entries(actions, pred.fps, size))
    return out_path, actions
