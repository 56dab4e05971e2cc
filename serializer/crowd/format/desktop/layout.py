"""crowd-cast's file layout: segment names and listing the sessions of a folder.

One recording start creates a session id (UUIDv4); it is cut into segments of 300 s, each a
video ``recording_<uuid>_segNNNN.mp4`` and a keylog ``input_<uuid>_segNNNN.msgpack`` in the
same folder. Segment numbers restart at 0 on each start. Everything that reads or writes
recordings goes through these helpers so the names are spelled in one place.
"""
from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

VIDEO_PREFIX = "recording_"
KEYLOG_PREFIX = "input_"
VIDEO_SUFFIX = ".mp4"
KEYLOG_SUFFIX = ".msgpack"

_NAME_RE = re.compile(
    r"^(?P<kind>recording|input)_(?P<session>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12})_seg(?P<index>\d{4,})\.(?P<ext>mp4|msgpack)$")


def new_session_id() -> str:
    return str(uuid.uuid4())


def video_name(session_id: str, index: int) -> str:
    return f"{VIDEO_PREFIX}{session_id}_seg{index:04d}{VIDEO_SUFFIX}"


def keylog_name(session_id: str, index: int) -> str:
    return f"{KEYLOG_PREFIX}{session_id}_seg{index:04d}{KEYLOG_SUFFIX}"


def parse_name(name: str) -> tuple[str, str, int] | None:
    """``(kind, session_id, index)`` for a segment file name, kind ``video``/``keylog``; else None."""
    m = _NAME_RE.match(os.path.basename(name))
    if not m:
        return None
    kind = "video" if m["kind"] == "recording" else "keylog"
    if (kind == "video") != (m["ext"] == "mp4"):
        return None
    return kind, m["session"].lower(), int(m["index"])


@dataclass
class Segment:
    """One segment's files; either may be missing (a crash, or a partial copy)."""
    session_id: str
    index: int
    folder: Path
    video: Path | None = None
    keylog: Path | None = None

    @property
    def video_path(self) -> Path:
        """Where the video is or would be (even if missing)."""
        return self.video or self.folder / video_name(self.session_id, self.index)

    @property
    def keylog_path(self) -> Path:
        return self.keylog or self.folder / keylog_name(self.session_id, self.index)

    @property
    def complete(self) -> bool:
        return self.video is not None and self.keylog is not None

    def paths(self) -> list[Path]:
        return [p for p in (self.video, self.keylog) if p is not None]

    def mtime(self) -> float:
        """Latest modification time of the segment's files (when it was last written)."""
        return max((p.stat().st_mtime for p in self.paths() if p.exists()), default=0.0)


@dataclass
class Session:
    session_id: str
    segments: list[Segment] = field(default_factory=list)


def segment_paths(folder: str | os.PathLike, session_id: str, index: int) -> tuple[Path, Path]:
    """``(video, keylog)`` paths of one segment."""
    f = Path(folder)
    return f / video_name(session_id, index), f / keylog_name(session_id, index)


def list_segments(folder: str | os.PathLike, *, recursive: bool = False) -> list[Segment]:
    """Every segment in ``folder`` (sorted by session, then index); other files are ignored."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"no such recordings folder: {root}")
    found: dict[tuple[Path, str, int], Segment] = {}
    it = root.rglob("*") if recursive else root.iterdir()
    for p in it:
        parsed = parse_name(p.name)
        if parsed is None or not p.is_file():
            continue
        kind, sid, idx = parsed
        seg = found.setdefault((p.parent, sid, idx), Segment(sid, idx, p.parent))
        if kind == "video":
            seg.video = p
        else:
            seg.keylog = p
    return sorted(found.values(), key=lambda s: (str(s.folder), s.session_id, s.index))


def list_sessions(folder: str | os.PathLike, *, recursive: bool = False) -> list[Session]:
    """Segments grouped by session id, segments in index order."""
    sessions: dict[str, Session] = {}
    for seg in list_segments(folder, recursive=recursive):
        sessions.setdefault(seg.session_id, Session(seg.session_id)).segments.append(seg)
    return list(sessions.values())
