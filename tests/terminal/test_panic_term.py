"""A panic pressed in an editor window reaches a live standalone ``crowd term`` recording
(issue 13 item 2): its events of the window are deleted from disk and its screen model
forgets what it showed, so the next sample does not write it again. In process, with the
real hub, pipeline and writer; the journal is the one a sidecar writes (crowd.panic.begin)."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import pytest

from crowd.format import read_recording
from crowd.panic import applied, begin
from crowd.terminal import wire
from crowd.terminal.capture import Capture, ConsentGate
from crowd.home import ConsentFact

from tests.helpers.disk import all_bytes, decoded_everywhere
from tests.helpers.waiting import wait_for


def _frame(kind: int, payload: bytes) -> tuple[int, int, bytes]:
    return kind, time.monotonic_ns() // 1000, payload


def test_standalone_recording_obeys_a_panic_pressed_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("CROWD_HOME", str(home))
    gate = ConsentGate(read=lambda: ConsentFact("granted", 0), interval=0)
    args = argparse.Namespace(recordings=tmp_path / "rec", workspace=tmp_path, session_id="t1",
                              announce=tmp_path / "announce.txt")
    meta = {"t0": time.monotonic_ns() // 1000, "rows": 5, "cols": 40, "command": "sh"}
    capture = Capture(args, "term-1", meta, None, gate)
    capture.panic_poll_s = 0
    directory = tmp_path / "rec" / "t1"
    state: dict[str, object] = {}

    def on_disk(text: bytes) -> bool:
        capture.sink.pipeline.flush()
        return text in decoded_everywhere(all_bytes(directory))

    def frames():
        yield _frame(wire.OUTPUT, b"kept-line\r\n")
        wait_for(lambda: on_disk(b"kept-line"), 20, "the kept screen recorded")
        start = int(time.time() * 1000) + 2     # the window starts strictly after what is kept
        wait_for(lambda: time.time() * 1000 > start, 5, "the clock to pass the kept events")
        yield _frame(wire.OUTPUT, b"DOOMED-OUT\r\n")
        yield _frame(wire.INPUT, b"DOOMED-KEYS")
        wait_for(lambda: on_disk(b"DOOMED-OUT"), 20, "the doomed screen recorded")
        state["request"] = begin(start, int(time.time() * 1000) + 50)
        yield _frame(wire.OUTPUT, b"after\r\n")
        wait_for(lambda: on_disk(b"after"), 20, "the screen after the panic recorded")
        yield _frame(wire.EXIT, b"0")

    capture.run(frames())
    capture.finish()
    raw = decoded_everywhere(all_bytes(directory))
    assert b"DOOMED" not in raw and b"kept-line" in raw and b"after" in raw
    assert applied(state["request"], directory)
    result = read_recording(directory)
    assert result.problems == [] and result.events[-1]["kind"] == "stop"
