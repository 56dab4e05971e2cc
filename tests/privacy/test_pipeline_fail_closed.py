"""The recording pipeline fails closed and is the one path every recorder writes through.

A redactor that raises on an event (or that cannot be built at all) must not let that event
reach the disk unscrubbed: the event is withheld, a ``session``/``error`` event in its place
says why (without quoting the event), and recording goes on. The sidecar's Session and
``crowd term``'s standalone sink both record through ``crowd.pipeline.RecordingPipeline``,
typing guard included; the importers' redaction goes through it too.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crowd.format import read_recording
from crowd.format.schema import validate_event
from crowd.pipeline import ListWriter, RecordingPipeline, RedactorUnavailable
from crowd.privacy import Redactor
from crowd.server.session import Session
from crowd.server.workspace import WorkspaceCache, WorkspaceFolders
from crowd.terminal.capture import StandaloneSink
from crowd.serializer.interop.redact import redact_events
from tests.privacy.secrets_fixture import planted

S = planted()
POISON = "BOOM-cannot-scrub-this"


class FlakyRedactor(Redactor):
    """Raises on any event that holds ``POISON``; its message quotes the text (as real
    exceptions may), which must not end up in the recording either."""

    def scrub_event(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        text = json.dumps(event)
        if POISON in text:
            raise RuntimeError(f"cannot scrub {text}")
        return super().scrub_event(event)


class BrokenRedactor(Redactor):
    def __init__(self) -> None:
        raise OSError("detector data missing")


def _session(tmp_path: Path, redactor_factory: Any) -> Session:
    root = tmp_path / "ws"
    root.mkdir()
    session = Session(WorkspaceCache(WorkspaceFolders([(None, root)])), recordings_dir=tmp_path / "rec",
                      consent=True, component_factories=[])
    session.redactor_factory = redactor_factory
    session.set_consent(True)
    return session


def _events(directory: Path) -> list[dict[str, Any]]:
    result = read_recording(directory)
    for event in result.events:
        validate_event(event)
    return result.events


def _errors(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "session" and e["kind"] == "error"]


def test_session_withholds_an_event_the_redactor_cannot_scrub(tmp_path):
    session = _session(tmp_path, FlakyRedactor)
    before = session.record("observation", "file_content", file="a.py", text="x = 1\n")
    poisoned = session.record("observation", "file_content", file="b.py",
                              text=f"{POISON}\ntoken = {S['github']}\n")
    after = session.record("observation", "file_content", file="c.py", text=f"key = {S['aws']}\n")
    directory = session.directory
    session.stop()
    assert before is not None and poisoned is None and after is not None

    events = _events(directory)
    blob = json.dumps(events)
    assert POISON not in blob and S["github"] not in blob and S["aws"] not in blob
    assert not [e for e in events if e.get("file") == "b.py"]
    errors = _errors(events)
    assert len(errors) == 1 and "observation/file_content" in errors[0]["message"]
    assert "RuntimeError" in errors[0]["message"]
    # the error takes the withheld event's place: seq stays gapless and increasing
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(events) + 1))
    # recording went on, scrubbed as usual
    later = [e for e in events if e.get("file") == "c.py"]
    assert later and "[REDACTED:" in later[0]["text"]
    assert any(e["type"] == "redaction" for e in events)
    assert events[-1]["kind"] == "stop"
    assert any("redaction failed" in message for message in session.status()["errors"])


def test_session_without_a_redactor_writes_only_errors(tmp_path):
    session = _session(tmp_path, BrokenRedactor)
    assert session.recording
    assert session.record("observation", "file_content", file="a.py", text=f"key = {S['aws']}\n") is None
    directory = session.directory
    session.stop()
    events = _events(directory)
    assert S["aws"] not in json.dumps(events)
    assert events and events == _errors(events)
    assert all("no redactor (OSError)" in e["message"] for e in events)
    kinds = " ".join(e["message"] for e in events)
    assert "session/start" in kinds and "observation/file_content" in kinds and "session/stop" in kinds


def test_session_with_redaction_turned_off_records_as_is(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    session = Session(WorkspaceCache(WorkspaceFolders([(None, root)])), recordings_dir=tmp_path / "rec",
                      consent=True, component_factories=[], settings={"redact": False})
    session.set_consent(True)
    session.record("observation", "file_content", file="a.py", text=f"key = {S['aws']}\n")
    directory = session.directory
    session.stop()
    events = _events(directory)
    assert S["aws"] in json.dumps(events) and not _errors(events)


def _type_into_terminal(sink: StandaloneSink, text: str) -> None:
    for ch in text:
        sink.record("action", "terminal_input", source="user", terminal="t1", data=ch, paste=False)


def test_standalone_term_sink_goes_through_the_typing_guard(tmp_path):
    directory = tmp_path / "rec" / "term-1"
    sink = StandaloneSink(directory, 0, tmp_path, "bash")
    _type_into_terminal(sink, f"export GH_TOKEN={S['github']}")
    assert sink.holding > 0                   # the token is held until it ends
    _type_into_terminal(sink, "\r")
    assert sink.holding == 0
    sink.close()
    events = _events(directory)
    typed = "".join(e["data"] for e in events if e["kind"] == "terminal_input")
    assert S["github"] not in typed and S["github"][4:12] not in json.dumps(events)
    assert "[REDACTED:" in typed
    assert [e for e in events if e["type"] == "redaction" and e.get("typed")]
    assert "export GH_TOKEN=" in typed        # ordinary words go through untouched


def test_standalone_term_sink_fails_closed(tmp_path):
    directory = tmp_path / "rec" / "term-2"
    sink = StandaloneSink(directory, 0, tmp_path, "bash", redactor_factory=FlakyRedactor)
    assert sink.record("observation", "terminal_screen", terminal="t1", lines=[POISON, S["github"]]) is None
    sink.record("observation", "terminal_screen", terminal="t1", lines=["$ ls", "a.py"])
    sink.close()
    events = _events(directory)
    assert POISON not in json.dumps(events) and S["github"] not in json.dumps(events)
    assert len(_errors(events)) == 1
    assert [e for e in events if e["kind"] == "terminal_screen"][0]["lines"] == ["$ ls", "a.py"]


class FinderFailsAtTokenEnd(Redactor):
    """Scrubbing works (keystrokes are too short to scan); judging a held token raises."""

    def __init__(self) -> None:
        super().__init__()
        self.finder.find = self._fail  # type: ignore[method-assign]

    @staticmethod
    def _fail(text: str, filename: str | None = None) -> list[Any]:
        raise ValueError(text)


def _key(file: str, offset: int, ch: str) -> dict[str, Any]:
    return {"source": "user", "file": file, "changes": [{"offset": offset, "length": 0, "text": ch}]}


def test_pipeline_drops_held_keystrokes_when_the_guard_cannot_judge_them():
    sink = ListWriter()
    pipeline = RecordingPipeline(sink, FinderFailsAtTokenEnd(), clock=lambda: (1, 2))
    for i, ch in enumerate("x7Qm9z "):
        pipeline.record("action", "edit", _key("a.py", i, ch))
    pipeline.record("action", "edit", _key("a.py", 7, "y"))
    pipeline.close()
    typed = "".join(e["changes"][0]["text"] for e in sink.events if e["kind"] == "edit")
    assert "7Qm9z" not in typed and typed.endswith("y")
    errors = _errors(sink.events)
    assert len(errors) == 1 and "typing guard failed (ValueError)" in errors[0]["message"]
    assert "x7Qm9z" not in errors[0]["message"]
    seqs = [e["seq"] for e in sink.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_pipeline_holding_is_a_typed_count():
    pipeline = RecordingPipeline(ListWriter(), RedactorUnavailable("OSError"))
    assert pipeline.holding == 0
    assert pipeline.record("action", "edit", _key("a.py", 0, "x")) is None
    pipeline.close()


def test_importer_redaction_fails_closed(monkeypatch):
    monkeypatch.setattr("crowd.serializer.interop.redact.open_redactor", lambda: FlakyRedactor())
    events = [
        {"seq": 1, "t": 10, "wall": 100, "type": "observation", "kind": "file_content", "file": "a.py",
         "text": f"key = {S['aws']}\n"},
        {"seq": 2, "t": 20, "wall": 200, "type": "observation", "kind": "file_content", "file": "b.py",
         "text": POISON},
        {"seq": 3, "t": 30, "wall": 300, "type": "observation", "kind": "file_content", "file": ".env",
         "text": "X=1"},
    ]
    out, count, dropped = redact_events(events)
    blob = json.dumps(out)
    assert S["aws"] not in blob and POISON not in blob and dropped == [".env"] and count == 1
    assert [e["seq"] for e in out] == [1, 2, 3]
    assert [(e["type"], e["kind"]) for e in out] == [("observation", "file_content"),
                                                     ("redaction", "redaction"), ("session", "error")]
    assert out[2]["t"] == 20
