"""``crowd upload run`` never takes a recording a live writer holds (issue 13 item 6).

It used to bundle a paused sidecar's segment once it had been idle for ``--idle`` seconds
(or at once with ``--final``) and delete it after upload while the sidecar went on writing
into the deleted file. Here a real sidecar records, its segment is made to look an hour
old, and the real CLI runs with ``--idle 1 --final`` against a real store: nothing of the
live recording is touched; once the sidecar stops, the whole recording is uploaded.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from crowd.format import read_recording
from crowd.transfer.store import s3_client
from tests.helpers.editor_events import edit_texts, insert, marker, open_event
from tests.transfer.transfer_helpers import TOKEN, stored


def _crowd(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crowd.cli", "upload", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def _events_in_bucket(bucket) -> list[dict]:
    s3 = s3_client(bucket)
    with tempfile.TemporaryDirectory() as tmp:
        for obj in stored(bucket):
            data = s3.get_object(Bucket=bucket.bucket, Key=obj["key"])["Body"].read()
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                tar.extractall(tmp, filter="data")
        segments = sorted(Path(tmp).rglob("seg-*.crowd"))
        flat = Path(tmp) / "all"
        flat.mkdir()
        for seg in segments:
            seg.rename(flat / seg.name)
        return read_recording(flat).events if segments else []


def test_upload_run_spares_a_live_recording_however_idle(home, workspace, start_sidecar, ingest, bucket):
    env = {**os.environ, "CROWD_HOME": str(home)}
    assert _crowd(env, "config", "--endpoint", f"{ingest.url}/v1/presign", "--token", TOKEN,
                  "--hold", "0").returncode == 0
    assert _crowd(env, "consent", "grant").returncode == 0
    client = start_sidecar([workspace])
    sid = client.status()["sessionId"]
    folder = home / "recordings" / sid
    path = workspace / "src" / "app.py"
    offset = len(path.read_text())
    client.events([open_event(path)], ack=True)
    first, second = marker("first"), marker("second")
    client.events([insert(path, offset, first, 2)], ack=True)
    client.request("crowd/flush")
    segments = sorted(folder.glob("seg-*.crowd"))
    assert segments
    an_hour_ago = time.time() - 3600
    for seg in segments:
        os.utime(seg, (an_hour_ago, an_hour_ago))       # idle far longer than --idle

    r = _crowd(env, "run", "--idle", "1", "--final", "--wait", "30")
    assert r.returncode == 0, r.stderr
    assert all(seg.exists() for seg in segments), "a live segment was deleted"
    assert stored(bucket) == []                          # and nothing of it was bundled

    # the sidecar writes on into the same, still existing file
    client.events([insert(path, offset + len(first), second, 3)], ack=True)
    client.request("crowd/flush")
    assert {first, second} <= set(edit_texts(read_recording(folder).events))
    client.request("crowd/stop")
    client.close()

    r = _crowd(env, "run", "--idle", "1", "--final", "--wait", "30")
    assert r.returncode == 0, r.stderr
    assert not folder.exists()                            # uploaded, then removed
    events = _events_in_bucket(bucket)
    assert {first, second} <= set(edit_texts(events))
    assert [e["kind"] for e in events if e["type"] == "session"][-1] == "stop"
