"""``crowd replay --serve`` follows a recording while the real writer is still appending to it."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from crowd.format import RecordingWriter
from crowd.serializer.synthetic import generate


@pytest.fixture
def live(tmp_path):
    events = generate(hours=0.02, seed=11)
    half = len(events) // 2
    writer = RecordingWriter(tmp_path / "live", flush_interval=3600)
    writer.extend(events[:half])
    writer.flush()
    proc = subprocess.Popen([sys.executable, "-m", "crowd.cli", "replay", "--serve", str(tmp_path / "live"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.search(r"(http://127\.0\.0\.1:(\d+)/)\?token=(\S+)", line)
    assert m, line + proc.stderr.read() if proc.poll() is not None else line
    yield {"writer": writer, "events": events, "half": half, "base": m.group(1), "port": int(m.group(2)),
           "token": m.group(3)}
    proc.terminate()
    proc.wait(timeout=20)
    writer.close()


def test_serve_streams_new_events_and_requires_the_token(live):
    from websockets.sync.client import connect

    base, token = live["base"], live["token"]
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(base, timeout=30)
    assert denied.value.code == 403
    page = urllib.request.urlopen(f"{base}?token={token}", timeout=30).read().decode("utf-8")
    assert "const LIVE = true" in page
    with pytest.raises(Exception):
        with connect(f"ws://127.0.0.1:{live['port']}/ws?token=wrong", open_timeout=30):
            pass
    got: list[dict] = []
    with connect(f"ws://127.0.0.1:{live['port']}/ws?token={token}", open_timeout=30, max_size=None) as ws:
        while len(got) < live["half"]:
            got.extend(json.loads(ws.recv(timeout=60))["events"])
        assert got == live["events"][:live["half"]]
        live["writer"].extend(live["events"][live["half"]:])
        live["writer"].flush()  # the rest reaches the disk now; the server must pick it up
        deadline = time.monotonic() + 60
        while len(got) < len(live["events"]) and time.monotonic() < deadline:
            got.extend(json.loads(ws.recv(timeout=60))["events"])
    assert got == live["events"]


def test_live_page_follows_in_the_browser(live, chromium):
    chromium.open(f"{live['base']}?token={live['token']}")
    n = live["half"]
    chromium.wait_for(f"document.getElementById('frame').textContent === 'frame {n}/{n}'")
    live["writer"].extend(live["events"][n:])
    live["writer"].flush()
    total = len(live["events"])
    chromium.wait_for(f"document.getElementById('frame').textContent === 'frame {total}/{total}'")
    assert chromium.errors == []
