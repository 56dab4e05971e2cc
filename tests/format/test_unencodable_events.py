"""The writer never rewrites what it wrote, and one value it cannot encode stops nothing.

Before: an event msgpack could not encode (a lone surrogate, an integer beyond 64 bits) made
the flush fail, the failure path cut the segment back to a stale offset (erasing the last
frame already written), and the same batch was retried forever, so nothing was written for
the rest of the session, clean close included. These drive ``RecordingWriter`` directly,
with no pipeline in front of it, as a producer with a bug would.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import zstandard
from hypothesis import given, settings, strategies as st

from crowd.format import RecordingWriter, frames, read_recording
from crowd.format.frames import FrameTooLarge, encode_frame
from crowd.format.writer import UnencodableEvents, compact_segment, list_segments

HOSTILE = [
    {"command": "\ud800"},                       # lone surrogate: not UTF-8
    {"version": 10 ** 30},                       # beyond msgpack's 64-bit integers
    {"phase": {1, 2}},                           # a type msgpack has no encoding for
]


def _event(seq: int, **fields: Any) -> dict[str, Any]:
    return {"seq": seq, "t": seq * 1000, "wall": 1_700_000_000_000 + seq, "type": "action",
            "kind": "save", "source": "user", "file": f"f{seq}.py", **fields}


@pytest.mark.parametrize("bad", HOSTILE, ids=["surrogate", "huge-int", "set"])
def test_bad_event_damages_nothing_and_writing_goes_on(tmp_path: Path, bad: dict[str, Any]) -> None:
    errors: list[BaseException] = []
    writer = RecordingWriter(tmp_path, flush_interval=3600, on_error=errors.append)
    writer.extend([_event(1)])
    assert writer.flush() == 1
    writer.extend([_event(2)])
    assert writer.flush() == 1
    segment = list_segments(tmp_path)[0]
    before = segment.read_bytes()

    writer.extend([_event(3), _event(4, **bad), _event(5)])
    assert writer.flush() == 2                    # the two good events of the batch
    assert segment.read_bytes().startswith(before)  # nothing already written was touched
    assert writer.events_dropped == 1
    assert len(errors) == 1 and isinstance(errors[0], UnencodableEvents)
    assert "seq 4" in str(errors[0])

    writer.extend([_event(6)])                    # later writing is not stopped
    writer.close()                                # and a clean close works
    result = read_recording(tmp_path)
    assert [e["seq"] for e in result.events] == [1, 2, 3, 5, 6]
    assert result.problems == []


def test_batch_of_only_bad_events(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path, flush_interval=3600)
    writer.extend([_event(1)])
    writer.flush()
    writer.extend([_event(2, **HOSTILE[0]), _event(3, **HOSTILE[1])])
    assert writer.flush() == 0
    assert writer.events_dropped == 2
    assert writer.flush() == 0                    # not retried
    writer.close()
    assert [e["seq"] for e in read_recording(tmp_path).events] == [1]


def test_frame_too_large_is_refused_before_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers treat a frame over MAX_FRAME as damage, so the writer must never produce one."""
    monkeypatch.setattr(frames, "MAX_FRAME", 64)  # a tiny limit instead of a 256 MiB event
    with pytest.raises(FrameTooLarge):
        encode_frame([_event(1, text=bytes(range(256)).hex())], zstandard.ZstdCompressor(level=1))


def test_compaction_of_extreme_64_bit_values(tmp_path: Path) -> None:
    """Deltas between two values msgpack carries can exceed 64 bits; compaction stores them as is."""
    writer = RecordingWriter(tmp_path, flush_interval=3600)
    values = [-(2 ** 63), 2 ** 64 - 1, 0, 2 ** 64 - 1, -(2 ** 63)]
    for seq, value in enumerate(values, 1):
        writer.extend([_event(seq, version=value, file="same.py")])
        writer.flush()
    writer.close()
    segment = list_segments(tmp_path)[0]
    assert compact_segment(segment, zstandard.ZstdCompressor(level=3))
    assert [e["version"] for e in read_recording(tmp_path).events] == values
    assert not list(tmp_path.glob("*.tmp"))


bad_values = st.sampled_from(["\ud800", "a\udfffb", 10 ** 30, -(2 ** 63) - 1, {1, 2}, object()])


@settings(max_examples=25, deadline=None)
@given(batches=st.lists(st.lists(st.one_of(st.none(), bad_values), min_size=1, max_size=5), min_size=1, max_size=6))
def test_written_bytes_only_grow_and_every_good_event_is_kept(batches: list[list[Any]]) -> None:
    """Whatever mix of good (None) and bad values comes, flush after flush: what is on disk only
    grows (no byte already written changes), and the good events are all there, in order."""
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        writer = RecordingWriter(directory, flush_interval=3600)
        seq, good, before = 0, [], b""
        for batch in batches:
            events = []
            for bad in batch:
                seq += 1
                events.append(_event(seq) if bad is None else _event(seq, value=bad))
                if bad is None:
                    good.append(seq)
            writer.extend(events)
            writer.flush()
            data = b"".join(p.read_bytes() for p in list_segments(directory))
            assert data.startswith(before)
            before = data
        writer.close()
        assert writer.events_dropped == seq - len(good)
        if not good:
            assert list_segments(directory) == []      # nothing to write: no empty segment either
            return
        result = read_recording(directory)
        assert [e["seq"] for e in result.events] == good and result.problems == []
