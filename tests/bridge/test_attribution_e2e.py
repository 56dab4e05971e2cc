"""End to end: attribution in a real code-server (VS Code 1.100.3) with the real bridge and
the sidecar it starts, at the editor's own timing: an outside ``sed`` on an open clean file
(the editor reloads it), ``git checkout`` with files open, a save participant
(files.trimTrailingWhitespace) on Ctrl+S, an explorer folder rename and delete.

The browser part is tests/attribution/codeserver/drive.mjs; the measured delays these
situations produce are in tests/attribution/envelopes.json (measure.py).
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.attribution.codeserver.editor import EditorSession, missing_preconditions
from tests.attribution.codeserver.measure import workspace
from tests.bridge.codeserver import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _after(events: list[dict[str, Any]], t: int, kind: str, file: str) -> list[dict[str, Any]]:
    return [e for e in events if e["t"] >= t and e.get("kind") == kind and e.get("file") == file]


def _show(events: list[dict[str, Any]], t: int) -> list[tuple[Any, ...]]:
    """The editor and file events from ``t`` on (also written to .bench-out for a failure)."""
    shown = [(e["t"], e["kind"], e.get("file"), e.get("source"), e.get("git_op"), e.get("changes") or e.get("change"))
             for e in events if e["t"] >= t and e.get("kind") in ("edit", "file_change", "save")]
    (ROOT / ".bench-out").mkdir(exist_ok=True)
    (ROOT / ".bench-out" / "attribution_e2e_events.json").write_text(json.dumps(shown, indent=1))
    return shown


def test_reloads_git_folders_and_save_participants_in_code_server(tmp_path: Path) -> None:
    missing = missing_preconditions()
    if missing:
        pytest.skip("needs what scripts/setup.sh installs; missing: " + ", ".join(missing))
    ws = workspace(tmp_path)
    ed = EditorSession(tmp_path, ws, {"files.trimTrailingWhitespace": True})
    try:
        ed.start_recording()
        ed.do("open", files=["a.py", "b.py", "c.txt"])
        ed.wait_events(lambda ev: _after(ev, 0, "open", "c.txt"), timeout=120, what="the files opened")

        # 1. sed on an open, clean file: one external change, and the reload edit is external
        t0 = ed.events()[-1]["t"] + 1
        subprocess.run(["sed", "-i", "s/.*/changed by sed/", str(ws / "c.txt")], check=True)
        ed.wait_events(lambda ev: _after(ev, t0, "file_change", "c.txt") and _after(ev, t0, "edit", "c.txt"),
                       what="sed's change and the reload of c.txt")

        # 2. git checkout with a.py and b.py open
        t1 = ed.events()[-1]["t"] + 1
        subprocess.run(["git", "checkout", "-q", "other"], cwd=ws, check=True)
        ed.wait_events(lambda ev: all(_after(ev, t1, k, f) for k in ("file_change", "edit") for f in ("a.py", "b.py")),
                       what="the checkout's changes and reloads")

        # 3. a save participant: trailing whitespace trimmed on Ctrl+S
        t2 = ed.events()[-1]["t"] + 1
        ed.do("typeSave", file="trim.txt", text="t = 1   ")
        ed.wait_events(lambda ev: _after(ev, t2, "save", "trim.txt"), what="the save of trim.txt")

        # 4. explorer: rename the folder pkg, then delete it
        t3 = ed.events()[-1]["t"] + 1
        ed.do("explorerRename", **{"from": "pkg", "to": "pkg2"})
        ed.wait_events(lambda ev: _after(ev, t3, "file_change", "pkg2"), what="the folder rename")
        t4 = ed.events()[-1]["t"] + 1
        ed.do("explorerDelete", name="pkg2")
        ed.wait_events(lambda ev: [e for e in _after(ev, t4, "file_change", "pkg2") if e.get("change") == "delete"],
                       what="the folder delete")
    finally:
        events = ed.close()

    # 1. sed
    sed = _after(events, t0, "file_change", "c.txt")
    assert [c["source"] for c in sed] == ["external"], _show(events, t0)
    assert [e["source"] for e in _after(events, t0, "edit", "c.txt")] == ["external"], _show(events, t0)
    # 2. git checkout: both open files, their changes and their reloads
    for name in ("a.py", "b.py"):
        changes = [e for e in _after(events, t1, "file_change", name) if e["t"] < t2]
        assert changes and all(c["source"] == "git_checkout" for c in changes), _show(events, t1)
        edits = [e for e in _after(events, t1, "edit", name) if e["t"] < t2]
        assert edits and all(e["source"] == "git_checkout" for e in edits), _show(events, t1)
    # 3. the typed text and the participant's trim are the user's; the save is no change
    trim_edits = [e for e in _after(events, t2, "edit", "trim.txt") if e["t"] < t3]
    assert any(c.get("text") == "" and c.get("length", 0) >= 3 for e in trim_edits for c in e["changes"]), \
        _show(events, t2)
    assert all(e["source"] == "user" for e in trim_edits), _show(events, t2)
    assert not [e for e in _after(events, t2, "file_change", "trim.txt") if e["t"] < t3], _show(events, t2)
    # 4. one event per folder operation, nothing per file inside
    folder_ops = [(e["file"], e["change"], e["source"]) for e in events if e["t"] >= t3 and e.get("kind") == "file_change"]
    assert folder_ops == [("pkg2", "rename", "user"), ("pkg2", "delete", "user")], _show(events, t3)
