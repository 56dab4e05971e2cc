"""`crowd upload run` killed with SIGKILL mid-upload, then run again: each bundle arrives once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from crowd.transfer.store import s3_client

from crowd.transfer.ingest import IngestServer
from tests.transfer.transfer_helpers import TOKEN, make_recording, stored
from tests.transfer.faultproxy import FaultProxy

CROWD = [sys.executable, "-m", "crowd.cli"]


def _run(env, *args, **kw):
    return subprocess.run([*CROWD, "upload", *args], env=env, capture_output=True, text=True, timeout=120, **kw)


def test_kill_during_upload_then_resume(tmp_path, bucket):
    env = {**os.environ, "CROWD_HOME": str(tmp_path / "home")}
    rec = tmp_path / "home" / "recordings"
    for i in range(5):
        make_recording(rec, f"sess{i}", 2, size=20_000)
    proxy = FaultProxy(int(bucket.endpoint.rsplit(":", 1)[1]))   # in front of the store
    bucket.public_endpoint = f"http://127.0.0.1:{proxy.port}"
    ingest = IngestServer(bucket, token=TOKEN).start()
    # every PUT answer is held back long enough to kill the uploader in the middle
    proxy.script(*[("PUT", "slow:30")] * 3)
    assert _run(env, "config", "--endpoint", f"{ingest.url}/v1/presign",
                "--token", TOKEN, "--hold", "0").returncode == 0
    assert _run(env, "run").returncode == 3          # no consent: nothing is sent
    assert stored(bucket) == []
    assert _run(env, "consent", "grant").returncode == 0
    proc = subprocess.Popen([*CROWD, "upload", "run", "--final"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(stored(bucket)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)   # polling the bucket's listing: the observable we wait for
    assert len(stored(bucket)) == 3               # stored, but the answers are still held back
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    status = json.loads(_run(env, "status").stdout)
    assert status["waiting"] == 5                 # none was confirmed, so none was deleted
    assert all((rec / f"sess{i}" / "seg-000000.crowd").exists() for i in range(5))
    out = _run(env, "run", "--final", "--wait", "60")
    proxy.stop()
    assert out.returncode == 0, out.stderr
    # the 3 stored before the kill answer 412 now (same content-addressed key): exactly once
    shas = [o["sha256"] for o in stored(bucket)]
    assert len(shas) == 5 == len(set(shas))
    backlog = s3_client(bucket).get_object(Bucket=bucket.bucket, Key=f"status/{status['userId']}.json")
    assert json.loads(backlog["Body"].read())["waiting"] == 0   # the run reported its empty queue
    ingest.stop()
    assert json.loads(_run(env, "status").stdout)["uploaded"] == 5
    assert not any(rec.iterdir())                 # final sessions: folders removed after upload
