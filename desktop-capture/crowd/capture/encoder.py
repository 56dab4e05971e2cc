"""One segment's video: PyAV (libx264 by default) into an MP4 whose frame k is at k/fps.

Frames arrive with their *slot* on the video clock; when slots were missed (the machine was
too busy) the previous picture is repeated so the file stays constant-rate and frame k always
means time k/fps -- the keylog's timestamps depend on that. Slots missed before the first
picture of a segment repeat that first picture (black only when that picture is black):
the segment's clock starts when it opens, and on a loaded machine the capture thread's
first grab can land in slot 1. A black lead-in there was a frame no screen ever showed,
which the IDM preparation then counts and drops as black (measured: the X11 synthetic
session on 2 cores with 3 busy processes beside it lost frame 0 that way in 2 runs of 8).

The MP4 is fragmented by default (a crash loses at most the last GOP instead of the whole
segment) and B-frames are off, which makes the first frame's pts 0 in fragmented files too.
"""
from __future__ import annotations

import fractions
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class VideoSettings:
    fps: float = 30.0
    codec: str = "libx264"
    preset: str = "veryfast"
    crf: int = 23
    gop_seconds: float = 2.0
    fragmented: bool = True
    threads: int = 0  # 0: the encoder's default


def even(n: int) -> int:
    return max(2, n - (n % 2))


def fit_size(width: int, height: int, max_w: int = 1920, max_h: int = 1080) -> tuple[int, int]:
    """Output size: the source scaled down (never up) to fit max_w x max_h, even dimensions."""
    scale = min(1.0, max_w / width, max_h / height)
    return even(round(width * scale)), even(round(height * scale))


class SegmentEncoder:
    def __init__(self, path: str | os.PathLike, width: int, height: int, settings: VideoSettings) -> None:
        import av

        self.path = Path(path)
        self.width, self.height = width, height
        self.settings = settings
        rate = fractions.Fraction(settings.fps).limit_denominator(1000)
        opts = {"movflags": "frag_keyframe+empty_moov+default_base_moof"} if settings.fragmented else {}
        self._out = av.open(str(self.path), "w", format="mp4", options=opts)
        codec_opts: dict[str, str] = {"bf": "0"}
        if settings.codec in ("libx264", "libx265"):
            codec_opts.update(preset=settings.preset, crf=str(settings.crf))
        self._stream = self._out.add_stream(settings.codec, rate=rate, options=codec_opts)
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = "yuv420p"
        ctx = self._stream.codec_context
        ctx.time_base = 1 / rate
        ctx.gop_size = max(1, int(round(settings.fps * settings.gop_seconds)))
        if settings.threads:
            ctx.thread_count = settings.threads
        self._last: Any = None
        self.next_slot = 0
        self.frames = 0        # frames written, repeats included
        self.repeats = 0       # slots filled by repeating the previous picture
        self._black: Any = None

    def _to_frame(self, bgra: Any) -> Any:
        import av

        frame = av.VideoFrame.from_ndarray(bgra, format="bgra")
        return frame.reformat(width=self.width, height=self.height, format="yuv420p")

    def black_frame(self) -> Any:
        if self._black is None:
            import numpy as np

            self._black = self._to_frame(np.zeros((self.height, self.width, 4), dtype=np.uint8))
        return self._black

    def write(self, bgra: Any | None, slot: int) -> int:
        """Encode a BGRA picture (None: black) for video-clock ``slot``; returns slots repeated.

        Slots at or before the last written one are ignored (a late duplicate).
        """
        if slot < self.next_slot:
            return 0
        repeated = 0
        frame = self.black_frame() if bgra is None else self._to_frame(bgra)
        fill = self._last if self._last is not None else frame   # lead-in: the first picture
        while self.next_slot < slot:
            self._encode(fill)
            repeated += 1
        self._encode(frame)
        self._last = frame
        self.repeats += repeated
        return repeated

    def _encode(self, frame: Any) -> None:
        frame.pts = self.next_slot
        for packet in self._stream.encode(frame):
            self._out.mux(packet)
        self.next_slot += 1
        self.frames += 1

    def close(self) -> None:
        if self._out is None:
            return
        try:
            for packet in self._stream.encode(None):
                self._out.mux(packet)
        finally:
            self._out.close()
            self._out = None
