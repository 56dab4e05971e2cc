"""Render a segment with its actions drawn over the video (PyAV + Pillow, no ffmpeg CLI).

For checking a recording by eye: keys show in a bar at the bottom (held keys stay lit,
presses linger ~1 s), clicks are rings at the pointer, scrolls are arrows, mouse motion is a
fading trail, and the context (app id / UNCAPTURED) is in the top-left corner. Events are
placed on the frame ``floor(t * fps)`` -- the same mapping training code uses -- so a
misaligned recording looks misaligned here.

The pointer's absolute position is known only at clicks and scrolls (crowd-cast's MouseMove
is relative); between them it is integrated from the deltas, starting at the screen centre.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from crowd.format.desktop import keylog as kl
from crowd.format.desktop.layout import keylog_name, parse_name


@dataclass
class OverlayStats:
    frames: int
    events_drawn: int
    output: Path


def keylog_for(video: Path) -> Path:
    parsed = parse_name(video.name)
    if parsed is None or parsed[0] != "video":
        raise ValueError(f"{video.name}: not a recording_<uuid>_segNNNN.mp4 file; pass --keylog")
    return video.with_name(keylog_name(parsed[1], parsed[2]))


def render_overlay(video: Path, keylog: Path | None = None, output: Path | None = None,
                   *, linger_s: float = 1.0) -> OverlayStats:
    import av
    from PIL import Image, ImageDraw

    video = Path(video)
    keylog = Path(keylog) if keylog else keylog_for(video)
    output = Path(output) if output else video.with_name(video.stem + "_overlay.mp4")
    entries = sorted(kl.read_keylog(keylog), key=lambda e: e.t_us)
    with av.open(str(video)) as src:
        vs = src.streams.video[0]
        fps = float(vs.average_rate or vs.guessed_rate or 30)
        width, height = vs.codec_context.width, vs.codec_context.height
        meta = next((e.event for e in entries if isinstance(e.event, kl.Metadata)), None)
        sx = width / meta.source_width if meta else 1.0   # keylog coords are source pixels
        sy = height / meta.source_height if meta else 1.0
        out = av.open(str(output), "w", format="mp4")
        ost = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000),
                             options={"preset": "veryfast", "crf": "23", "bf": "0"})
        ost.width, ost.height, ost.pix_fmt = width, height, "yuv420p"
        state = _State(width / 2, height / 2)
        i = 0
        drawn = 0
        n = 0
        for n, frame in enumerate(src.decode(video=0)):
            end_us = int((n + 1) * 1_000_000 / fps)
            while i < len(entries) and entries[i].t_us < end_us:
                drawn += state.apply(entries[i], n, fps, sx, sy)
                i += 1
            img = frame.to_image().convert("RGB")
            state.draw(ImageDraw.Draw(img, "RGBA"), n, fps, linger_s, width, height)
            vf = av.VideoFrame.from_image(img)
            vf.pts = n
            for pkt in ost.encode(vf):
                out.mux(pkt)
        for pkt in ost.encode(None):
            out.mux(pkt)
        out.close()
    return OverlayStats(n + 1 if entries or n else 0, drawn, output)


class _State:
    def __init__(self, x: float, y: float) -> None:
        self.x, self.y = x, y
        self.held: dict[str, int] = {}          # key name -> frame pressed
        self.recent: deque = deque(maxlen=12)   # (frame, label)
        self.clicks: deque = deque(maxlen=20)   # (frame, x, y, button)
        self.scrolls: deque = deque(maxlen=20)  # (frame, x, y, dy)
        self.trail: deque = deque(maxlen=60)    # (frame, x, y)
        self.context = ""

    def apply(self, entry: kl.Entry, frame: int, fps: float, sx: float, sy: float) -> int:
        ev = entry.event
        if isinstance(ev, kl.KeyPress):
            self.held[ev.name] = frame
            self.recent.append((frame, ev.name))
        elif isinstance(ev, kl.KeyRelease):
            self.held.pop(ev.name, None)
        elif isinstance(ev, kl.MouseMove):
            self.x += ev.dx * sx
            self.y += ev.dy * sy
            self.trail.append((frame, self.x, self.y))
        elif isinstance(ev, kl.MousePress):
            if ev.x or ev.y:
                self.x, self.y = ev.x * sx, ev.y * sy
            self.clicks.append((frame, self.x, self.y, ev.button))
        elif isinstance(ev, kl.MouseScroll):
            if ev.x or ev.y:
                self.x, self.y = ev.x * sx, ev.y * sy
            self.scrolls.append((frame, self.x, self.y, ev.dy))
        elif isinstance(ev, kl.ContextChanged):
            self.context = ev.app_id
        else:
            return 0
        return 1

    def draw(self, d: Any, frame: int, fps: float, linger_s: float, width: int, height: int) -> None:
        linger = max(1, int(linger_s * fps))
        pts = [(x, y) for f, x, y in self.trail if frame - f <= linger]
        if len(pts) >= 2:
            d.line(pts, fill=(255, 220, 0, 200), width=3)
        for f, x, y, button in self.clicks:
            if frame - f <= linger:
                r = 10 + 2 * (frame - f)
                colour = {"Left": (255, 60, 60, 230), "Right": (60, 140, 255, 230)}.get(button, (200, 200, 200, 230))
                d.ellipse((x - r, y - r, x + r, y + r), outline=colour, width=3)
        for f, x, y, dy in self.scrolls:
            if frame - f <= linger:
                tip = y - 25 if dy > 0 else y + 25
                d.line((x, y, x, tip), fill=(0, 255, 200, 230), width=4)
                d.polygon([(x - 7, tip + (7 if dy > 0 else -7)), (x + 7, tip + (7 if dy > 0 else -7)), (x, tip)],
                          fill=(0, 255, 200, 230))
        labels = [name for f, name in self.recent if frame - f <= linger]
        held = [k for k in self.held if k not in labels]
        text = "  ".join(held + labels)
        if text:
            d.rectangle((0, height - 28, width, height), fill=(0, 0, 0, 170))
            d.text((8, height - 22), text, fill=(255, 255, 255, 255))
        if self.context:
            d.rectangle((0, 0, 8 + 7 * len(self.context), 20), fill=(0, 0, 0, 170))
            d.text((4, 4), self.context, fill=(255, 255, 255, 255))
