"""Reading back recorded video for assertions: per-frame summaries, small and cheap."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crowd.capture.demo_window import PALETTES


@dataclass
class FrameInfo:
    index: int
    time: float
    center: tuple[int, int, int]   # mean RGB of a patch at the screen centre
    peak: int                      # brightest channel value anywhere (sampled)


def summarize(path: Path) -> list[FrameInfo]:
    import av

    out: list[FrameInfo] = []
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            a = f.to_ndarray(format="rgb24")
            h, w = a.shape[:2]
            patch = a[h // 2 - 10:h // 2 + 10, w // 2 - 10:w // 2 + 10].reshape(-1, 3).mean(axis=0)
            out.append(FrameInfo(i, float(f.time or 0.0), tuple(int(v) for v in patch),
                                 int(a[::4, ::4].max())))
    return out


def palette_index(rgb: tuple[int, int, int], palette: str = "bright", tol: int = 24) -> int | None:
    for i, c in enumerate(PALETTES[palette]):
        if max(abs(int(a) - b) for a, b in zip(rgb, c)) <= tol:
            return i
    return None
