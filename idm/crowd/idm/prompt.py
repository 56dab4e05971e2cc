"""The text side of one IDM example: actions as JSON, the chat template, and output parsing.

Kept free of torch so that prepare, eval and label can share the exact strings the model was
trained on; any drift between training and inference prompts silently costs accuracy.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

ACTION_TYPES: tuple[str, ...] = ("KeyPress", "MouseClick", "MouseMove", "MouseScroll")
VISIBILITY_CLASSES: tuple[str, ...] = ("visible", "inferable", "not_predictable")

SYSTEM_PROMPT = "Screen frames at {fps} FPS. List the user's actions as JSON."
QUESTION = "Actions?"

IM_START, IM_END = "<|im_start|>", "<|im_end|>"
VISION_START, VISION_END, IMAGE_PAD = "<|vision_start|>", "<|vision_end|>", "<|image_pad|>"


@dataclass(frozen=True)
class Action:
    """One sparse action: frame index within its clip, type, and type-specific details.

    details: KeyPress "Cmd+Shift+P"; MouseClick "Left"; MouseMove "dx,dy" on the -1000..1000
    scale; MouseScroll "-150" (vertical, same scale). visibility is only set on ground truth
    that was hand-verified or generated synthetically.
    """

    frame: int
    type: str
    details: str
    visibility: str = field(default="visible", compare=False)

    def to_json(self) -> dict:
        return {"frame": frame_name(self.frame), "type": self.type, "details": self.details}

    def to_record(self) -> dict:
        d = asdict(self)
        if d["visibility"] == "visible":
            del d["visibility"]
        return d

    @staticmethod
    def from_record(d: dict) -> "Action":
        return Action(int(d["frame"]), str(d["type"]), str(d["details"]), str(d.get("visibility", "visible")))

    def vector(self) -> tuple[float, float]:
        """MouseMove displacement (dx, dy); (0, 0) when details do not parse."""
        try:
            dx, dy = self.details.split(",")
            return float(dx), float(dy)
        except ValueError:
            return 0.0, 0.0

    def scroll(self) -> float:
        try:
            return float(self.details)
        except ValueError:
            return 0.0


def frame_name(i: int) -> str:
    return f"F{i:02d}"


def actions_to_text(actions: list[Action]) -> str:
    """The assistant's answer: a JSON list in frame order, `[]` when nothing happened."""
    ordered = sorted(actions, key=lambda a: (a.frame, ACTION_TYPES.index(a.type) if a.type in ACTION_TYPES else 9))
    return json.dumps([a.to_json() for a in ordered], ensure_ascii=False)


_OBJ = re.compile(r"\{[^{}]*\}")


def parse_actions(text: str, n_frames: int | None = None) -> list[Action]:
    """Parses model output leniently: a truncated or malformed list still yields its whole objects.

    Objects with an unknown type, a frame outside the window, or missing fields are dropped
    rather than raising, because a generation error must cost recall, not the whole eval run.
    """
    found: list[dict] = []
    try:
        value = json.loads(text)
        if isinstance(value, list):
            found = [v for v in value if isinstance(v, dict)]
    except (json.JSONDecodeError, ValueError):
        for m in _OBJ.finditer(text):
            try:
                v = json.loads(m.group(0))
            except json.JSONDecodeError:
                continue
            if isinstance(v, dict):
                found.append(v)
    out: list[Action] = []
    for v in found:
        frame, typ, details = v.get("frame"), v.get("type"), v.get("details")
        if typ not in ACTION_TYPES or details is None or frame is None:
            continue
        m = re.fullmatch(r"F?(\d+)", str(frame))
        if not m:
            continue
        idx = int(m.group(1))
        if n_frames is not None and not 0 <= idx < n_frames:
            continue
        out.append(Action(idx, typ, str(details)))
    return out


def build_prompt(n_frames: int, tokens_per_frame: list[int], fps: float) -> str:
    """The chat-formatted prompt up to and including the assistant header.

    Each frame is preceded by its "Frame Fxx:" label: the released ablation shows that without
    these labels the model cannot tell which frame an action belongs to (F1 0.86 -> 0.77).
    """
    parts = [f"{IM_START}system\n{SYSTEM_PROMPT.format(fps=_fmt_fps(fps))}{IM_END}\n{IM_START}user\n"]
    for i in range(n_frames):
        parts.append(f"Frame {frame_name(i)}:{VISION_START}{IMAGE_PAD * tokens_per_frame[i]}{VISION_END}\n")
    parts.append(f"{QUESTION}{IM_END}\n{IM_START}assistant\n")
    return "".join(parts)


def _fmt_fps(fps: float) -> str:
    return str(int(fps)) if float(fps).is_integer() else f"{fps:g}"
