"""``crowd export --jsonl``: every event of a recording, one JSON object per line, lossless.

The round trip is checked on generated msgpack values (hypothesis: bytes, non-string keys,
tag-like keys, NaN/Infinity, deep lists) and through the real CLI on a real recording,
against the format reader's own events; a pipe closed early (``| head``) must end quietly.
"""
from __future__ import annotations

import io
import math
import subprocess
import sys

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.format.reader import read_recording
from crowd.serializer.interop.jsonl import JsonlError, event_line, read_jsonl, write_jsonl

CROWD = [sys.executable, "-m", "crowd.cli"]

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=True, allow_infinity=True), st.text(), st.binary(max_size=40),
)
_keys = st.one_of(st.text(max_size=8), st.sampled_from(["$bytes", "$map", "$float", "$x"]),
                  st.integers(min_value=-5, max_value=5))
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=20,
)
_events = st.dictionaries(st.text(max_size=6), _values, max_size=6)


def _same(a, b) -> bool:
    """Equality where NaN equals NaN (msgpack keeps NaN; so must we)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@settings(max_examples=300, deadline=None)
@given(st.lists(_events, max_size=5))
def test_round_trip_is_lossless_for_what_msgpack_carries(events):
    # what the format really holds: the value after a msgpack round trip
    stored = [msgpack.unpackb(msgpack.packb(e, use_bin_type=True), raw=False, strict_map_key=False)
              for e in events]
    buf = io.StringIO()
    assert write_jsonl(stored, buf) == len(stored)
    text = buf.getvalue()
    assert text.isascii() and text.count("\n") == len(stored)
    back = list(read_jsonl(text.splitlines()))
    assert len(back) == len(stored) and all(_same(a, b) for a, b in zip(stored, back))


def test_tag_like_maps_and_special_values_are_spelled_unambiguously():
    event = {"a": {"$bytes": "not bytes"}, "b": b"\x00\xff", "c": {1: "one"}, "d": float("inf")}
    line = event_line(event)
    assert list(read_jsonl([line])) == [event]


@pytest.mark.parametrize("line", ["{", "[1, 2]", '{"$bytes": "***"}'])
def test_a_bad_line_is_a_clear_error(line):
    with pytest.raises(JsonlError, match="line 1"):
        list(read_jsonl([line]))


def test_cli_exports_every_event_of_a_real_recording(tmp_path):
    from crowd.serializer.synthetic import write_recording

    rec = write_recording(tmp_path / "rec", hours=0.02, seed=5, session_id="jsonl-session")
    expected = read_recording(rec).events
    out = subprocess.run(CROWD + ["export", "--jsonl", str(rec)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert list(read_jsonl(out.stdout.splitlines())) == expected

    target = tmp_path / "out"
    target.mkdir()
    out = subprocess.run(CROWD + ["export", "--jsonl", str(rec), "-o", str(target)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    written = (target / "rec.jsonl").read_text(encoding="ascii").splitlines()
    assert list(read_jsonl(written)) == expected


def test_cli_into_a_pipe_closed_early_ends_quietly(tmp_path):
    from crowd.serializer.synthetic import write_recording

    rec = write_recording(tmp_path / "rec", hours=0.05, seed=6)
    proc = subprocess.Popen(CROWD + ["export", "--jsonl", str(rec)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().startswith(b"{")
    proc.stdout.close()  # what `| head -1` does
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and b"Traceback" not in err, err.decode()
