"""Keylog wire format: exact bytes shape, round trip, crash tolerance, clear errors."""
from __future__ import annotations

import msgpack
import pytest

from crowd.format.desktop import keylog as k
from crowd.format.desktop import layout


def _meta() -> k.Metadata:
    return k.Metadata(1280, 720, 1280 / 720, 1280, 720, 1280 / 720, 1280, 720, 1280 / 720,
                      "2025-01-01T00:00:00.000000Z", [0, 0, 0, 1280, 720],
                      [[0, 0, 0, 1280, 720]], "linux", "single_active_app")


def test_wire_shape_is_positional_arrays() -> None:
    data = k.dumps([(0, _meta()), (0, k.ContextChanged("xterm")), (1500, k.KeyPress(38, "KeyA")),
                    (1600, k.MouseMove(3, -2)), (1700, k.MouseScroll(0, -1, 10, 20)),
                    (1800, k.MousePress("Left")), (1900, k.Redacted("password"))])
    raw = msgpack.unpackb(data)
    assert raw[0][0] == 0 and raw[0][1][0] == "Metadata" and len(raw[0][1][1]) == 14
    assert raw[1] == [0, ["ContextChanged", ["xterm"]]]
    assert raw[2] == [1500, ["KeyPress", [38, "KeyA"]]]
    # floats stay floats on the wire even when built from ints (strict typed readers)
    assert raw[3] == [1600, ["MouseMove", [3.0, -2.0]]] and isinstance(raw[3][1][1][0], float)
    assert raw[4] == [1700, ["MouseScroll", [0, -1, 10.0, 20.0]]]
    assert isinstance(raw[4][1][1][0], int)
    assert raw[5] == [1800, ["MousePress", ["Left", 0.0, 0.0]]]
    assert raw[6] == [1900, ["Redacted", ["password"]]]


def test_writer_round_trip_and_plain_msgpack(tmp_path) -> None:
    p = tmp_path / "input.msgpack"
    with k.KeylogWriter(p) as w:
        w.append(0, _meta())
        w.append(0, k.ContextChanged(k.UNCAPTURED))
        w.flush()
        w.append(33_333, k.KeyRelease(50, "ShiftLeft"))
    entries = k.read_keylog(p, strict=True)
    assert [e.event for e in entries] == [_meta(), k.ContextChanged("UNCAPTURED"), k.KeyRelease(50, "ShiftLeft")]
    assert entries[2].frame(30) == 0 and k.Entry(33_334, entries[2].event).frame(30) == 1
    assert len(msgpack.unpackb(p.read_bytes())) == 3  # any msgpack reader accepts a closed file


def test_crashed_writer_is_readable(tmp_path) -> None:
    p = tmp_path / "input.msgpack"
    w = k.KeylogWriter(p)
    for i in range(5):
        w.append(i, k.KeyPress(38, "KeyA"))
    w.flush()  # no close: simulated crash
    data = p.read_bytes()
    assert len(k.loads(data)) == 5
    assert len(k.loads(data[:-3])) == 4  # torn last entry dropped, rest kept
    with pytest.raises(k.KeylogError, match="truncated"):
        k.loads(data, strict=True)


def test_unknown_types_kept_and_bad_input_rejected(tmp_path) -> None:
    data = msgpack.packb([[5, ["FutureThing", [1, 2]]]])
    (e,) = k.loads(data)
    assert e.event == k.UnknownEvent("FutureThing", [1, 2])
    assert msgpack.unpackb(k.dumps([e])) == [[5, ["FutureThing", [1, 2]]]]
    with pytest.raises(k.KeylogError, match="expected a msgpack array"):
        k.loads(msgpack.packb({"a": 1}))
    with pytest.raises(k.KeylogError, match="KeyPress: expected 2 fields"):
        k.loads(msgpack.packb([[0, ["KeyPress", [1]]]]))
    bad = tmp_path / "bad.msgpack"
    bad.write_bytes(b"\x01\x02")
    with pytest.raises(k.KeylogError, match="bad.msgpack"):
        k.read_keylog(bad)
    assert bad.read_bytes() == b"\x01\x02"


def test_layout_names_and_listing(tmp_path) -> None:
    sid = layout.new_session_id()
    assert layout.video_name(sid, 3) == f"recording_{sid}_seg0003.mp4"
    assert layout.keylog_name(sid, 12) == f"input_{sid}_seg0012.msgpack"
    assert layout.parse_name(f"input_{sid}_seg0012.msgpack") == ("keylog", sid, 12)
    assert layout.parse_name(f"recording_{sid}_seg0001.msgpack") is None
    assert layout.parse_name("notes.txt") is None
    other = layout.new_session_id()
    for s, i in [(sid, 0), (sid, 1), (other, 0)]:
        v, kl = layout.segment_paths(tmp_path, s, i)
        v.write_bytes(b"")
        kl.write_bytes(b"")
    (tmp_path / layout.video_name(sid, 2)).write_bytes(b"")  # keylog missing
    (tmp_path / "unrelated.mp4").write_bytes(b"")
    sessions = {s.session_id: s for s in layout.list_sessions(tmp_path)}
    assert [g.index for g in sessions[sid].segments] == [0, 1, 2]
    assert [g.complete for g in sessions[sid].segments] == [True, True, False]
    assert len(sessions[other].segments) == 1
    with pytest.raises(FileNotFoundError):
        layout.list_segments(tmp_path / "nope")
