"""kill -9 of the sidecar at random moments: acknowledged events survive, the recording opens."""
from __future__ import annotations

import random
import threading
import time
from pathlib import Path

from crowd.format import read_recording
from crowd.server.workspace.folders import path_to_uri

from tests.helpers.editor_events import open_event
from tests.helpers.sidecar import start_recording_sidecar

TRIALS = 20
WORDS = "the quick brown fox jumps over a lazy dog while typing code".split()


def _typing_batches(uri: str, start_version: int):
    """Endless batches of keystrokes (one document_change per character) plus selections."""
    version, offset = start_version, 0
    while True:
        batch, versions = [], []
        for word in random.sample(WORDS, 3):
            for char in word + " ":
                version += 1
                batch.append({"kind": "document_change", "uri": uri, "version": version,
                              "changes": [{"offset": offset, "length": 0, "text": char}],
                              "reason": None, "visible": True, "active": True})
                versions.append(version)
                offset += 1
                batch.append({"kind": "selection", "uri": uri, "selections": [{"anchor": offset, "active": offset}]})
        yield batch, versions


def _one_trial(home: Path, workspace: Path, rng: random.Random) -> tuple[int, int]:
    app = workspace / "src" / "app.py"
    app.write_text("")
    client = start_recording_sidecar(home, [workspace])
    directory = Path(client.status()["recording"])
    client.events([open_event(app, "")], ack=True)
    acked: list[tuple[float, list[int]]] = []
    stop = threading.Event()

    def sender() -> None:
        for batch, versions in _typing_batches(path_to_uri(app), 1):
            if stop.is_set():
                return
            try:
                client.events(batch, ack=True, timeout=30)
            except Exception:  # noqa: BLE001 - the kill cuts the pipe mid-request
                return
            acked.append((time.monotonic(), versions))
            stop.wait(0.01)

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    time.sleep(rng.uniform(1.2, 2.4))   # the random moment of the crash is what is tested
    killed_at = time.monotonic()
    client.kill()
    stop.set()
    thread.join(10)
    client.close()
    result = read_recording(directory)          # must open, whatever the kill left
    got = {e.get("version") for e in result.events if e.get("kind") == "edit"}
    must = [v for t, versions in acked if t < killed_at - 1.0 for v in versions]
    missing = [v for v in must if v not in got]
    assert not missing, f"{len(missing)} acknowledged edits lost (first {missing[:5]}); problems: {result.problems}"
    return len(must), len(got)


def test_kill_minus_nine_at_random_moments(home: Path, workspace: Path) -> None:
    rng = random.Random()
    checked = 0
    for _ in range(TRIALS):
        must, _ = _one_trial(home, workspace, rng)
        checked += must
    assert checked > TRIALS * 10, "the trials must have acknowledged events to check"
