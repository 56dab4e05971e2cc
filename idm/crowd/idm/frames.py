"""Video frames for the IDM: sampling a recording at a fixed rate, black-frame detection, and
the on-disk clip format.

Clip storage: one lossless animated WebP per clip. Screen content is mostly flat colour and
text, which WebP's lossless mode compresses to a few KB per frame (and consecutive frames of a
static screen cost almost nothing); being lossless, it adds no second generation of artefacts
on top of the recording's H.264, unlike re-encoding each clip to mp4; one file per clip keeps
the file count 10x below per-frame PNGs; and it decodes with Pillow alone, so training data
loading needs neither av nor torchvision. npz would also be lossless but ~20x larger.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

BLACK_LEVEL = 15          # a channel value below this counts as black
BLACK_FRACTION = 0.95     # a frame with more than this share of black pixels is a black frame


def is_black(frame: np.ndarray) -> bool:
    """True when >95% of pixels have every channel < 15 (crowd-cast writes these while blocked)."""
    dark = (frame < BLACK_LEVEL).all(axis=-1)
    return float(dark.mean()) > BLACK_FRACTION


def fit_size(width: int, height: int, max_pixels: int, multiple: int = 32) -> tuple[int, int]:
    """Largest size within max_pixels keeping the aspect ratio, sides multiples of `multiple`.

    Multiples of 32 (Qwen3-VL's 16-pixel patch times its 2x2 merge) let the model's
    preprocessor use the stored frames without another resize.
    """
    scale = min(1.0, math.sqrt(max_pixels / float(width * height)))
    w = max(multiple, int(width * scale) // multiple * multiple)
    h = max(multiple, int(height * scale) // multiple * multiple)
    return w, h


def sample_video(path: str | Path, fps: float, max_pixels: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(index, RGB frame) at `fps`: frame i is what the screen showed at time i / fps.

    Streams: memory stays at one decoded frame however long the segment is. Only decoded frames
    that some sample slot shows are converted to RGB and resized: at 5 fps from a 30 fps
    recording that is 1 in 6 (bench/bench_idm_prepare.py: converting every frame took most of
    prepare's time on 1080p30).
    """
    import av
    from PIL import Image

    size: tuple[int, int] | None = None

    def convert(frame) -> np.ndarray:
        nonlocal size
        img = frame.to_image()
        if max_pixels:
            size = size or fit_size(img.width, img.height, max_pixels)
            if img.size != size:
                img = img.resize(size, Image.BILINEAR, reducing_gap=2.0)
        return np.asarray(img.convert("RGB"))

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        pending = None                      # the decoded frame on screen, not converted yet
        current: np.ndarray | None = None   # its conversion, once a slot needed it
        last_t = 0.0
        i = 0
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base) if frame.pts is not None else i / fps
            while pending is not None and i / fps < t - 1e-6:
                if current is None:
                    current = convert(pending)
                yield i, current
                i += 1
            pending, current = frame, None
            last_t = t
        if pending is not None:
            # The last frame stays on screen for one source frame interval; include the slots it covers.
            rate = float(stream.average_rate) if stream.average_rate else fps
            end = last_t + 1.0 / rate
            while i / fps < end - 1e-6:
                if current is None:
                    current = convert(pending)
                yield i, current
                i += 1


def video_size(path: str | Path) -> tuple[int, int]:
    import av

    with av.open(str(path)) as container:
        s = container.streams.video[0]
        return int(s.codec_context.width), int(s.codec_context.height)


def video_frame_count(path: str | Path, fps: float) -> int | None:
    """Number of `fps` slots the video covers, from its container duration (None if unknown)."""
    import av

    with av.open(str(path)) as container:
        return int(container.duration * fps // 1_000_000) if container.duration else None


FRAME_COUNT_XMP = b'<crowd:clip frames="%d"/>'


def write_clip(path: str | Path, frames: list[np.ndarray], fps: float) -> None:
    """Stores frames as one lossless animated WebP (see module docstring).

    The frame count goes into the file's XMP chunk: libwebp folds identical consecutive frames
    into one longer frame, and when *every* frame is identical (a still screen, common in real
    recordings) it writes a plain still image with no duration at all, so without the count a
    10-frame static clip would read back as 1 frame.
    """
    from PIL import Image

    if not frames:
        raise ValueError("a clip needs at least one frame")
    images = [Image.fromarray(f) for f in frames]
    images[0].save(str(path), format="WEBP", save_all=True, append_images=images[1:], lossless=True,
                   quality=0, method=0, duration=max(1, round(1000 / fps)), loop=0,
                   xmp=FRAME_COUNT_XMP % len(frames))


def _stored_count(xmp: bytes | str | None) -> int | None:
    if not xmp:
        return None
    text = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
    m = re.search(r'crowd:clip frames="(\d+)"', text)
    return int(m.group(1)) if m else None


def read_clip(path: str | Path, fps: float | None = None, n_frames: int | None = None) -> list[np.ndarray]:
    """Frames of a clip. libwebp's animation encoder folds identical consecutive frames into one
    longer frame (free compression for a static screen), so each frame is repeated by its
    duration over the clip's frame interval (`fps`, or the first frame's duration).

    The length is the count stored in the file (write_clip), else `n_frames` (the clip index's
    count, for clips written before the count was stored); a folded tail is the last frame
    repeated, so a short decode is padded with it. A file that decodes to more frames than it
    should, or a stored count that disagrees with `n_frames`, is an error, not a silent fix.
    """
    from PIL import Image

    frames: list[np.ndarray] = []
    with Image.open(str(path)) as im:
        stored = _stored_count(im.info.get("xmp"))
        n = getattr(im, "n_frames", 1)
        step_ms = 1000.0 / fps if fps else None
        for k in range(n):
            im.seek(k)
            im.load()  # Pillow sets a WebP frame's duration only once it is decoded
            dur = float(im.info.get("duration") or 0)
            if step_ms is None:
                step_ms = dur or 1.0
            rgb = np.asarray(im.convert("RGB"))
            frames.extend([rgb] * max(1, round(dur / step_ms)) if dur else [rgb])
    if stored is not None and n_frames is not None and stored != n_frames:
        raise ValueError(f"{path}: the file holds {stored} frames, the clip index says {n_frames}")
    expected = stored if stored is not None else n_frames
    if expected is not None:
        if len(frames) > expected:
            raise ValueError(f"{path}: decodes to {len(frames)} frames, expected {expected}")
        frames.extend([frames[-1]] * (expected - len(frames)))
    return frames
