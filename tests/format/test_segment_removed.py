"""A segment deleted while its writer holds it open (issue 13 item 6): the writer notices at
its next write, says so once through ``on_error``, and writes on into a new segment, so
events after the deletion are kept (they used to go into the deleted file, with no error).
The real writer, and a real sidecar over its pipe."""
from __future__ import annotations

from crowd.format import read_recording
from crowd.format.writer import RecordingWriter, SegmentRemoved
from tests.helpers.editor_events import edit_texts, insert, marker, open_event


def _event(i: int) -> dict:
    return {"seq": i, "t": i, "wall": 1_700_000_000_000 + i, "type": "action", "kind": "edit", "source": "user",
            "file": "a.py", "changes": [{"offset": 0, "length": 0, "text": f"x{i}"}]}


def test_writer_notices_its_segment_deleted_and_writes_on(tmp_path):
    errors: list[BaseException] = []
    writer = RecordingWriter(tmp_path / "rec", flush_interval=3600, on_error=errors.append)
    try:
        writer.extend([_event(1), _event(2)])
        writer.flush()
        (first,) = sorted((tmp_path / "rec").glob("seg-*.crowd"))
        first.unlink()                               # another process deletes the live segment
        writer.extend([_event(3), _event(4)])
        assert writer.flush() == 2
        writer.append(_event(5))
        writer.flush()
    finally:
        writer.close()
    assert len(errors) == 1 and isinstance(errors[0], SegmentRemoved) and first.name in str(errors[0])
    assert [e["seq"] for e in read_recording(tmp_path / "rec").events] == [3, 4, 5]


def test_sidecar_reports_its_recording_deleted(start_sidecar, workspace, home):
    client = start_sidecar([workspace])
    folder = home / "recordings" / client.status()["sessionId"]
    path = workspace / "src" / "app.py"
    offset = len(path.read_text())
    client.events([open_event(path)], ack=True)
    before, after = marker("before"), marker("after")
    client.events([insert(path, offset, before, 2)], ack=True)
    client.request("crowd/flush")
    for seg in folder.glob("seg-*.crowd"):
        seg.unlink()
    client.events([insert(path, offset + len(before), after, 3)], ack=True)
    client.request("crowd/flush")
    errors = client.status()["errors"]
    assert any(e.startswith("the recording segment") and "deleted by another process" in e for e in errors)
    assert not any("compacting" in e for e in errors)  # not mistaken for a failed compaction
    assert after in edit_texts(read_recording(folder).events)
