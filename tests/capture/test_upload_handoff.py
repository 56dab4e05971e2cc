"""The real recorder (Xvfb + openbox + xdotool) hands each closed segment to the real upload
queue at once, and panic shreds the queue's held copies of the window too."""
from __future__ import annotations

from pathlib import Path

import pytest

from crowd.format.desktop.layout import list_segments

pytestmark = pytest.mark.gui


def test_segments_go_to_the_queue_as_they_close_and_panic_shreds_their_bundles(screen, tmp_path: Path) -> None:
    from crowd.capture.app import CastController, QueueSink
    from crowd.capture.recorder import RecorderConfig
    from crowd.capture.settings import CastSettings
    from crowd.transfer.bundle import Candidate
    from crowd.transfer.queue import UploadQueue

    queue = UploadQueue(tmp_path / "upload", hold_s=600)
    editor_dir = tmp_path / "editor" / "sess"
    editor_dir.mkdir(parents=True)
    (editor_dir / "seg-000000.crowd").write_bytes(b"editor bytes")
    editor = queue.add(Candidate("sess", "editor", editor_dir, [editor_dir / "seg-000000.crowd"], final=True))
    out = tmp_path / "rec"
    app = screen.app("Handoff")
    ctl = CastController(RecorderConfig(output_dir=out, display=screen.display, fps=10, apps=["Handoff"],
                                        segment_seconds=1.0),
                         CastSettings(apps=["Handoff"]), tray=False, sink=QueueSink(queue),
                         settings_file=tmp_path / "settings.json")
    ctl.start()
    try:
        rec = ctl.recorder
        first = rec.status().session_id
        screen.activate(app)
        rec.wait_context("Handoff")
        screen.xdotool("type", "ab")
        app.wait_received(2)
        # the first closed segment is bundled while recording goes on, held by the queue
        rec.wait_for(lambda st: any(b.session_id == first for b in queue.bundles()), timeout=30)
        held = [b for b in queue.bundles() if b.session_id == first]
        assert all(b.ready_at - b.created == 600 for b in held)
        tars = [b.path for b in held]
        assert all(p.exists() for p in tars)

        ctl.panic()
        assert rec.running and rec.status().session_id != first
        assert not [b for b in queue.bundles() if b.session_id == first]
        assert not any(p.exists() for p in tars)
        assert not [s for s in list_segments(out) if s.session_id == first]
        assert [b.id for b in queue.bundles() if b.kind == "editor"] == [editor.id]
        second = rec.status().session_id
    finally:
        ctl.stop()
    # stop waits for the hand-off: every segment of the new session is in the queue now
    on_disk = {p for s in list_segments(out) if s.session_id == second for p in s.paths()}
    queued = {Path(p) for b in queue.bundles() if b.session_id == second for p in b.sources}
    assert on_disk and on_disk == queued
