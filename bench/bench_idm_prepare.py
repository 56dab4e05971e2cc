"""IDM prepare speed on a generated 1080p30 segment: sampling 5 fps with every decoded frame
converted and resized (the previous code, kept here as the baseline) vs converting only the
frames a sample slot shows (crowd.idm.frames.sample_video), and the whole prepare run.

Issue 18 measured 37-68 s for 20 s of 1080p30 before vs 3.2 s converting only kept frames:
~2,750 vs ~300 CPU-hours for 18,000 segments. The machine is shared (2 cores, 8 engineers):
absolute times are noisy, the ratio is the figure to read.
"""
from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from bench.table import Table


def sample_every_frame(path: str | Path, fps: float, max_pixels: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """The baseline: the previous sample_video, converting and resizing every decoded frame."""
    import av
    from PIL import Image

    from crowd.idm.frames import fit_size

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        size: tuple[int, int] | None = None
        current = None
        last_t = 0.0
        i = 0
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base) if frame.pts is not None else i / fps
            while current is not None and i / fps < t - 1e-6:
                yield i, current
                i += 1
            img = frame.to_image()
            if max_pixels:
                size = size or fit_size(img.width, img.height, max_pixels)
                if img.size != size:
                    img = img.resize(size, Image.BILINEAR, reducing_gap=2.0)
            current = np.asarray(img.convert("RGB"))
            last_t = t
        if current is not None:
            rate = float(stream.average_rate) if stream.average_rate else fps
            end = last_t + 1.0 / rate
            while i / fps < end - 1e-6:
                yield i, current
                i += 1


def make_segment(folder: Path, seconds: float) -> tuple[Path, Path]:
    """A 1920x1080, 30 fps synthetic crowd-cast segment (synth.py's scripted desktop)."""
    import random

    from crowd.idm import synth

    size = (1920, 1080)
    folder.mkdir(parents=True, exist_ok=True)
    script = synth.make_script(random.Random(5), seconds, size)
    return synth.write_segment(folder, "b0f1c2d3-0000-4000-8000-000000000001", 0, script, seconds, size, video_fps=30)


def run(quick: bool = False) -> list[Table]:
    from crowd.idm.frames import sample_video
    from crowd.idm.options import PrepareOptions
    from crowd.idm.prepare import prepare

    seconds = 4.0 if quick else 20.0
    with tempfile.TemporaryDirectory(prefix="bench-idm-prep-") as tmp:
        rec = Path(tmp) / "rec"
        video, _ = make_segment(rec, seconds)
        times, cpu, frames = {}, {}, {}
        for name, fn in (("convert every decoded frame (before)", sample_every_frame),
                         ("convert only kept frames (now)", sample_video)):
            t0, c0 = time.perf_counter(), time.process_time()
            out = [f for _, f in fn(video, 5.0, 524_288)]
            times[name], cpu[name] = time.perf_counter() - t0, time.process_time() - c0
            frames[name] = out
        a, b = frames.values()
        same = len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
        t0 = time.perf_counter()
        prepare(rec, Path(tmp) / "clips", PrepareOptions(workers=1, val_fraction=0.0))
        whole = time.perf_counter() - t0
    before, now = cpu.values()
    rows = [[name, times[name], c, len(frames[name]), c * 18_000 / 3600] for name, c in cpu.items()]
    return [Table(f"IDM prepare: sampling {seconds:.0f} s of 1080p30 at 5 fps (max pixels 524,288), one process",
                  ["method", "wall s", "CPU s (all threads)", "frames kept", "CPU-hours for 18,000 such segments"],
                  rows,
                  [f"CPU-time speed-up {before / now:.1f}x; identical frames: {same}",
                   f"whole prepare of that segment (sample, black test, clips as WebP): {whole:.1f} s",
                   "shared 2-core machine: absolute times are noisy"])]
