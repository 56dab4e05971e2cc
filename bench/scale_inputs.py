"""The generated recordings that ``python -m bench scale`` pushes through the pipeline.

Editor sessions come from crowd.serializer.synthetic (the scripted person + agent, written by
the real RecordingWriter); desktop segments from crowd.idm.synth (scripted desktop video +
keylog in the crowd-cast layout). Both are deterministic. Sizes are chosen so the work of
the whole benchmark is ~9 CPU-minutes on the shared 2-core machine (19 min wall under a load
average of ~20): measured in the full run, writing the 1,000 sessions of 0.01 h took 11 CPU-s
(47 MiB), converting them in one process 34 CPU-s; rendering the 200 segments of 10 s at
320x240 took 26 CPU-s, preparing them 48 CPU-s.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Shape:
    """How many recordings of what length the benchmark generates."""
    sessions: int             # editor sessions
    session_hours: float      # length of each, in session time
    desktop_sessions: int     # crowd-cast recordings ...
    segments_per_session: int  # ... of this many segments each
    segment_seconds: float
    size: tuple[int, int] = (320, 240)
    video_fps: int = 10
    hd_seconds: float = 20.0  # one 1920x1080 30 fps segment: the cost of a real crowd-cast frame

    @property
    def segments(self) -> int:
        return self.desktop_sessions * self.segments_per_session

    @property
    def editor_hours(self) -> float:
        return self.sessions * self.session_hours

    @property
    def desktop_hours(self) -> float:
        return self.segments * self.segment_seconds / 3600


FULL = Shape(sessions=1000, session_hours=0.01, desktop_sessions=50, segments_per_session=4, segment_seconds=10.0)
SMALL = Shape(sessions=8, session_hours=0.02, desktop_sessions=2, segments_per_session=1, segment_seconds=6.0,
              hd_seconds=2.0)


def editor_sessions(root: Path, shape: Shape) -> list[Path]:
    """``shape.sessions`` recording folders under ``root``, one per session id."""
    from crowd.serializer.synthetic import write_recording

    root.mkdir(parents=True, exist_ok=True)
    return [write_recording(root / f"bench-{i:05d}", hours=shape.session_hours, seed=i,
                            session_id=f"bench-{i:05d}")
            for i in range(shape.sessions)]


def desktop_segments(folder: Path, shape: Shape) -> list[str]:
    """The desktop recordings in one crowd-cast folder; returns their session ids."""
    from crowd.idm import synth

    return synth.generate(folder, sessions=shape.desktop_sessions, segments=shape.segments_per_session,
                          seconds=shape.segment_seconds, seed=7, size=shape.size, video_fps=shape.video_fps)


def hd_segment(folder: Path, shape: Shape) -> None:
    """One 1080p30 segment (bench idm_prepare's generator) in its own crowd-cast folder."""
    from bench.bench_idm_prepare import make_segment

    make_segment(folder, shape.hd_seconds)


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())
