"""Synthetic paired data: a scripted desktop rendered straight into crowd-cast files.

This is the fast generator used to train and benchmark the tiny model on CPU. It writes real
crowd-cast segments (H.264 mp4 + msgpack keylog through crowd.format.desktop.keylog), so prepare
reads them exactly as it reads a person's recording. The Xvfb + xdotool path, recorded by
desktop-capture's recorder, lives in synth_x11.py; this renderer exists because a model needs
thousands of clips and a real X session produces them in real time only.

The scene is built so every action has a visible effect on the next sampled frame: typed
letters appear in a text box, a click toggles the button's colour, scrolling shifts
a striped list, and the pointer is drawn large.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from crowd.format.desktop import keylog as kl
from crowd.format.desktop import layout

KEYS = ("KeyA", "KeyB", "KeyC", "KeyD", "KeyE", "KeyF")


@dataclass
class SceneState:
    x: float
    y: float
    text: str = ""
    clicks: int = 0
    scroll: int = 0
    black: bool = False
    shift: bool = False
    # what happened since the last frame (the "marks" scene shows it for that one frame)
    flash: dict = field(default_factory=dict)


@dataclass
class Script:
    """Timed keylog events (microseconds) and the state changes they cause."""

    events: list[tuple[int, object]] = field(default_factory=list)


def _pointer(draw, x: float, y: float, scale: float) -> None:
    s = 32 * scale
    pts = [(x, y), (x, y + s * 1.4), (x + s * 0.4, y + s * 1.0), (x + s * 1.0, y + s * 1.0)]
    draw.polygon(pts, fill=(0, 0, 0), outline=(255, 255, 255))


def render(state: SceneState, size: tuple[int, int], now: float, font) -> np.ndarray:
    """One frame. Effects are large on purpose: clips are downscaled to a few hundred patches,
    and an effect smaller than a patch is nearly invisible to a small model."""
    from PIL import Image, ImageDraw

    w, h = size
    if state.black:
        return np.zeros((h, w, 3), dtype=np.uint8)
    img = Image.new("RGB", (w, h), (200, 205, 215))
    d = ImageDraw.Draw(img)
    d.rectangle([6, 6, w - 6, h // 4], fill=(255, 255, 255), outline=(0, 0, 0))
    d.text((12, 6), state.text[-5:], fill=(0, 0, 0), font=font)
    button = (w // 2, h // 4 + 10, w - 8, h * 5 // 8)
    d.rectangle(button, fill=(230, 60, 40) if state.clicks % 2 else (60, 120, 230))
    top, band = h // 4 + 10, 32
    shift = (state.scroll * band // 2) % (2 * band)
    for row in range(-2, h // band + 2):
        y0 = top + row * band + shift
        shade = 70 if row % 2 else 180
        y_a, y_b = max(top, y0), min(h - 6, y0 + band - 1)
        if y_b > y_a:
            d.rectangle([6, y_a, w // 2 - 10, y_b], fill=(shade, shade, 40))
    _pointer(d, state.x, state.y, scale=w / 320)
    return np.asarray(img)


KEY_COLOURS = {"A": (255, 255, 255), "B": (250, 220, 40), "C": (250, 140, 200), "D": (120, 220, 250),
               "E": (250, 150, 40), "F": (170, 120, 250)}


def render_marks(state: SceneState, size: tuple[int, int], font) -> np.ndarray:
    """One frame of the "marks" scene: each action type has its own quadrant, and what happened
    since the previous frame fills it for one frame (a click: red; a key: its glyph on the
    letter's colour, upper case and framed with Shift; a scroll: an arrow up or down; a move:
    green with the stroke drawn). At 64x64 pixels a quadrant is exactly one Qwen3-VL token (2x2 merged 16-pixel patches), so the effect
    of an action is one whole token on the frame after it, the scale a small model learns on
    CPU in minutes (docs/idm.md); the desktop scene's effects cover a fraction of a token."""
    from PIL import Image, ImageDraw

    w, h = size
    img = Image.new("RGB", (w, h), (150, 150, 150))
    d = ImageDraw.Draw(img)
    qw, qh = w // 2, h // 2
    f = state.flash
    if "click" in f:
        d.rectangle([0, 0, qw - 1, qh - 1], fill=(230, 40, 30))
    if "key" in f:
        # A letter's glyph on its own colour, and Shift as a thick black frame: a 2-layer vision
        # tower telling 12 glyphs apart from a 32x32 quadrant did not learn it in 300 steps
        # (KeyPress F1 0 while clicks, moves and scrolls cleared the bar).
        key = f["key"]
        d.rectangle([qw, 0, w - 1, qh - 1], fill=KEY_COLOURS[key.upper()],
                    outline=(0, 0, 0) if key.isupper() else None, width=max(2, w // 16))
        d.text((qw + qw // 2, qh // 2), key, fill=(0, 0, 0), font=font, anchor="mm")
    if "scroll" in f:
        d.rectangle([0, qh, qw - 1, h - 1], fill=(40, 60, 200))
        cx, top, bot = qw // 2, qh + qh // 6, h - qh // 6
        tip, base = (top, bot) if f["scroll"] > 0 else (bot, top)
        d.polygon([(cx, tip), (qw // 8, base), (qw - qw // 8, base)], fill=(255, 255, 255))
    if "move" in f:
        d.rectangle([qw, qh, w - 1, h - 1], fill=(40, 200, 60))
        (x0, y0), (x1, y1) = f["move"]
        sx, sy = qw / w, qh / h
        d.line([(qw + x0 * sx, qh + y0 * sy), (qw + x1 * sx, qh + y1 * sy)], fill=(0, 0, 0), width=max(2, w // 16))
    return np.asarray(img)


KIND_WEIGHTS = {"idle": 8, "move": 2, "click": 2, "type": 2, "shift": 1, "scroll": 2, "black": 0.6}


def make_script(rng: random.Random, seconds: float, size: tuple[int, int],
                weights: dict[str, float] | None = None) -> list[tuple[float, object]]:
    """A random but plausible activity script: (time in s, keylog event) pairs.

    `weights` picks how often each kind of activity happens (KIND_WEIGHTS by default); a
    narrower mix, e.g. only idle and clicks, gives a task a model learns in a CPU minute."""
    weights = weights or KIND_WEIGHTS
    w, h = size
    t, x, y = 0.3, w / 2, h / 2
    out: list[tuple[float, object]] = []
    while t < seconds - 1.0:
        kind = rng.choices(list(weights), list(weights.values()))[0]
        if kind == "idle":
            t += rng.uniform(0.2, 1.5)
        elif kind == "move":
            tx, ty = rng.uniform(10, w - 30), rng.uniform(10, h - 30)
            steps = rng.randint(2, 6)
            for _ in range(steps):
                dx, dy = (tx - x) / steps, (ty - y) / steps
                t += rng.uniform(0.05, 0.2)
                x, y = x + dx, y + dy
                out.append((t, kl.MouseMove(float(round(dx)), float(round(dy)))))
            t += 0.1
        elif kind == "click":
            t += rng.uniform(0.1, 0.3)
            out += [(t, kl.MousePress("Left")), (t + 0.08, kl.MouseRelease("Left"))]
            t += 0.3
        elif kind in ("type", "shift"):
            for _ in range(rng.randint(1, 2)):
                t += rng.uniform(0.25, 0.5)
                key = rng.choice(KEYS)
                if kind == "shift":
                    out += [(t - 0.05, kl.KeyPress(50, "ShiftLeft"))]
                out += [(t, kl.KeyPress(38 + KEYS.index(key), key)), (t + 0.06, kl.KeyRelease(38 + KEYS.index(key), key))]
                if kind == "shift":
                    out += [(t + 0.1, kl.KeyRelease(50, "ShiftLeft"))]
            t += 0.3
        elif kind == "scroll":
            t += rng.uniform(0.1, 0.3)
            out.append((t, kl.MouseScroll(0, rng.choice([-3, -2, -1, 1, 2, 3]), float(x), float(y))))
            t += 0.4
        elif kind == "black":
            t += 0.2
            out.append((t, kl.ContextChanged(kl.UNCAPTURED)))
            t += rng.uniform(0.6, 1.2)
            out.append((t, kl.ContextChanged("synthetic.desktop")))
            t += 0.2
    return out


def _apply(state: SceneState, ev: object, t: float) -> None:
    f = state.flash
    if isinstance(ev, kl.MouseMove):
        start = f["move"][0] if "move" in f else (state.x, state.y)
        state.x += ev.dx
        state.y += ev.dy
        f["move"] = (start, (state.x, state.y))
    elif isinstance(ev, kl.MousePress):
        state.clicks += 1
        f["click"] = True
    elif isinstance(ev, kl.KeyPress) and ev.name == "ShiftLeft":
        state.shift = True
    elif isinstance(ev, kl.KeyRelease) and ev.name == "ShiftLeft":
        state.shift = False
    elif isinstance(ev, kl.KeyPress) and ev.name.startswith("Key"):
        # Shift shows as an upper-case letter, so "Shift+A" and "A" are both visible actions.
        state.text += ev.name[3:] if state.shift else ev.name[3:].lower()
        f["key"] = state.text[-1]
    elif isinstance(ev, kl.MouseScroll):
        state.scroll += ev.dy
        f["scroll"] = ev.dy
    elif isinstance(ev, kl.ContextChanged):
        state.black = ev.app_id == kl.UNCAPTURED


def metadata(size: tuple[int, int]) -> kl.Metadata:
    w, h = size
    return kl.Metadata(w, h, w / h, w, h, w / h, w, h, w / h, "2026-01-01T00:00:00Z", None,
                       [[0, 0, 0, w, h]], "linux", "display")


SCENES = ("desktop", "marks")


def write_segment(folder: Path, session: str, index: int, script: list[tuple[float, object]], seconds: float,
                  size: tuple[int, int] = (320, 240), video_fps: int = 10, scene: str = "desktop") -> tuple[Path, Path]:
    """Renders one segment's video and writes its keylog; events are already in segment time.

    scene: "desktop" (a text box, a button, a list, a pointer) or "marks" (render_marks)."""
    if scene not in SCENES:
        raise ValueError(f"unknown scene {scene!r}; one of {SCENES}")
    import av
    from PIL import ImageFont

    video, keylog = layout.segment_paths(folder, session, index)
    font = ImageFont.load_default(size=max(12, size[1] // (3 if scene == "marks" else 5)))
    state = SceneState(size[0] / 2, size[1] / 2)
    entries = [(0, metadata(size)), (0, kl.ContextChanged("synthetic.desktop"))]
    entries += [(int(t * 1e6), ev) for t, ev in script]
    with av.open(str(video), "w") as container:
        stream = container.add_stream("libx264", rate=video_fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"crf": "18", "preset": "ultrafast"}
        pending = list(script)
        n = int(seconds * video_fps)
        for i in range(n):
            now = i / video_fps
            while pending and pending[0][0] <= now:
                t, ev = pending.pop(0)
                _apply(state, ev, t)
            pixels = render_marks(state, size, font) if scene == "marks" else render(state, size, now, font)
            state.flash = {}
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    kl.write_keylog(keylog, entries)
    return video, keylog


def generate(out: str | Path, sessions: int = 4, segments: int = 1, seconds: float = 30.0, seed: int = 0,
             size: tuple[int, int] = (320, 240), video_fps: int = 10,
             weights: dict[str, float] | None = None, scene: str = "desktop") -> list[str]:
    """Writes `sessions` synthetic recordings; returns their session ids."""
    import uuid

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    ids = []
    for _ in range(sessions):
        session = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        ids.append(session)
        for index in range(segments):
            script = make_script(rng, seconds, size, weights)
            write_segment(out, session, index, script, seconds, size, video_fps, scene)
    return ids
