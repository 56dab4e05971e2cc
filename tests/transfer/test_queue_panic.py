"""The hold period and panic: only the affected held bundles go; desktop segments bundle too."""
from __future__ import annotations

import os
import time
from pathlib import Path

from tests.transfer.transfer_helpers import TOKEN, make_recording, stored

from crowd.transfer.bundle import desktop_candidates, editor_candidate
from crowd.transfer.client import Uploader, UploaderConfig
from crowd.transfer.queue import UploadQueue


def _age(path: Path, seconds_ago: float) -> None:
    t = time.time() - seconds_ago
    os.utime(path, (t, t))


def test_panic_during_hold_deletes_only_affected(tmp_path, ingest, bucket):
    q = UploadQueue(tmp_path / "q", hold_s=600)
    q.set("consent", "granted")
    old = make_recording(tmp_path / "rec", "old", 2)
    new = make_recording(tmp_path / "rec", "new", 2)
    other = make_recording(tmp_path / "rec", "other", 1)
    for p in old.iterdir():
        _age(p, 30 * 60)           # content from half an hour ago
    for p in other.iterdir():
        _age(p, 20 * 60)
    b_old = q.add(editor_candidate(old, final=True))
    b_new = q.add(editor_candidate(new, final=True))
    b_other = q.add(editor_candidate(other, final=True))
    # all three are held: nothing is due, nothing goes up
    up = Uploader(q, UploaderConfig(endpoint=f"{ingest.url}/v1/presign", token=TOKEN, backoff_base_s=0.02))
    assert up.run_until_idle()["uploaded"] == 0
    assert q.counts()["held"] == 3

    removed = q.panic(time.time() - 10 * 60)
    assert removed == [b_new.id]
    assert not b_new.path.exists() and b_old.path.exists() and b_other.path.exists()
    assert {b.id for b in q.bundles("queued")} == {b_old.id, b_other.id}
    # the panicked bundle's files left the manifest: surviving sources get bundled again
    assert not q.known(new / "seg-000000.crowd") and q.known(old / "seg-000000.crowd")

    # once the hold has passed the survivors upload; the panicked one never does
    later = Uploader(q, UploaderConfig(endpoint=f"{ingest.url}/v1/presign", token=TOKEN),
                     clock=lambda: time.time() + 601)
    assert later.run_until_idle()["uploaded"] == 2
    up.stop()
    later.stop()
    assert sorted(o["sha256"] for o in stored(bucket)) == sorted([b_old.sha256, b_other.sha256])


def test_panic_purges_bundles_past_their_hold_not_yet_sent(tmp_path):
    """Issue 13 item 2: a bundle past its hold but not yet uploaded was sent later."""
    q = UploadQueue(tmp_path / "q", hold_s=0)
    folder = make_recording(tmp_path / "rec", "s", 1)
    b = q.add(editor_candidate(folder, final=True))
    assert q.due(time.time()) and q.purge(time.time() - 600) == [b.id]
    assert not b.path.exists() and q.bundles() == [] and not q.known(folder / "seg-000000.crowd")


def test_live_editor_recording_keeps_its_open_segment(tmp_path):
    q = UploadQueue(tmp_path / "q", hold_s=0)
    folder = make_recording(tmp_path / "rec", "live", 3)
    (folder / "snapshots" / "blobs").mkdir(parents=True)
    (folder / "snapshots" / "blobs" / "ab.zst").write_bytes(b"blob")
    b = q.add(editor_candidate(folder))
    names = {Path(s).name for s in b.sources}
    assert names == {"seg-000000.crowd", "seg-000001.crowd", "ab.zst"}
    assert q.add(editor_candidate(folder)) is None          # nothing new
    (folder / "seg-000003.crowd").write_bytes(b"x")
    b2 = q.add(editor_candidate(folder))
    assert {Path(s).name for s in b2.sources} == {"seg-000002.crowd"}


def test_desktop_segments_bundle_per_session(tmp_path, ingest):
    q = UploadQueue(tmp_path / "q", hold_s=0)
    q.set("consent", "granted")
    d = tmp_path / "desktop"
    d.mkdir()
    u1, u2 = "0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    for u, n in ((u1, 3), (u2, 1)):
        for i in range(n):
            (d / f"recording_{u}_seg{i:04d}.mp4").write_bytes(os.urandom(5000))
            (d / f"input_{u}_seg{i:04d}.msgpack").write_bytes(os.urandom(300))
    (d / "notes.txt").write_text("not a segment")
    cands = {c.session_id: c for c in desktop_candidates(d)}
    assert len(cands[u1].files) == 4          # seg0000 and seg0001 pairs; seg0002 is live
    assert cands[u2].files == []              # its only segment is still being written
    for c in cands.values():
        q.add(c)
    up = Uploader(q, UploaderConfig(endpoint=f"{ingest.url}/v1/presign", token=TOKEN))
    assert up.run_until_idle()["uploaded"] == 1
    up.stop()
    left = sorted(p.name for p in d.iterdir())
    assert left == sorted([f"recording_{u1}_seg0002.mp4", f"input_{u1}_seg0002.msgpack",
                           f"recording_{u2}_seg0000.mp4", f"input_{u2}_seg0000.msgpack", "notes.txt"])


def test_session_folder_goes_whichever_bundle_is_confirmed_last(tmp_path):
    """Bundles upload concurrently: the final one may be confirmed before an earlier one."""
    q = UploadQueue(tmp_path / "q", hold_s=0)
    folder = make_recording(tmp_path / "rec", "s", 2)
    (folder / "snapshots" / "blobs").mkdir(parents=True)
    (folder / "snapshots" / "blobs" / "ab.zst").write_bytes(b"blob")
    early = q.add(editor_candidate(folder))               # live: seg 0 + the snapshot blob
    last = q.add(editor_candidate(folder, final=True))    # stop: seg 1
    q.mark_done(last.id)
    q.delete_local(last)
    assert (folder / "snapshots" / "blobs" / "ab.zst").exists()   # its bundle is not confirmed yet
    q.mark_done(early.id)
    q.delete_local(early)
    assert not folder.exists()
