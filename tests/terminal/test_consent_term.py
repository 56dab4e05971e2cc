"""Consent is one fact for every recorder on the machine: ``crowd term`` obeys the editor's
answer and pause (the sidecar writes them to ``crowd.home.consent_file()``), streaming and
fallback included.

Before, with the editor's consent declined or paused, ``crowd term`` streamed to the sidecar
and, when the sidecar went away, started a standalone recording holding the current screen
and everything after. Real processes here: a stdio sidecar, ``crowd term`` in a real PTY,
bash; one in-process test drives ``Capture`` with frames to pin the pause/resume events.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.home import ConsentFact, consent_file, read_consent, read_consent_fact, write_consent
from crowd.terminal import wire
from crowd.terminal.capture import Capture, ConsentGate
from tests.helpers.sidecar import start_recording_sidecar
from tests.helpers.waiting import wait_for
from tests.terminal.standalone import crowd_term, events_of
from tests.terminal.streaming import absorbed, kill_both, streaming_sidecar
from tests.terminal.term_oracle import PtyProgram

SCRIPT = "echo phase-one; read a; echo phase-two-$a; read b; echo done-$b"


def _term(tmp_path: Path, home: Path, ws_dir: Path, announce: Path) -> PtyProgram:
    return PtyProgram([sys.executable, "-m", "crowd.cli", "term", "--announce", str(announce),
                       "--", "bash", "-c", SCRIPT], rows=20, cols=70,
                      env={"CROWD_HOME": str(home), "HOME": str(tmp_path),
                           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}, cwd=str(ws_dir))


def _finish(prog: PtyProgram) -> None:
    prog.type("after\r")
    prog.expect("phase-two-after")
    prog.type("zed\r")
    prog.expect("done-zed")
    assert prog.wait_exit() == 0


def _recordings(home: Path) -> list[Path]:
    folder = home / "recordings"
    return sorted(p for p in folder.iterdir() if p.name.startswith("term-")) if folder.exists() else []


def test_paused_editor_no_fallback_recording_when_the_sidecar_dies(tmp_path: Path) -> None:
    home, ws_dir, announce = tmp_path / "home", tmp_path / "ws", tmp_path / "announce.txt"
    ws_dir.mkdir()
    client = streaming_sidecar(home, ws_dir)
    assert read_consent(home) == "granted"
    prog = None
    try:
        prog = _term(tmp_path, home, ws_dir, announce)
        prog.expect("phase-one")
        client.wait_for(announce.exists, 30, "crowd term to say where it records")
        assert announce.read_text() == "sidecar"
        client.wait_for(lambda: absorbed(client, prog), 30, "the sidecar to absorb phase one")
        client.request("crowd/pause")
        assert read_consent(home) == "paused"
        client.kill()                                    # SIGKILL while paused
        _finish(prog)                                    # the terminal never noticed
    finally:
        kill_both(prog, client)
    assert announce.read_text() == "sidecar", "no fallback recording while paused"
    assert _recordings(home) == []


def test_declined_editor_nothing_streamed_nothing_recorded(tmp_path: Path) -> None:
    home, ws_dir, announce = tmp_path / "home", tmp_path / "ws", tmp_path / "announce.txt"
    ws_dir.mkdir()
    client = start_recording_sidecar(home, [ws_dir], consent=False)
    prog = None
    try:
        client.wait_for((home / "sidecar-ws.json").exists, 30, "the token file")
        assert read_consent(home) == "declined"
        prog = _term(tmp_path, home, ws_dir, announce)
        prog.expect("phase-one")
        prog.type("after\r")
        prog.expect("phase-two-after")
        assert not (client.status().get("terminals") or {}), "declined: nothing is streamed"
        client.kill()
        prog.type("zed\r")
        prog.expect("done-zed")
        assert prog.wait_exit() == 0
    finally:
        kill_both(prog, client)
    assert not announce.exists()
    assert _recordings(home) == []


def test_standalone_waits_for_consent_and_records_nothing_typed_before(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROWD_HOME", str(tmp_path / "home"))
    write_consent("paused")
    prog, announce = crowd_term(tmp_path, "bash", "-c", SCRIPT, rows=20, cols=70)
    try:
        prog.expect("phase-one")
        prog.type("hidden\r")
        prog.expect("phase-two-hidden")
        assert not announce.exists(), "paused: no recording is started"
        write_consent("granted")
        wait_for(lambda: prog.read_available(0.02) and announce.exists(), 30,
                 "crowd term to start recording once consent allows it")
        prog.type("zed\r")
        prog.expect("done-zed")
        assert prog.wait_exit() == 0
    finally:
        if not prog.exited:
            prog.kill()
    events = events_of(announce)
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "stop"
    assert "terminal_open" in kinds
    typed = "".join(e.get("data") or "" for e in events if e["kind"] == "terminal_input")
    assert "zed" in typed and "hidden" not in typed


# -- in process: pause and resume of an open standalone recording ------------------------------
def _frame(kind: int, payload: bytes) -> tuple[int, int, bytes]:
    return kind, time.monotonic_ns() // 1000, payload


def test_open_recording_pauses_and_resumes_with_the_fact(tmp_path: Path) -> None:
    fact: list[ConsentFact | None] = [ConsentFact("granted", 0)]
    gate = ConsentGate(read=lambda: fact[0], interval=0)
    args = argparse.Namespace(recordings=tmp_path / "rec", workspace=tmp_path, session_id="t1",
                              announce=tmp_path / "announce.txt")
    meta = {"t0": time.monotonic_ns() // 1000, "rows": 5, "cols": 30, "command": "sh"}
    capture = Capture(args, "term-1", meta, None, gate)

    def frames():
        yield _frame(wire.OUTPUT, b"visible-one\r\n")
        yield _frame(wire.INPUT, b"typed-one")
        fact[0] = ConsentFact("paused", time.time() * 1000)
        yield _frame(wire.OUTPUT, b"while-paused\r\n")
        yield _frame(wire.INPUT, b"typed-paused")
        yield _frame(wire.RESIZE, struct.pack("<HH", 6, 30))
        fact[0] = ConsentFact("granted", time.time() * 1000)
        yield _frame(wire.INPUT, b"typed-two")
        yield _frame(wire.EXIT, b"0")

    capture.run(frames())
    capture.finish()
    events = events_of(tmp_path / "announce.txt")
    kinds = [e["kind"] for e in events]
    assert kinds.index("pause") < kinds.index("resume")
    typed = [e.get("data") for e in events if e["kind"] == "terminal_input"]
    assert typed == ["typed-one", "typed-two"]
    between = events[kinds.index("pause") + 1:kinds.index("resume")]
    assert between == [], "nothing is written while paused"
    assert kinds[-1] == "stop"


@settings(max_examples=60, deadline=None)
@given(content=st.one_of(st.binary(max_size=200),
                         st.builds(lambda v: json.dumps({"state": v, "since_ms": v, "before": v}).encode(),
                                   st.one_of(st.none(), st.integers(), st.text(max_size=10),
                                             st.sampled_from(["granted", "paused", "declined"])))))
def test_a_damaged_consent_file_never_reads_as_consent_it_does_not_say(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        home = Path(d)
        consent_file(home).write_bytes(content)
        fact = read_consent_fact(home)
        assert fact is not None and fact.state in ("granted", "paused", "declined")
        if fact.state == "granted":
            assert json.loads(content)["state"] == "granted"


def test_a_scripted_consent_is_not_the_machines(tmp_path: Path) -> None:
    """``crowd demo``'s sidecar consents by script (``shareConsent: false``): the fact that
    ``crowd term`` obeys stays as the user left it."""
    home, ws_dir = tmp_path / "home", tmp_path / "ws"
    ws_dir.mkdir()
    write_consent("declined", home)
    client = start_recording_sidecar(home, [ws_dir], settings={"shareConsent": False})
    try:
        client.request("crowd/pause")
        client.request("crowd/resume")
    finally:
        client.close()
    assert read_consent(home) == "declined"
