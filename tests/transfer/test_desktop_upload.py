"""Desktop segments and the upload queue: one hold in total, desktop panic reaches the queue,
and ``crowd upload run`` finds the desktop folder by itself.

Segment files here are small stand-ins with crowd-cast names (the real recorder under Xvfb is
exercised in tests/capture/test_upload_handoff.py); the queue, ingest server and CLI are real.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.transfer.transfer_helpers import TOKEN, make_recording, stored

from crowd.capture.app import QueueSink
from crowd.format.desktop.layout import segment_paths
from crowd.transfer.bundle import editor_candidate
from crowd.transfer.queue import UploadQueue

SID = "0f8fad5b-d9cb-469f-a165-70867728950e"
OTHER = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


def write_segment(folder: Path, sid: str, index: int, age_s: float = 0.0) -> list[Path]:
    paths = list(segment_paths(folder, sid, index))
    for p in paths:
        p.write_bytes(os.urandom(3000))
        if age_s:
            t = time.time() - age_s
            os.utime(p, (t, t))
    return paths


def test_queue_sink_hands_over_at_once_and_desktop_panic_shreds_only_held_desktop_bundles(tmp_path):
    q = UploadQueue(tmp_path / "q", hold_s=600)
    desk = tmp_path / "desk"
    desk.mkdir()
    editor = q.add(editor_candidate(make_recording(tmp_path / "rec", "ed", 2), final=True))
    sink = QueueSink(q, window_seconds=600)
    old = write_segment(desk, OTHER, 0, age_s=1800)      # closed half an hour ago
    sink.enqueue(old)
    recent = write_segment(desk, SID, 0)
    sink.enqueue(recent)
    assert sink.drain(60)
    # handed over at once: bundled now and held by the queue for its hold (the only hold)
    by_session = {b.session_id: b for b in q.bundles() if b.kind == "desktop"}
    assert set(by_session) == {SID, OTHER}
    assert by_session[SID].ready_at - by_session[SID].created == 600
    assert {Path(s) for s in by_session[SID].sources} == set(recent)

    # panic after the recorder deleted nothing of its own (files already gone, e.g. by a
    # previous run): the queue's copies must still go
    for p in recent:
        p.unlink()
    tar = by_session[SID].path
    sink.forget([])
    left = {b.id for b in q.bundles()}
    assert by_session[SID].id not in left and not tar.exists()
    assert by_session[OTHER].id in left            # before the window: stays
    assert editor.id in left                       # an editor bundle is not the desktop's to delete


def test_crowd_cast_panic_without_a_recorder_shreds_held_desktop_bundles(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "CROWD_HOME": str(home)}
    out = home / "cast" / "recordings"
    out.mkdir(parents=True)
    q = UploadQueue(home / "upload", hold_s=600)
    sink = QueueSink(q)
    sink.enqueue(write_segment(out, SID, 0))
    assert sink.drain(60)
    editor = q.add(editor_candidate(make_recording(tmp_path / "rec", "ed", 1), final=True))
    (bundle,) = [b for b in q.bundles() if b.kind == "desktop"]
    r = subprocess.run([sys.executable, "-m", "crowd.cli", "cast", "panic"], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "2 file(s)" in r.stdout and "1 held upload bundle(s)" in r.stdout
    assert [b.id for b in q.bundles()] == [editor.id] and not bundle.path.exists()


def _upload(env, *args):
    return subprocess.run([sys.executable, "-m", "crowd.cli", "upload", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_crowd_upload_run_knows_the_desktop_folder_and_spares_the_live_segment(tmp_path, ingest, bucket):
    home = tmp_path / "home"
    env = {**os.environ, "CROWD_HOME": str(home)}
    custom = tmp_path / "my-desktop"       # chosen with `crowd cast setup --output`
    custom.mkdir()
    (home / "cast").mkdir(parents=True)
    (home / "cast" / "settings.json").write_text(json.dumps({"apps": ["X"], "output_dir": str(custom)}))
    for i in range(2):
        write_segment(custom, OTHER, i, age_s=1200)   # a finished earlier session
    live = [write_segment(custom, SID, i, age_s=900) for i in range(2)]   # paused recorder, idle > 600 s
    # a running `crowd cast record` is this test process (its pid is alive) writing session SID
    (home / "cast" / "recorder.pid").write_text(str(os.getpid()))
    (home / "cast" / "status.json").write_text(json.dumps({"session_id": SID}))
    assert _upload(env, "config", "--endpoint", f"{ingest.url}/v1/presign", "--token", TOKEN,
                   "--hold", "0").returncode == 0
    assert _upload(env, "consent", "grant").returncode == 0
    r = _upload(env, "run", "--wait", "60")            # no --desktop: the cast settings' folder
    assert r.returncode == 0, r.stderr
    sessions = [o["session_id"] for o in stored(bucket)]
    assert sorted(sessions) == sorted([OTHER, SID]), sessions
    left = sorted(p.name for p in custom.iterdir())
    assert left == sorted(p.name for p in live[1])     # the live session's newest pair stays
