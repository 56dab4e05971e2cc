"""Snapshot blobs hold no secret: the text a snapshot stores went through the session's
redactor, each finding is a ``redaction`` event (where: snapshot), and files without secrets
are still restored byte for byte. A real Session with the attribution component, a real
watcher, a named agent announced through the terminal signal, real zstd blobs on disk."""
from __future__ import annotations

import random
import string
from pathlib import Path

from crowd.format import read_recording
from crowd.snapshots import SnapshotStore
from tests.attribution.in_process import agent_edit_and_snapshot
from tests.helpers.disk import disk_tree
from tests.helpers.snapshot_files import frames


def _aws_key() -> str:
    """Built at run time so the repository holds no credential-shaped literal."""
    rng = random.Random(11)
    return "AKIA" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def _blob_bytes(snapshots: Path) -> bytes:
    """Every blob decompressed (loose blobs and packs must be whole zstd frames) plus every other file raw."""
    out = []
    for p in sorted(snapshots.rglob("*")):
        if p.is_file():
            raw = p.read_bytes()
            out.append(b"".join(frames(raw)) if p.suffix in (".zst", ".pack") else raw)
    return b"".join(out)


def _agent_edit_and_snapshot(tmp_path: Path, root: Path, settings: dict | None = None):
    before = disk_tree(root)
    return agent_edit_and_snapshot(tmp_path, root, settings), before


def test_snapshot_blobs_hold_markers_not_secrets(tmp_path: Path) -> None:
    key = _aws_key()
    root = tmp_path / "ws"
    root.mkdir()
    config = f'AWS_KEY = "{key}"\nREGION = "eu-west-1"\n'
    (root / "config.py").write_text(config)
    (root / "plan.txt").write_text("before the agent\n")
    (root / "data.bin").write_bytes(bytes(range(256)))
    session, before = _agent_edit_and_snapshot(tmp_path, root)

    snapshots = session.directory / "snapshots"
    assert key.encode() not in _blob_bytes(snapshots)
    events = read_recording(session.directory).events
    assert key not in repr(events)
    snap = next(e for e in events if e.get("kind") == "snapshot")
    notes = [e for e in events if e.get("type") == "redaction" and e.get("where") == "snapshot"]
    assert [(n["file"], n["what"], n["snapshot_id"]) for n in notes] == [("config.py", "aws_access_key", snap["snapshot_id"])]
    assert config[notes[0]["offset"]:notes[0]["offset"] + notes[0]["length"]] == key
    assert snap["seq"] < notes[0]["seq"]

    restored = tmp_path / "restored"
    SnapshotStore(snapshots).restore(snap["snapshot_id"], restored)
    got = disk_tree(restored)
    # files without secrets: byte for byte; the file with one: the secret became its marker
    assert {k: v for k, v in got.items() if k != "config.py"} == {k: v for k, v in before.items() if k != "config.py"}
    assert got["config.py"] == config.replace(key, "[REDACTED:aws_access_key]").encode()


def test_without_redaction_the_blob_holds_the_file_as_it_was(tmp_path: Path) -> None:
    """The check above is not vacuous: with redaction off the key is in a blob, byte for byte."""
    key = _aws_key()
    root = tmp_path / "ws"
    root.mkdir()
    (root / "config.py").write_text(f'AWS_KEY = "{key}"\n')
    (root / "plan.txt").write_text("before the agent\n")
    session, before = _agent_edit_and_snapshot(tmp_path, root, settings={"redact": False})
    assert key.encode() in _blob_bytes(session.directory / "snapshots")
    snap = SnapshotStore(session.directory / "snapshots").list()[0]
    SnapshotStore(session.directory / "snapshots").restore(snap.snapshot_id, tmp_path / "restored")
    assert disk_tree(tmp_path / "restored") == before


