"""The desktop recorder obeys the machine's consent fact (issue 13 item 4): it does not start
while the fact is paused or declined, stops when it becomes so and deletes what it wrote
after the fact took effect, and starts again when it is granted. The real recorder on Xvfb."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from crowd.format.desktop.layout import list_segments
from crowd.home import write_consent

pytestmark = pytest.mark.gui


def test_cast_follows_the_consent_fact(screen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crowd.capture.app import CastController, LocalOnlySink
    from crowd.capture.recorder import RecorderConfig
    from crowd.capture.settings import CastSettings

    monkeypatch.setenv("CROWD_HOME", str(tmp_path / "home"))
    out = tmp_path / "rec"
    app = screen.app("Consent")
    ctl = CastController(RecorderConfig(output_dir=out, display=screen.display, fps=10, apps=["Consent"],
                                        segment_seconds=1.0),
                         CastSettings(apps=["Consent"]), tray=False, sink=LocalOnlySink(),
                         settings_file=tmp_path / "settings.json")
    write_consent("declined")
    ctl.start()
    assert ctl.recorder is None and ctl.held_by_fact           # declined: nothing starts
    write_consent("granted")
    ctl.obey_consent()
    try:
        rec = ctl.recorder
        assert rec is not None and rec.running
        screen.activate(app)
        rec.wait_context("Consent")
        # a segment finished well before the fact changes (its files no longer written)
        def finished() -> set[Path]:
            return {s.keylog_path for s in list_segments(out) if s.complete and s.mtime() < time.time() - 1.0}

        rec.wait_for(lambda st: bool(finished()), timeout=30)
        before = finished()
        write_consent("paused")
        paused_at = time.time()
        ctl.obey_consent()
        assert not rec.running and ctl.held_by_fact
        assert all(s.mtime() <= paused_at for s in list_segments(out))       # nothing after the fact
        assert before <= {s.keylog_path for s in list_segments(out)}           # what came before stays
        ctl.start()                                                         # the tray's start: still held
        assert not ctl.recorder.running
        write_consent("granted")
        ctl.obey_consent()
        assert ctl.recorder.running
    finally:
        ctl.stop()


def test_cast_obeys_a_panic_pressed_in_an_editor_window(screen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crowd.capture.app import CastController, LocalOnlySink
    from crowd.capture.recorder import RecorderConfig
    from crowd.capture.settings import CastSettings
    from crowd.panic import begin

    monkeypatch.setenv("CROWD_HOME", str(tmp_path / "home"))
    out = tmp_path / "rec"
    ctl = CastController(RecorderConfig(output_dir=out, display=screen.display, fps=10, apps=["Panic"],
                                        segment_seconds=1.0),
                         CastSettings(apps=["Panic"]), tray=False, sink=LocalOnlySink(),
                         settings_file=tmp_path / "settings.json")
    ctl.start()
    try:
        rec = ctl.recorder
        first = rec.status().session_id
        rec.wait_for(lambda st: any(s.complete for s in list_segments(out)), timeout=30)
        now_ms = int(time.time() * 1000)
        begin(now_ms - 60_000, now_ms)                    # what a sidecar's panic journals
        ctl.panic_watch.check()                           # the status loop's look (every 0.5 s)
        assert not [s for s in list_segments(out) if s.session_id == first]
        assert rec.running and rec.status().session_id != first
    finally:
        ctl.stop()
