"""The segment format keeps its promises: frames stand alone, a torn tail is reported, panic
leaves no byte of the deleted window, and a failed write loses nothing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crowd.format import RecordingWriter, make_event, read_recording
from crowd.format.frames import FILE_MAGIC, FRAME_MAGIC
from crowd.format.writer import list_segments


def _edit(i: int, text: str = "x") -> dict:
    return make_event("action", "edit", seq=i, t=i * 1000, wall=1_700_000_000_000 + i,
                      source="user", file="src/a.py", changes=[{"offset": i, "length": 0, "text": text}])


def test_round_trip_across_segments(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path, segment_max_bytes=4096)
    for i in range(1, 2001):
        writer.append(_edit(i, f"token{i}"))
        if i % 100 == 0:
            writer.flush()
    writer.close()
    result = read_recording(tmp_path)
    assert [e["seq"] for e in result.events] == list(range(1, 2001))
    assert result.events[41]["changes"][0]["text"] == "token42"
    assert len(result.segments) > 1
    assert result.problems == [] and not result.torn_tail


def test_torn_tail_is_reported_not_raised(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path)
    for i in range(1, 11):
        writer.append(_edit(i))
        writer.flush()
    writer.close()
    segment = list_segments(tmp_path)[-1]
    data = segment.read_bytes()
    segment.write_bytes(data[:-7])  # a writer killed mid-frame
    result = read_recording(tmp_path)
    assert [e["seq"] for e in result.events] == list(range(1, 10))
    assert result.torn_tail


def test_damaged_middle_frame_is_skipped(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path)
    for i in range(1, 4):
        writer.append(_edit(i))
        writer.flush()
    writer.close()
    segment = list_segments(tmp_path)[0]
    data = bytearray(segment.read_bytes())
    second = data.index(FRAME_MAGIC, len(FILE_MAGIC) + 1)
    data[second + 20] ^= 0xFF  # flip a payload byte of the second frame
    segment.write_bytes(bytes(data))
    result = read_recording(tmp_path)
    assert [e["seq"] for e in result.events] == [1, 3]
    assert any("checksum" in p for p in result.problems)
    assert not result.torn_tail


def test_panic_removes_every_byte_of_the_window(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path, segment_max_bytes=2048)
    for i in range(1, 601):
        writer.append(_edit(i, f"keep{i:04d}" if i < 400 else f"SECRET{i:04d}"))
        if i % 50 == 0:
            writer.flush()
    writer.flush()
    removed = writer.drop_where(lambda e: e["t"] >= 400 * 1000)
    writer.append(_edit(601, "after-panic"))
    writer.close()
    assert removed == 201
    result = read_recording(tmp_path)
    assert [e["seq"] for e in result.events] == [*range(1, 400), 601]
    # Nothing of the window is left in any file, even compressed: decompress every frame
    # and also look at the raw bytes.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"SECRET" not in path.read_bytes()
    assert all("SECRET" not in str(e) for e in result.events)


def test_failed_write_keeps_events_for_the_next_flush(tmp_path: Path, monkeypatch) -> None:
    writer = RecordingWriter(tmp_path, flush_interval=3600)
    writer.append(_edit(1))
    writer.flush()
    calls = {"n": 0}
    real_segment_for = writer._segment_for

    def failing(incoming: int):
        fh = real_segment_for(incoming)
        calls["n"] += 1
        if calls["n"] == 1:
            class Full:
                def write(self, data):
                    fh.write(data[: len(data) // 2])  # a partial write, then ENOSPC
                    raise OSError(28, "No space left on device")
            return Full()
        return fh

    monkeypatch.setattr(writer, "_segment_for", failing)
    writer.append(_edit(2))
    with pytest.raises(OSError):
        writer.flush()
    writer.append(_edit(3))
    writer.flush()
    writer.close()
    result = read_recording(tmp_path)
    assert [e["seq"] for e in result.events] == [1, 2, 3]
    assert result.problems == []


def test_killed_writer_keeps_flushed_frames(tmp_path: Path) -> None:
    """A real process appending continuously is killed with SIGKILL: every event it reported
    as flushed is readable, and the folder always opens."""
    script = textwrap.dedent(f"""
        import sys, time
        from crowd.format import RecordingWriter, make_event
        w = RecordingWriter({str(tmp_path)!r}, flush_interval=0.05)
        i = 0
        while True:
            i += 1
            w.append(make_event("action", "edit", seq=i, t=i, wall=i, source="user",
                                file="a.py", changes=[{{"offset": 0, "length": 0, "text": "x" * (i % 50)}}]))
            if i % 200 == 0:
                w.flush()
                print(i, flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    flushed = 0
    for line in proc.stdout:
        flushed = int(line)
        if flushed >= 20_000:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    result = read_recording(tmp_path)
    seqs = [e["seq"] for e in result.events]
    assert seqs[: flushed] == list(range(1, flushed + 1))
