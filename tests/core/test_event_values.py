"""Every value that enters a recording is one the format can carry (crowd.pipeline.values).

The pipeline is the one place that fits events to the format: lone surrogates become U+FFFD
(keys too), integers beyond 64 bits their decimal string, and what has no representation
(too deep, foreign types) is refused with a ``session``/``error`` event in its place. These
check the fitting on generated values, and the observed failure end to end through
``RecordingPipeline`` and a real ``RecordingWriter``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import msgpack
import pytest
import zstandard
from hypothesis import given, settings, strategies as st

from crowd.format import RecordingWriter, read_recording
from crowd.format.frames import decode_payload, encode_frame
from crowd.format.schema import INT_MAX, INT_MIN, MAX_DEPTH
from crowd.pipeline import ListWriter, RecordingPipeline
from crowd.pipeline.values import Unrecordable, fit_event

# strings with lone surrogates among ordinary and astral characters
texts = st.text(alphabet=st.one_of(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
                                   st.characters(blacklist_categories=("Cs",)),
                                   st.sampled_from("a\U0001F600\ufffd")), max_size=12)
ints = st.one_of(st.integers(), st.integers(min_value=-(2 ** 200), max_value=2 ** 200),
                 st.sampled_from([INT_MIN - 1, INT_MIN, INT_MAX, INT_MAX + 1, 10 ** 30, -(10 ** 30)]))
scalars = st.one_of(texts, ints, st.floats(allow_nan=True), st.booleans(), st.none())
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                           st.dictionaries(texts, inner, max_size=4)),
                           max_leaves=20)


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def _roundtrip(event: dict[str, Any]) -> dict[str, Any]:
    return decode_payload(encode_frame([event], zstandard.ZstdCompressor(level=1))[12:])[0]


@settings(max_examples=150, deadline=None)
@given(fields=st.dictionaries(texts.filter(lambda k: k not in ("seq", "t", "wall", "type", "kind")),
                              json_values, max_size=5))
def test_fitted_events_always_encode(fields: dict[str, Any]) -> None:
    event = {"seq": 1, "t": 5, "wall": 7, "type": "action", "kind": "editor_command", **fields}
    fitted, repairs = fit_event(event)
    back = _roundtrip(fitted)                       # encodes, and decodes to the same thing
    assert msgpack.packb(back, use_bin_type=True) == msgpack.packb(fitted, use_bin_type=True)
    try:
        msgpack.packb(event, use_bin_type=True)
    except (UnicodeEncodeError, OverflowError):
        assert repairs                              # anything that did not encode was repaired
    else:
        assert fitted is event and repairs == []    # a clean event passes untouched


def test_each_repair() -> None:
    event = {"seq": 1, "t": 0, "wall": 0, "type": "action", "kind": "save",
             "command": "a\ud800b", "version": 10 ** 30, "small": -(2 ** 63), "big": 2 ** 64 - 1,
             "nested": {"\udc00": [1, {"k": -(10 ** 25)}]}, "pair": "\U0001F600"}
    fitted, repairs = fit_event(event)
    assert fitted["command"] == "a\ufffdb"
    assert fitted["version"] == str(10 ** 30)
    assert fitted["small"] == -(2 ** 63) and fitted["big"] == 2 ** 64 - 1 and fitted["pair"] == "\U0001F600"
    assert fitted["nested"] == {"\ufffd": [1, {"k": str(-(10 ** 25))}]}
    assert len(repairs) == 4
    assert any("at command" in r for r in repairs) and any("nested.?[1].k" in r for r in repairs)
    assert event["command"] == "a\ud800b"           # the caller's dict is not changed


def test_notes_show_only_plain_key_names() -> None:
    """The repair note is not scrubbed, so a key that could be a secret is not quoted."""
    _, repairs = fit_event({"seq": 1, "t": 0, "wall": 0, "editors": [{"text": "\ud800"}],
                            "settings": {"AKIAABCDEFGHIJKLMNOP": "\udfff"}})
    assert any("editors[0].text" in r for r in repairs)
    assert not any("AKIA" in r for r in repairs) and any("settings.?" in r for r in repairs)


def test_many_repairs_are_counted_not_listed() -> None:
    fitted, repairs = fit_event({"seq": 1, "t": 0, "wall": 0, "lines": ["\ud800"] * 10_000})
    assert fitted["lines"] == ["\ufffd"] * 10_000
    assert len(repairs) == 101 and repairs[-1].startswith("9900 more repairs")


def test_keys_that_collide_after_repair_keep_both_values() -> None:
    fitted, _ = fit_event({"seq": 1, "t": 0, "wall": 0, "m": {"\ud800": 1, "\ud801": 2}})
    assert sorted(fitted["m"].values()) == [1, 2]


def test_unrepresentable_events_are_refused() -> None:
    base = {"seq": 1, "t": 0, "wall": 0, "type": "action", "kind": "editor_command"}
    assert fit_event({**base, "phase": _deep(MAX_DEPTH - 1)})[1] == []
    assert fit_event({**base, "t": 1.5, "wall": 2.5e12})[1] == []    # an importer's float times
    for bad in ({"phase": _deep(MAX_DEPTH)}, {"phase": {1, 2}}, {"phase": {(1, 2): 3}},
                {"t": 2 ** 64}, {"wall": "soon"}):
        with pytest.raises(Unrecordable):
            fit_event({**base, **bad})


def test_pipeline_repairs_refuses_and_keeps_writing(tmp_path: Path) -> None:
    """The observed case: these events erased the last acknowledged frame and stopped writing."""
    writer = RecordingWriter(tmp_path, flush_interval=3600)
    pipeline = RecordingPipeline(writer, None, typing_guard=False)
    assert pipeline.record("action", "save", {"file": "a.py", "version": 1}) is not None
    pipeline.flush()
    assert pipeline.record("action", "save", {"file": "b.py", "version": 2}) is not None
    pipeline.flush()
    assert pipeline.record("action", "editor_command", {"command": "\ud800"})["command"] == "\ufffd"
    assert pipeline.record("action", "save", {"file": "c.py", "version": 10 ** 30})["version"] == str(10 ** 30)
    assert pipeline.record("action", "editor_command", {"phase": _deep(200)}) is None
    pipeline.flush()
    assert pipeline.record("action", "save", {"file": "d.py", "version": 4}) is not None
    pipeline.close()
    result = read_recording(tmp_path)
    assert result.problems == []
    events = result.events
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e.get("file") for e in events if e["kind"] == "save"] == ["a.py", "b.py", "c.py", "d.py"]
    errors = [e["message"] for e in events if e["kind"] == "error"]
    assert len(errors) == 3
    assert "surrogates" in errors[0] and "64 bits at version" in errors[1]
    assert "not recordable (nested deeper than" in errors[2]
    assert pipeline.repaired == 2 and pipeline.withheld == 1 and writer.events_dropped == 0


def test_imported_events_with_bad_times_are_refused() -> None:
    writer = ListWriter()
    pipeline = RecordingPipeline(writer, None, typing_guard=False)
    assert pipeline.write({"t": 10 ** 30, "wall": 0, "type": "action", "kind": "save\ud800"}) is None
    [error] = writer.events
    assert error["kind"] == "error" and "t is not a 64-bit integer" in error["message"]
    assert isinstance(error["t"], int) and error["message"].isascii()
