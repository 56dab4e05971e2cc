"""A real sidecar recording onto a disk that fills up (issue 13 item 5): acks count the events
the writer keeps for later as held, status says why (``writeError``) and clears it when
space returns, nothing acknowledged is lost, no empty segment is made per flush."""
from __future__ import annotations

import random
from pathlib import Path

from crowd.format import read_recording

from tests.helpers.editor_events import insert, open_event
from tests.helpers.full_disk import fill, small_tmpfs
from tests.helpers.sidecar import start_recording_sidecar

WORDS = "alpha beta gamma delta epsilon zeta theta iota kappa lambda omicron sigma upsilon omega".split()


def test_sidecar_on_a_full_disk_holds_reports_and_recovers(home: Path, workspace: Path, tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "fs", "512k") as fs:
        app = workspace / "src" / "app.py"
        client = start_recording_sidecar(home, [workspace], settings={"recordingsDir": str(fs)})
        try:
            client.events([open_event(app, "")], ack=True)
            client.request("crowd/flush")
            directory = Path(client.status()["recording"])
            filler = fill(fs)
            # words in random order: they do not compress into the last page the filler left
            texts = [" ".join(random.Random(i).choices(WORDS, k=300)) for i in range(60)]
            offset, acks = 0, []
            for i, text in enumerate(texts):
                acks.append(client.events([insert(app, offset, text, i + 2)], ack=True))
                offset += len(text)
            client.wait_for(lambda: client.status()["writeError"], 30, "the write error in status")
            ack = client.events([], ack=True)
            assert ack["held"] > 0, ack
            assert all(a["recorded"] == 1 for a in acks)
            segments = sorted(p.name for p in directory.iterdir())
            filler.unlink()
            client.wait_for(lambda: client.status()["writeError"] is None, 30, "the write error cleared")
            client.request("crowd/flush")
            assert client.events([], ack=True)["held"] == 0
            assert sorted(p.name for p in directory.iterdir()) == segments   # no empty segments meanwhile
        finally:
            client.close()
        events = read_recording(directory).events
        edits = ["".join(c["text"] for c in e["changes"]) for e in events if e["kind"] == "edit"]
        assert edits == texts
