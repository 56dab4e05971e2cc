"""The collection dashboard in headless Chromium: real uploads into a real bucket, then the
page served by ``crowd ingest`` is opened, screenshotted, and its numbers compared with
what the test put into the bucket (computed here from the source files, not by the
dashboard's code)."""
from __future__ import annotations

import base64
import json
import os
import time
from collections import Counter
from pathlib import Path

from crowd.format import read_recording
from crowd.format.desktop.keylog import KeyPress, MouseMove, write_keylog
from crowd.format.desktop.layout import segment_paths
from crowd.serializer.synthetic import write_recording
from crowd.transfer.bundle import desktop_candidates, editor_candidate
from crowd.transfer.client import Uploader, UploaderConfig
from crowd.transfer.ingest import IngestServer
from crowd.transfer.queue import UploadQueue
from tests.replay.conftest import Chromium
from tests.transfer.transfer_helpers import TOKEN, stored

DESKTOP_SID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def _queue(tmp: Path, user: str, hold_s: float = 0) -> UploadQueue:
    q = UploadQueue(tmp / f"q-{user}", hold_s=hold_s)
    q.set("consent", "granted")
    q.set("user_id", user)
    return q


def _upload(q: UploadQueue, ingest: IngestServer) -> dict:
    up = Uploader(q, UploaderConfig(endpoint=f"{ingest.url}/v1/presign", token=TOKEN, report_backlog=True))
    try:
        return up.run_until_idle(deadline_s=60)
    finally:
        up.stop()


def _label(event: dict) -> str:
    if event["source"] == "agent":
        return f"agent:{event['agent']}"
    return "git" if event["source"].startswith("git") else event["source"]


def test_dashboard_shows_what_is_in_the_bucket(tmp_path, bucket):
    ingest = IngestServer(bucket, token=TOKEN).start()
    expected_mix: Counter[str] = Counter()
    expected_hours = {"alice": 0.0, "bob": 0.0}
    events_total = 0
    try:
        # alice: two editor recordings (synthetic sessions written by the real writer)
        alice = _queue(tmp_path, "alice")
        for seed in (1, 2):
            folder = write_recording(tmp_path / "alice" / f"synthetic-{seed:04d}", hours=0.03, seed=seed)
            events = read_recording(folder).events
            events_total += len(events)
            expected_mix.update(_label(e) for e in events if e["type"] == "action")
            gaps = [b["wall"] - a["wall"] for a, b in zip(events, events[1:])]
            assert max(gaps) < 300_000            # no idle gap: hours are first-to-last event
            expected_hours["alice"] += (events[-1]["wall"] - events[0]["wall"]) / 3.6e6
            alice.add(editor_candidate(folder, final=True))
        assert _upload(alice, ingest)["uploaded"] == 2
        # bob: one desktop segment pair, 90 s of input
        desk = tmp_path / "bob"
        desk.mkdir()
        video, keys = segment_paths(desk, DESKTOP_SID, 0)
        video.write_bytes(os.urandom(20_000))
        write_keylog(keys, [(0, KeyPress(30, "KeyA")), (45_000_000, MouseMove(1.0, 2.0)),
                            (90_000_000, KeyPress(31, "KeyS"))])
        events_total += 3
        expected_hours["bob"] = 90 / 3600
        bob = _queue(tmp_path, "bob")
        for c in desktop_candidates(desk, final=True):
            bob.add(c)
        assert _upload(bob, ingest)["uploaded"] == 1
        # carol: one bundle still in its hold: the backlog
        carol = _queue(tmp_path, "carol", hold_s=600)
        carol.add(editor_candidate(write_recording(tmp_path / "carol" / "synthetic-0009", hours=0.01, seed=9),
                                   final=True))
        assert _upload(carol, ingest)["held"] == 1

        objects = stored(bucket)
        browser = Chromium()
        try:
            browser.open(f"{ingest.url}/dashboard?token={TOKEN}")
            browser.wait_for("document.getElementById('stats') !== null")
            shot = browser.call("Page.captureScreenshot", format="png")
            png = base64.b64decode(shot["data"])
            (tmp_path / "dashboard.png").write_bytes(png)
            assert png.startswith(b"\x89PNG") and len(png) > 10_000
            stats = json.loads(browser.eval("document.getElementById('stats').textContent"))
            bars = browser.eval("Object.fromEntries([...document.querySelectorAll('svg')].map(s => [s.id, "
                                "Object.fromEntries([...s.querySelectorAll('rect.bar')].map(r => "
                                "[r.dataset.label, Number(r.dataset.value)]))]))")
            held_text = browser.eval("document.getElementById('backlog-held').textContent")
            assert browser.errors == [], browser.errors
        finally:
            browser.close()
    finally:
        ingest.stop()

    # what the bucket holds, by boto3's listing
    by_kind = {k: [o for o in objects if o["kind"] == k] for k in ("editor", "desktop")}
    assert len(by_kind["editor"]) == 2 and len(by_kind["desktop"]) == 1
    for kind, objs in by_kind.items():
        d = stats["datasets"][kind]
        assert d["bundles"] == len(objs) and d["bytes"] == sum(o["size"] for o in objs)
        assert d["sessions"] == len({o["session_id"] for o in objs})
        assert abs(bars["dataset-bytes"][kind] - d["bytes"] / 1e6) < 1e-9
    assert sum(d["events"] for d in stats["datasets"].values()) == events_total
    # hours per contributor and per surface, the action mix, the backlog: as uploaded
    for user, hours in expected_hours.items():
        assert abs(stats["hours_per_contributor"][user] - hours) < 1e-9, user
        assert abs(bars["hours-per-contributor"][user] - hours) < 1e-9
    assert "carol" not in stats["hours_per_contributor"]          # held: not in the bucket
    assert abs(stats["hours_by_surface"]["desktop"] - 90 / 3600) < 1e-9
    assert abs(stats["hours_by_surface"]["editor"] + stats["hours_by_surface"]["terminal"]
               - expected_hours["alice"]) < 1e-9
    assert stats["hours_by_surface"]["terminal"] > 0                # the synthetic sessions use a terminal
    assert abs(sum(stats["hours_per_day"].values()) - sum(expected_hours.values())) < 1e-9
    assert stats["action_mix"] == dict(expected_mix) and bars["action-mix"] == dict(expected_mix)
    assert {"user", "git", "agent:claude"} <= set(expected_mix)
    assert stats["backlog"]["carol"]["held"] == 1 and stats["backlog"]["alice"] == {
        **stats["backlog"]["alice"], "held": 0, "waiting": 0}
    assert held_text == "1" and bars["backlog"]["carol"] == 1
    assert time.time() - stats["backlog"]["carol"]["reported"] < 600


def test_dashboard_needs_the_researchers_token(tmp_path, bucket):
    import urllib.error
    import urllib.request

    ingest = IngestServer(bucket, token=TOKEN, tokens={"alice-token": "alice"}).start()
    try:
        for token in ("wrong", "alice-token"):           # a contributor does not see everyone's numbers
            try:
                urllib.request.urlopen(f"{ingest.url}/dashboard?token={token}", timeout=30)
                raise AssertionError("dashboard served without the researcher's token")
            except urllib.error.HTTPError as e:
                assert e.code == 401
        with urllib.request.urlopen(f"{ingest.url}/v1/stats?token={TOKEN}", timeout=30) as r:
            assert json.loads(r.read())["datasets"] == {}
    finally:
        ingest.stop()


def test_dashboard_survives_hostile_bundles(tmp_path, bucket):
    """Bundles are contributors' files: garbage, a tar whose segment is not a recording, a
    desktop log that is not msgpack, and markup in names must not break the page or run."""
    import io
    import tarfile
    import urllib.request

    from crowd.transfer.store import s3_client

    def tar_of(members: dict[str, bytes]) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    xss = "x<img src=x onerror=alert(1)>"
    bodies = {
        "bundles/mallory/editor/s1/" + "1" * 64 + ".tar": os.urandom(3000),
        "bundles/mallory/editor/s2/" + "2" * 64 + ".tar": tar_of({"s2/seg-000000.crowd": b"not a recording"}),
        "bundles/mallory/desktop/s3/" + "3" * 64 + ".tar": tar_of({f"s3/input_{DESKTOP_SID}_seg0000.msgpack":
                                                                   b"\xc1\xc1 not msgpack"}),
    }
    s3 = s3_client(bucket)
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket.bucket, Key=key, Body=body)
    s3.put_object(Bucket=bucket.bucket, Key="status/evil.json",
                  Body=json.dumps({"contributor": xss, "held": 2, "waiting": 1}).encode())
    s3.put_object(Bucket=bucket.bucket, Key="status/broken.json", Body=b"{not json")
    ingest = IngestServer(bucket, token=TOKEN).start()
    try:
        with urllib.request.urlopen(f"{ingest.url}/v1/stats?token={TOKEN}", timeout=60) as r:
            stats = json.loads(r.read())
        with urllib.request.urlopen(f"{ingest.url}/dashboard?token={TOKEN}", timeout=60) as r:
            page = r.read().decode()
    finally:
        ingest.stop()
    assert stats["datasets"]["editor"]["bundles"] == 2 and stats["datasets"]["desktop"]["bundles"] == 1
    assert sum(d["events"] for d in stats["datasets"].values()) == 0
    assert stats["backlog"][xss] == {**stats["backlog"][xss], "held": 2, "waiting": 1}
    assert "<img" not in page.split('<script id="stats"')[0] and "&lt;img" in page
    assert "<img" not in page.split('<script id="stats"')[1]          # escaped inside the JSON too
