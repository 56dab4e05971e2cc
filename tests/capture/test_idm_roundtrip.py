"""Round trip with the IDM's preparation: what the recorder writes, idm/ turns into clips."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crowd.capture.recorder import Recorder, RecorderConfig

pytestmark = pytest.mark.gui


def test_idm_prepare_reads_recorder_output(screen, tmp_path: Path) -> None:
    prepare_mod = pytest.importorskip("crowd.idm.prepare", reason="idm/ preparation not present")
    from crowd.idm.options import PrepareOptions

    out = tmp_path / "rec"
    app = screen.app("IdmApp")
    rec = Recorder(RecorderConfig(output_dir=out, display=screen.display, fps=10, apps=["IdmApp"]))
    rec.start()
    try:
        screen.activate(app)
        rec.wait_context("IdmApp")
        screen.xdotool("mousemove", "200", "150")
        screen.xdotool("type", "--delay", "120", "abc")
        screen.xdotool("click", "1")
        app.wait_received(4)
        start = rec.status().slot
        rec.wait_for(lambda st: st.slot >= start + 5)
    finally:
        rec.stop()
    data = tmp_path / "data"
    result = prepare_mod.prepare(out, data, PrepareOptions(fps=5, window=5, stride=5, keep_empty=1.0,
                                                           val_fraction=0.0, workers=1))
    assert result.segments == 1 and not result.skipped
    clips = [json.loads(line) for line in (data / "train.jsonl").read_text().splitlines()]
    # the tail of a run gets a window aligned to its end, overlapping the one before it
    # (tests/idm/test_prepare_coverage.py): an action is counted once per source frame
    actions = sorted({(c["start_frame"] + a["frame"], a["type"], a["details"]) for c in clips for a in c["actions"]})
    types = [t for _, t, _ in actions]
    keys = [d for _, t, d in actions if t == "KeyPress"]
    assert keys == ["A", "B", "C"], actions
    assert "MouseClick" in types
