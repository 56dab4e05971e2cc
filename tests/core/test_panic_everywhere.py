"""Panic reaches every recording under the user's data folder and is a transaction (issue 13
items 2 and 3).

Observed: panic cleaned only the pressing sidecar's current recording; the previous recording
after stop + start, a restarted (or killed) sidecar's recording, other recorders' folders and
the ``.compact.tmp`` a crash left kept the deleted minutes; a panic interrupted by a crash was
never resumed; afterwards terminal screens and the next viewport wrote the deleted content
again. Here real sidecars share one ``CROWD_HOME``; every byte under it is searched (zstd
frames decompressed) for the doomed markers.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from crowd.format import RecordingWriter, make_event, read_recording
from crowd.format.writer import COMPACT_SUFFIX
from crowd.panic import begin, journal_file
from crowd.server.workspace.folders import path_to_uri

from tests.helpers.disk import all_bytes, decoded_everywhere
from tests.helpers.editor_events import edit_texts, insert, marker, open_event
from tests.helpers.sidecar import start_recording_sidecar
from tests.helpers.waiting import wait_for

AGE_S = 3.0     # what is kept is this much older than the window


def _age(seconds: float = AGE_S) -> None:
    since = time.time()
    wait_for(lambda: time.time() - since > seconds, seconds + 5, "the kept events to age")


def _everywhere(home: Path) -> bytes:
    return decoded_everywhere(all_bytes(home))


def _standalone_folder(home: Path, name: str, text: str, wall_ms: int) -> Path:
    """A recording another recorder left (the writer crowd term's standalone recorder uses)."""
    folder = home / "recordings" / name
    writer = RecordingWriter(folder)
    writer.extend([make_event("session", "start", seq=1, t=0, wall=wall_ms - 10, session_id=name),
                   make_event("action", "terminal_input", seq=2, t=10, wall=wall_ms, source="user",
                              terminal="t1", data=text, paste=False)])
    writer.close()
    return folder


def test_panic_reaches_every_recording_under_the_data_folder(home: Path, workspace: Path) -> None:
    app = workspace / "src" / "app.py"
    keep, gone_prev, gone_killed, gone_alone, gone_now = (marker(t) for t in ("KEEP", "PREV", "KILLED", "ALONE", "NOW"))
    main = start_recording_sidecar(home, [workspace])
    try:
        main.events([open_event(app), insert(app, 0, keep, 2)], ack=True)
        first = Path(main.status()["recording"])
        main.request("crowd/stop")
        _age()
        window_start = time.time()
        main.request("crowd/start")                       # the previous recording: after stop + start
        main.events([insert(app, 0, gone_prev, 3)], ack=True)
        second = Path(main.request("crowd/stop")["recording"])
        main.request("crowd/start")
        killed = start_recording_sidecar(home, [workspace])  # a window reloaded: its sidecar was killed
        killed.events([open_event(app), insert(app, 0, gone_killed, 2)], ack=True)
        killed.request("crowd/flush")
        killed_dir = Path(killed.status()["recording"])
        killed.kill()
        stale = killed_dir / ("seg-000000.crowd" + COMPACT_SUFFIX)   # what a crash mid-compaction leaves
        stale.write_bytes(gone_killed.encode())
        alone = _standalone_folder(home, "term-standalone", gone_alone, int(time.time() * 1000))
        main.events([open_event(app), insert(app, 0, gone_now, 2)], ack=True)
        main.request("crowd/flush")
        raw = _everywhere(home)
        assert all(m.encode() in raw for m in (keep, gone_prev, gone_killed, gone_alone, gone_now))
        result = main.request("crowd/panic", {"minutes": (time.time() - window_start + 1.0) / 60})
        assert result["elsewhere"]["recordings"] >= 3, result
        wait_for(lambda: not journal_file(home).exists(), 15, "the panic journal to close")
        raw = _everywhere(home)
        for gone in (gone_prev, gone_killed, gone_alone, gone_now):
            assert gone.encode() not in raw, gone
        assert keep.encode() in raw
        assert not stale.exists()
        for folder in (first, second, killed_dir, alone):
            assert read_recording(folder).problems == []
        assert edit_texts(read_recording(first).events) == [keep]
        assert read_recording(second).events[0]["kind"] == "start"     # the header stays
    finally:
        main.close()


def test_a_live_sidecar_elsewhere_cleans_its_own_recording(home: Path, workspace: Path, tmp_path: Path) -> None:
    other_ws = tmp_path / "other"
    (other_ws / "src").mkdir(parents=True)
    notes = other_ws / "src" / "notes.py"
    notes.write_text("")
    a = start_recording_sidecar(home, [workspace])
    b = start_recording_sidecar(home, [other_ws])
    try:
        keep, gone = marker("KEEPB"), marker("GONEB")
        b.events([open_event(notes, ""), insert(notes, 0, keep, 2)], ack=True)
        _age()
        window_start = time.time()
        b.events([insert(notes, 0, gone, 3)], ack=True)
        b.request("crowd/flush")
        directory = Path(b.status()["recording"])
        result = a.request("crowd/panic", {"minutes": (time.time() - window_start + 1.0) / 60})
        assert directory.name in result["elsewhere"]["waitingFor"]        # live: its owner does it
        wait_for(lambda: not journal_file(home).exists(), 20, "B to clean its recording")
        assert gone.encode() not in _everywhere(directory)
        later = other_ws / "src" / "later.py"
        later.write_text("")
        b.events([open_event(later, ""), insert(later, 0, "LATER ", 2)], ack=True)
        texts = edit_texts(read_recording(b.request("crowd/stop")["recording"]).events)
        assert keep in texts and gone not in texts and "LATER " in texts
        assert gone.encode() not in _everywhere(home)
    finally:
        a.close()
        b.close()


def test_a_panic_interrupted_by_a_crash_is_resumed_at_the_next_start(home: Path, workspace: Path) -> None:
    now_ms = int(time.time() * 1000)
    gone, keep = marker("CRASHGONE"), marker("CRASHKEEP")
    folder = _standalone_folder(home, "old-recording", gone, now_ms - 60_000)
    kept = _standalone_folder(home, "older-recording", keep, now_ms - 600_000)
    begin(now_ms - 120_000, now_ms - 30_000, home)     # journaled, then the process died
    client = start_recording_sidecar(home, [workspace])
    try:
        wait_for(lambda: not journal_file(home).exists(), 20, "the resumed panic to finish")
        assert gone.encode() not in _everywhere(folder)
        assert keep.encode() in _everywhere(kept)
        assert read_recording(folder).problems == []
    finally:
        client.close()


def test_terminal_screens_and_documents_do_not_bring_deleted_content_back(start_sidecar, workspace: Path) -> None:
    app = workspace / "src" / "app.py"
    client = start_sidecar([workspace])
    gone_out, gone_typed = marker("SCREENGONE"), marker("TYPEDGONE")
    client.events([open_event(app, "line one\n"),
                   {"kind": "terminal_open", "terminal": "t1", "name": "bash", "rows": 10, "cols": 60}], ack=True)
    _age()
    window_start = time.time()
    client.events([{"kind": "terminal_data", "terminal": "t1", "data": f"echo {gone_out}\r\n{gone_out}\r\n"},
                   insert(app, 0, gone_typed, 2)], ack=True)
    directory = Path(client.status()["recording"])
    wait_for(lambda: client.request("crowd/flush") is not None and gone_out.encode() in _everywhere(directory),
             20, "the screen with the doomed output recorded")
    client.request("crowd/panic", {"minutes": (time.time() - window_start + 1.0) / 60})
    # the next screen sample, viewport and edits of the same document come after the panic
    client.events([{"kind": "terminal_data", "terminal": "t1", "data": "after\r\n"},
                   {"kind": "viewport", "editors": [{"uri": path_to_uri(app), "visibleRanges": [[0, 3]],
                                                     "selections": [], "active": True}]},
                   insert(app, len(gone_typed) + 9, " end", 3)], ack=True)
    wait_for(lambda: client.request("crowd/flush") is not None and b"after" in _everywhere(directory),
             20, "the screen after the panic recorded")
    result = read_recording(client.request("crowd/stop")["recording"])
    raw = _everywhere(directory)
    assert gone_out.encode() not in raw and gone_typed.encode() not in raw
    assert result.problems == []
    from crowd.serializer.replay.state import ReplayState  # noqa: PLC0415

    replay = ReplayState()                      # the recording still replays
    for event in result.events:
        replay.apply(event)
    assert replay.doc("src/app.py").text == "line one\n"


def test_panic_shreds_held_and_due_upload_bundles(home: Path, workspace: Path, tmp_path: Path) -> None:
    from crowd.transfer.bundle import Candidate  # noqa: PLC0415
    from crowd.transfer.queue import UploadQueue  # noqa: PLC0415

    source = tmp_path / "src-rec"
    source.mkdir()
    old, held, due = source / "seg-000000.crowd", source / "seg-000001.crowd", source / "seg-000002.crowd"
    for path in (old, held, due):
        path.write_bytes(path.name.encode())
    long_ago = time.time() - 3600
    os.utime(old, (long_ago, long_ago))
    queue_dir = home / "upload"
    kept = UploadQueue(queue_dir, hold_s=0).add(Candidate("s", "editor", source, [old]))
    due_bundle = UploadQueue(queue_dir, hold_s=0).add(Candidate("s", "editor", source, [due]))
    held_bundle = UploadQueue(queue_dir, hold_s=600).add(Candidate("s", "editor", source, [held]))
    client = start_recording_sidecar(home, [workspace])
    try:
        client.request("crowd/panic", {"minutes": 1})
    finally:
        client.close()
    left = {b.id for b in UploadQueue(queue_dir).bundles()}
    assert kept.id in left and due_bundle.id not in left and held_bundle.id not in left
    assert not Path(held_bundle.path).exists() and not Path(due_bundle.path).exists()


def test_terminals_are_announced_again_after_the_panic_marker_never_inside_its_window(start_sidecar, workspace: Path) -> None:
    """CI (a real code-server): the 10 Hz sampler re-announced the terminals between panic's
    deletion and its marker, leaving terminal_open + screen inside the deleted window; had
    the deletion taken them instead, later screens would have had no open. Now the marker is
    written in the deletion's locked step and the terminals are announced after it. Repeated
    panics with several busy terminals give the sampler many chances to race."""
    client = start_sidecar([workspace])
    terms = [f"t{i}" for i in range(6)]
    client.events([{"kind": "terminal_open", "terminal": t, "name": "bash", "rows": 8, "cols": 40} for t in terms],
                  ack=True)
    directory = Path(client.status()["recording"])
    for round_ in range(8):
        client.events([{"kind": "terminal_data", "terminal": t, "data": f"round {round_} {t}\r\n"} for t in terms],
                      ack=True)
        client.request("crowd/panic", {"minutes": 0.001})   # a 60 ms window
        pressed = time.time()
        wait_for(lambda: time.time() - pressed > 0.1, 5, "the next round to start outside this window")
    def opened_after_last_panic(events: list[dict]) -> set[str]:
        last = max(e["seq"] for e in events if e.get("kind") == "panic")
        return {e["terminal"] for e in events if e["seq"] > last and e.get("kind") == "terminal_open"}

    wait_for(lambda: client.request("crowd/flush") is not None
             and opened_after_last_panic(read_recording(directory).events) == set(terms),
             20, "every terminal announced after the last panic")
    events = read_recording(client.request("crowd/stop")["recording"]).events
    panics = [e for e in events if e.get("kind") == "panic"]
    assert len(panics) == 8
    for panic in panics:
        cutoff = panic["t"] - int(panic["minutes"] * 60e6)
        inside = [e for e in events if cutoff <= e["t"] < panic["t"] and e.get("kind") not in ("start", "consent")]
        assert not inside, inside[:3]
    last = max(e["seq"] for e in panics)
    after = [e for e in events if e["seq"] > last]
    for t in terms:
        mine = [e["kind"] for e in after if e.get("terminal") == t]
        assert mine and mine[0] == "terminal_open", (t, mine)
