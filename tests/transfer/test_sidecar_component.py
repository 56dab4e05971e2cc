"""The sidecar queues its own finished recording files for upload (server/transfer/component.py).

Driven through a real sidecar subprocess over its JSON-RPC pipe. The only change to the
sidecar is its segment size limit, set to 1 byte in the child process (``ROTATING``) so the
writer rotates at every flush: the real limits (32 MiB / 300 s) are too large for a test, and
``crowd/flush`` then gives a rotation whenever the test asks for one.
"""
from __future__ import annotations

import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crowd.format import read_recording
from crowd.server.client import SidecarClient
from crowd.transfer.bundle import editor_candidate
from crowd.transfer.client import Uploader, UploaderConfig
from crowd.transfer.queue import UploadQueue
from tests.helpers.editor_events import insert, marker, open_event
from tests.helpers.waiting import wait_for
from tests.transfer.transfer_helpers import TOKEN, make_recording, stored

ROTATING = [sys.executable, "-c",
            "import sys; from crowd.format.writer import RecordingWriter as W; "
            "W.__init__.__kwdefaults__['segment_max_bytes'] = 1; "
            "from crowd.server.__main__ import main; sys.exit(main([]))"]


def start(start_sidecar: Callable[..., SidecarClient], workspace: Path, settings: dict[str, Any]) -> SidecarClient:
    """A recording sidecar whose writer rotates at every flush (``ROTATING``)."""
    return start_sidecar([workspace], settings={"uploadScanSeconds": 0.05, **settings}, command=ROTATING)


class Typist:
    """Opens src/app.py and inserts text, one acknowledged batch at a time."""

    def __init__(self, client: SidecarClient, workspace: Path) -> None:
        self.client = client
        self.path = workspace / "src" / "app.py"
        self.version = 1
        self.offset = len(self.path.read_text())
        client.events([open_event(self.path)], ack=True)
        client.request("crowd/flush")   # a segment exists now: the next flush rotates

    def type(self, text: str) -> None:
        self.version += 1
        self.client.events([insert(self.path, self.offset, text, self.version)], ack=True)
        self.offset += len(text)
        self.client.request("crowd/flush")


def session_bundles(q: UploadQueue, session_id: str):
    return [b for b in q.bundles() if b.session_id == session_id]


def events_in_tars(tars: list[Path], dest: Path) -> list[dict[str, Any]]:
    """Unpack bundles (checking every member against its manifest) and read the segments."""
    import hashlib
    import json

    dest.mkdir(parents=True, exist_ok=True)
    for tar_path in tars:
        with tarfile.open(tar_path) as tar:
            members = tar.getmembers()
            manifest = json.loads(tar.extractfile(members[0]).read())
            assert members[0].name.endswith("/manifest.json")
            by_name = {e["name"]: e for e in manifest["files"]}
            for m in members[1:]:
                data = tar.extractfile(m).read()
                rel = m.name.split("/", 1)[1]
                assert hashlib.sha256(data).hexdigest() == by_name[rel]["sha256"]
                out = dest / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(data)
    return read_recording(dest).events


def test_segments_queued_on_rotation_and_at_stop_then_uploaded(home, workspace, start_sidecar, ingest, bucket,
                                                               tmp_path):
    q = UploadQueue(home / "upload", hold_s=600)
    q.set("consent", "granted")
    client = start(start_sidecar, workspace, {"upload": True, "uploadUrl": f"{ingest.url}/v1/presign"})
    sid = client.status()["sessionId"]
    folder = home / "recordings" / sid
    typist = Typist(client, workspace)
    first = marker("first")
    typist.type(first)
    # a rotation happened (segment size limit): the finished segments are queued, held
    rotated = wait_for(lambda: session_bundles(q, sid), what="a bundle after rotation")
    assert not rotated[0].final and rotated[0].ready_at - rotated[0].created == pytest.approx(600)
    live = sorted(folder.glob("seg-*.crowd"))[-1]
    assert all(Path(s) != live for b in rotated for s in b.sources)   # never the open segment
    assert q.get("endpoint") == f"{ingest.url}/v1/presign"             # crowd.uploadUrl is the endpoint
    last = marker("last")
    typist.type(last)
    client.request("crowd/stop")
    # stop returns after the final bundle is committed: no waiting needed
    bundles = session_bundles(q, sid)
    assert bundles[-1].final and len(bundles) >= 2
    queued = {Path(s) for b in bundles for s in b.sources}
    on_disk = set(folder.rglob("*"))
    assert {p for p in on_disk if p.is_file() and not p.name.startswith(".")} <= queued
    events = events_in_tars([b.path for b in bundles], tmp_path / "unpacked")
    texts = [c["text"] for e in events if e.get("kind") == "edit" for c in e["changes"]]
    assert first in texts and last in texts
    assert [e["kind"] for e in events if e["type"] == "session"][-1] == "stop"
    assert len({e["seq"] for e in events}) == len(events)               # each event in exactly one bundle

    # after the hold, the uploader sends them; the session folder goes once the server confirmed
    up = Uploader(q, UploaderConfig(endpoint=q.get("endpoint"), token=TOKEN), clock=lambda: time.time() + 601)
    assert up.run_until_idle()["uploaded"] == len(bundles)
    up.stop()
    assert sorted(o["sha256"] for o in stored(bucket)) == sorted(b.sha256 for b in bundles)
    assert not folder.exists(), sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_nothing_queued_without_the_setting_or_upload_consent(home, workspace, start_sidecar):
    q = UploadQueue(home / "upload", hold_s=0)
    for settings, consent in (({}, "granted"), ({"upload": True}, "revoked")):
        q.set("consent", consent)
        client = start(start_sidecar, workspace, settings)
        sid = client.status()["sessionId"]
        typist = Typist(client, workspace)
        typist.type(marker("a"))
        typist.type(marker("b"))
        client.request("crowd/stop")
        assert len(list((home / "recordings" / sid).glob("seg-*.crowd"))) >= 3   # it did rotate
        assert session_bundles(q, sid) == []
        client.close()
    assert q.bundles() == [] and list((home / "upload" / "bundles").iterdir()) == []


def test_panic_shreds_only_this_sessions_held_bundles_past_the_cutoff(home, workspace, start_sidecar, tmp_path):
    q = UploadQueue(home / "upload", hold_s=600)
    q.set("consent", "granted")
    # another session's recent held bundle (same kind, same time window): not this panic's business
    other = q.add(editor_candidate(make_recording(tmp_path / "elsewhere", "other-session", 2), final=True))
    client = start(start_sidecar, workspace, {"upload": True})
    sid = client.status()["sessionId"]
    typist = Typist(client, workspace)
    before = marker("before")
    typist.type(before)
    early = wait_for(lambda: session_bundles(q, sid), what="a bundle before the cutoff")
    # panic works on wall time: leave a clear margin on each side of the cutoff
    wait_for(lambda: time.time() > max(b.content_end for b in early) + 2, what="2 s after the first bundle")
    cutoff = time.time()
    wait_for(lambda: time.time() > cutoff + 2, what="2 s after the cutoff")
    after = marker("after")
    typist.type(after)
    typist.type("  # end\n")   # the next flush rotates: the 'after' segment is finished
    late = wait_for(lambda: [b for b in session_bundles(q, sid) if b.content_end > cutoff + 2],
                      what="a bundle after the cutoff")
    late_paths = [b.path for b in late]
    assert all(p.exists() for p in late_paths)
    result = client.request("crowd/panic", {"minutes": (time.time() - cutoff) / 60})
    assert result["removed"] >= 1
    remaining = {b.id for b in q.bundles()}
    assert other.id in remaining and all(b.id in remaining for b in early)
    assert not any(b.id in remaining for b in late) and not any(p.exists() for p in late_paths)
    # the panic's own 'after' edit is gone from disk too; everything still queued is clean
    client.request("crowd/stop")
    kept = session_bundles(q, sid)
    events = events_in_tars([b.path for b in kept], tmp_path / "unpacked")
    texts = [c["text"] for e in events if e.get("kind") == "edit" for c in e["changes"]]
    assert before in texts and after not in texts
    raw = b"".join(p.read_bytes() for p in (home / "upload").rglob("*") if p.is_file())
    assert after.encode() not in raw
    assert [e["kind"] for e in events if e["type"] == "session"][-2:] == ["panic", "stop"]


def test_bundle_left_half_written_when_a_source_vanishes_is_removed(tmp_path, monkeypatch):
    """A source deleted while its bundle is written (panic racing a hand-off): no tar stays."""
    from crowd.transfer import queue as queue_mod

    q = UploadQueue(tmp_path / "q", hold_s=600)
    folder = make_recording(tmp_path / "rec", "s", 2)
    real = queue_mod.write_bundle

    def vanish_mid_write(dest, candidate, files, **kw):
        real(dest, candidate, files, **kw)      # the tar is complete on disk...
        files[0].unlink()                      # ...when a source goes away
        raise FileNotFoundError(files[0])

    monkeypatch.setattr(queue_mod, "write_bundle", vanish_mid_write)
    with pytest.raises(FileNotFoundError):
        q.add(editor_candidate(folder, final=True))
    assert list(q.bundle_dir.iterdir()) == [] and q.bundles() == []
