"""Consent gating, pause/resume, stop/start: what reaches the recording, through a real pipe."""
from __future__ import annotations

from pathlib import Path

import pytest

from crowd.format.schema import validate_event
from crowd.server.client import RpcError

from tests.helpers.editor_events import edit_texts, insert, open_event, recorded


def test_nothing_is_recorded_before_consent(start_sidecar, workspace: Path, home: Path) -> None:
    app = workspace / "src" / "app.py"
    client = start_sidecar([workspace], consent=None)
    assert client.status()["state"] == "awaiting_consent"
    ack = client.events([open_event(app), insert(app, 0, "BEFORE_CONSENT", 2)], ack=True)
    assert ack["accepted"] == 2 and ack["recorded"] == 0
    with pytest.raises(RpcError) as err:
        client.request("crowd/start")
    assert err.value.code == -32001
    assert not (home / "recordings").exists() or not any((home / "recordings").iterdir())

    status = client.request("crowd/consent", {"granted": True})
    assert status["state"] == "recording"
    client.events([insert(app, 0, "AFTER_CONSENT", 3)], ack=True)
    directory = client.request("crowd/stop")["recording"]
    events = recorded(directory)
    for event in events:
        validate_event(event)
    assert edit_texts(events) == ["AFTER_CONSENT"]
    # the text typed before consent reaches the recording only as the file's state
    content = [e for e in events if e["kind"] == "file_content"]
    assert content and content[0]["text"].startswith("BEFORE_CONSENT")
    assert ("crowd/statusChanged", ) == (client.notifications[-1][0],)


def test_declined_consent_records_nothing(start_sidecar, workspace: Path, home: Path) -> None:
    app = workspace / "src" / "app.py"
    client = start_sidecar([workspace], consent=False)
    assert client.status()["state"] == "declined"
    client.events([open_event(app), insert(app, 0, "x", 2)], ack=True)
    with pytest.raises(RpcError):
        client.request("crowd/start")
    client.close()
    assert not (home / "recordings").exists() or not any((home / "recordings").iterdir())


def test_pause_resume_and_revoking_consent(start_sidecar, workspace: Path) -> None:
    app = workspace / "src" / "app.py"
    client = start_sidecar([workspace])
    client.events([open_event(app), insert(app, 0, "ONE", 2)], ack=True)
    assert client.request("crowd/pause")["state"] == "paused"
    client.events([insert(app, 3, "PAUSED", 3)], ack=True)
    assert client.request("crowd/resume")["state"] == "recording"
    client.events([insert(app, 9, "TWO", 4)], ack=True)
    status = client.request("crowd/consent", {"granted": False})
    assert status["state"] == "declined"
    client.events([insert(app, 12, "REVOKED", 5)], ack=True)
    events = recorded(status["recording"])
    assert edit_texts(events) == ["ONE", "TWO"]
    kinds = [e["kind"] for e in events if e["type"] == "session"]
    assert kinds[:2] == ["start", "consent"] and "pause" in kinds and "resume" in kinds and kinds[-1] == "stop"
    # after resume the recording gets the file's state again (it changed while paused)
    contents = [e["text"] for e in events if e["kind"] == "file_content"]
    assert any("ONEPAUSED" in text for text in contents)


def test_stop_then_start_makes_a_new_recording(start_sidecar, workspace: Path) -> None:
    app = workspace / "src" / "app.py"
    client = start_sidecar([workspace])
    client.events([open_event(app), insert(app, 0, "A", 2)], ack=True)
    first = client.request("crowd/stop")
    assert first["state"] == "stopped"
    second = client.request("crowd/start")
    assert second["state"] == "recording" and second["sessionId"] != first["sessionId"]
    client.events([insert(app, 1, "B", 3)], ack=True)
    directory = client.request("crowd/stop")["recording"]
    assert edit_texts(recorded(first["recording"])) == ["A"]
    events = recorded(directory)
    assert edit_texts(events) == ["B"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
