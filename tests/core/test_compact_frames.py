"""Compact (delta-encoded) frames of finished segments: lossless, crash-safe, panic-safe."""
from __future__ import annotations

import random
from pathlib import Path

from crowd.format import RecordingWriter, read_recording
from crowd.format.columnar import decode, encode
from crowd.format.writer import list_segments


def _events(n: int, rng: random.Random) -> list[dict]:
    out, t, wall = [], 0, 1_767_225_600_000
    shapes = [
        lambda i: {"type": "action", "kind": "edit", "source": "user", "file": f"f{i % 3}.py",
                   "changes": [{"offset": i, "length": rng.choice([0, 1]), "text": rng.choice("ab \n😀")}],
                   "reason": rng.choice([None, "undo"]), "version": i},
        lambda i: {"type": "action", "kind": "selection", "source": "user", "file": "f.py",
                   "selections": [{"anchor": i, "active": i + rng.randrange(3)}] * rng.randint(1, 3)},
        lambda i: {"type": "observation", "kind": "viewport", "editors": [
            {"file": "f.py", "visible_ranges": [[i, i + 30]], "text": "x\n" * rng.randrange(5), "active": True,
             "selections": []}]},
        lambda i: {"type": "session", "kind": "error", "message": "m", **({"extra": {"a": [1, 2]}} if i % 2 else {})},
        lambda i: {"type": "observation", "kind": "terminal_screen", "lines": ["$ ls"] * rng.randint(0, 3),
                   "cursor": [0, i % 7], "flag": rng.choice([True, False, 1, 0, 1.5, None, b"\x00bin"])},
    ]
    for i in range(1, n + 1):
        t += rng.randrange(1, 400_000)
        wall = 1_767_225_600_000 + t // 1000 + rng.randrange(-2, 3)
        out.append({"seq": i, "t": t, "wall": wall, **rng.choice(shapes)(i)})
    return out


def test_columnar_round_trip_is_lossless() -> None:
    rng = random.Random(5)
    for _ in range(20):
        events = _events(300, rng)
        assert decode(encode(events)) == events


def test_finished_segment_is_compacted_and_reads_back(tmp_path: Path) -> None:
    events = _events(2000, random.Random(9))
    writer = RecordingWriter(tmp_path, compact=True)
    for i, event in enumerate(events):
        writer.append(event)
        if i % 5 == 4:
            writer.flush()       # many small frames, as in real time
    before = sum(p.stat().st_size for p in list_segments(tmp_path))
    writer.close()
    after = sum(p.stat().st_size for p in list_segments(tmp_path))
    result = read_recording(tmp_path)
    assert result.problems == [] and result.events == events
    assert after < before / 2, (before, after)
    assert not list(tmp_path.glob("*.tmp"))


def test_panic_after_compaction_leaves_no_doomed_event(tmp_path: Path) -> None:
    events = _events(500, random.Random(2))
    writer = RecordingWriter(tmp_path, compact=True, segment_max_bytes=4096)   # rotate (and compact) often
    for i, event in enumerate(events):
        writer.append(event)
        if i % 3 == 2:
            writer.flush()
    cutoff = events[350]["t"]
    removed = writer.drop_where(lambda e: e["t"] >= cutoff)
    writer.close()
    assert removed == 150
    assert read_recording(tmp_path).events == events[:350]
