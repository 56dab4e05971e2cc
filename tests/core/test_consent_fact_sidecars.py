"""Consent is one fact for every sidecar on the machine (issue 13 item 4): a pause or decline
in one window pauses or stops the others' recordings too, nothing they recorded after it
took effect stays on disk, and a window opened meanwhile does not record until the fact is
granted again. Real sidecars sharing one ``CROWD_HOME``."""
from __future__ import annotations

from pathlib import Path

from crowd.format import read_recording
from crowd.home import read_consent

from tests.helpers.editor_events import edit_texts, insert, open_event
from tests.helpers.sidecar import start_recording_sidecar


def _state(client) -> str:
    return client.status()["state"]


def test_pause_and_decline_in_one_window_reach_the_others(home: Path, workspace: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "src").mkdir(parents=True)
    notes = other / "src" / "notes.py"
    notes.write_text("")
    app = workspace / "src" / "app.py"
    a = start_recording_sidecar(home, [workspace])
    b = start_recording_sidecar(home, [other])
    try:
        a.events([open_event(app)], ack=True)
        b.events([open_event(notes, ""), insert(notes, 0, "before ", 2)], ack=True)
        a.request("crowd/pause")
        assert read_consent(home) == "paused"
        # sent before B looks at the fact again (every 0.5 s): recorded, then deleted
        assert b.events([insert(notes, 0, "racing ", 3)], ack=True)["recorded"] == 1
        b.wait_for(lambda: _state(b) == "paused", 10, "B paused by the fact")
        b.events([insert(notes, 0, "while-paused ", 4)], ack=True)
        a.request("crowd/resume")
        b.wait_for(lambda: _state(b) == "recording", 10, "B resumed by the fact")
        b.events([insert(notes, 0, "resumed ", 5)], ack=True)
        a.request("crowd/consent", {"granted": False})
        assert read_consent(home) == "declined"
        b.wait_for(lambda: _state(b) == "declined", 10, "B stopped by the fact")
        directory = b.status()["recording"]
        events = read_recording(directory).events
        assert edit_texts(events) == ["before ", "resumed "]
        assert events[-1]["kind"] == "stop"
    finally:
        a.close()
        b.close()


def test_a_window_opened_while_paused_waits_for_the_fact(home: Path, workspace: Path) -> None:
    from crowd.home import write_consent  # noqa: PLC0415
    from crowd.server.client import SidecarClient  # noqa: PLC0415

    write_consent("paused", home)
    client = SidecarClient(env={"CROWD_HOME": str(home)})
    try:
        client.initialize([workspace], consent=True)
        client.wait_for_log("not recording: the machine's consent fact is paused")
        assert client.status()["state"] == "stopped" and read_consent(home) == "paused"
        assert not (home / "recordings").exists() or not any((home / "recordings").iterdir())
        write_consent("granted", home)            # e.g. resumed in another window
        client.wait_for(lambda: client.status()["state"] == "recording", 10, "recording once granted")
    finally:
        client.close()
