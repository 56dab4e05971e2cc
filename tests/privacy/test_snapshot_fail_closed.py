"""Snapshot blobs fail closed: text the redactor cannot scrub is never stored.

Snapshot content reaches the disk outside the event pipeline (the attribution component's
store writes blobs itself), so it needs its own fail-closed check: when the redactor could not
be built, or raises on a file's text, that file's content is withheld from the snapshot (no
blob, the manifest lists it under ``withheld``) and a ``session``/``error`` event says why
without quoting the exception. A real Session with the attribution component, a real watcher,
a named agent announced through the terminal signal, real zstd blobs on disk; every file the
recording holds is read back, zstd frames decompressed.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crowd.format import read_recording
from crowd.privacy import Redactor
from crowd.privacy.detect import Finding
from crowd.snapshots import SnapshotStore
from tests.attribution.in_process import agent_edit_and_snapshot
from tests.helpers.disk import all_bytes, decoded_everywhere, disk_tree, write_tree
from tests.helpers.snapshot_files import blob_files, stored_blobs
from tests.privacy.secrets_fixture import planted

S = planted()
POISON = "BOOM-cannot-scrub-this"
BINARY = bytes(range(256))


class BrokenRedactor(Redactor):
    def __init__(self) -> None:
        raise OSError("detector data missing")


class FlakyRedactor(Redactor):
    """Raises on any text that holds ``POISON``; its message quotes the text (as real
    exceptions may), which must not end up on disk either."""

    def scrub_text(self, text: str, filename: str | None = None) -> tuple[str, list[Finding]]:
        if POISON in text:
            raise RuntimeError(f"cannot scrub {text}")
        return super().scrub_text(text, filename)


def _workspace(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "ws", {
        "config.py": f'AWS_KEY = "{S["aws"]}"\nREGION = "eu-west-1"\n',
        "poison.py": f"# {POISON}\nTOKEN = '{S['github']}'\n",
        "plan.txt": "before the agent\n",
        "data.bin": BINARY,
    })


def _no_secret_on_disk(directory: Path) -> None:
    """Every byte of the recording (events, blobs, manifests), zstd frames decompressed."""
    data = decoded_everywhere(all_bytes(directory))
    assert blob_files(directory / "snapshots")                            # there are blobs to look at
    for needle in (S["aws"], S["github"], POISON):
        assert needle.encode() not in data, needle


def _manifests(snapshots: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_bytes()) for p in sorted((snapshots / "manifests").glob("*.json"))]


def _errors(events: list[dict[str, Any]]) -> list[str]:
    return [e["message"] for e in events if e["type"] == "session" and e["kind"] == "error"]


def _snapshot_without_secrets(tmp_path: Path, factory: type[Redactor]) -> tuple[Path, dict[str, Any]]:
    """An agent edit (one snapshot) recorded with redactors from ``factory``; no planted
    secret anywhere on disk; the recording's folder and the snapshot's manifest."""
    session = agent_edit_and_snapshot(tmp_path, _workspace(tmp_path), redactor_factory=factory)
    directory = session.directory
    assert directory is not None
    _no_secret_on_disk(directory)
    [manifest] = _manifests(directory / "snapshots")
    return directory, manifest


def test_a_file_the_redactor_raises_on_is_withheld_from_the_snapshot(tmp_path: Path) -> None:
    directory, manifest = _snapshot_without_secrets(tmp_path, FlakyRedactor)
    snapshots = directory / "snapshots"
    assert manifest["withheld"] == ["poison.py"]
    assert "poison.py" not in manifest["set"] and {"config.py", "plan.txt", "data.bin"} <= set(manifest["set"])

    events = read_recording(directory).events
    snap = next(e for e in events if e["kind"] == "snapshot")
    [error] = [e for e in events if e["type"] == "session" and e["kind"] == "error"
               and "snapshot" in e["message"]]
    assert error["message"] == (f"redaction failed (RuntimeError): the content of 1 file was not written "
                                f"to snapshot {snap['snapshot_id']} (poison.py)")
    assert error["seq"] > snap["seq"]
    # the other files were scrubbed as usual
    notes = [e for e in events if e["type"] == "redaction" and e.get("where") == "snapshot"]
    assert [(n["file"], n["what"]) for n in notes] == [("config.py", "aws_access_key")]

    # the withheld file is absent from the snapshot; the rest restores as it was (scrubbed)
    restored = tmp_path / "restored"
    SnapshotStore(snapshots).restore(snap["snapshot_id"], restored)
    got = disk_tree(restored)
    assert sorted(got) == ["config.py", "data.bin", "plan.txt"]
    assert got["plan.txt"] == b"before the agent\n" and got["data.bin"] == BINARY
    assert S["aws"].encode() not in got["config.py"] and b"[REDACTED:aws_access_key]" in got["config.py"]


def test_without_a_redactor_no_text_reaches_a_blob(tmp_path: Path) -> None:
    directory, manifest = _snapshot_without_secrets(tmp_path, BrokenRedactor)
    snapshots = directory / "snapshots"
    assert sorted(manifest["withheld"]) == ["config.py", "plan.txt", "poison.py"]
    # binary content is never read by the redactor, so it is stored as it would be with one
    assert list(manifest["set"]) == ["data.bin"]
    blobs = [SnapshotStore(snapshots).blob(sha) for sha in manifest["set"].values()]
    assert blobs == [BINARY] and stored_blobs(snapshots) == [BINARY]
    assert b"before the agent" not in decoded_everywhere(all_bytes(snapshots))

    # the recording holds nothing but errors that say why (the pipeline withholds every event,
    # the snapshot's own error event included)
    events = read_recording(directory).events
    messages = _errors(events)
    assert events and len(messages) == len(events)
    assert all(m.startswith("no redactor (OSError): ") for m in messages)
    assert any("snapshot/snapshot event was not written" in m for m in messages)


def test_with_redaction_turned_off_nothing_is_withheld(tmp_path: Path) -> None:
    """The checks above are not vacuous: without redaction (the user's choice) the secrets are
    in the blobs and nothing is withheld."""
    root = _workspace(tmp_path)
    # the factory is never called: redaction is off
    session = agent_edit_and_snapshot(tmp_path, root, redactor_factory=BrokenRedactor, settings={"redact": False})
    assert session.directory is not None
    snapshots = session.directory / "snapshots"
    [manifest] = _manifests(snapshots)
    assert "withheld" not in manifest
    data = decoded_everywhere(all_bytes(snapshots))
    assert S["aws"].encode() in data and POISON.encode() in data
    assert not _errors(read_recording(session.directory).events)


def test_the_store_keeps_withheld_content_out_of_the_chain(tmp_path: Path) -> None:
    """Store level: content ``scrub`` refuses has no blob and is absent from that snapshot and
    the next ones until it changes; reopening the store reads the same chain."""
    files = {"a.txt": b"refused once", "b.txt": b"fine"}
    refused = {b"refused once"}

    def scrub(rel: str, data: bytes) -> bytes | None:
        return None if data in refused else data

    def read(rel: str) -> bytes | None:
        return files.get(rel)

    store = SnapshotStore(tmp_path / "snapshots")
    first = store.take(read, [], lambda: list(files), t=1, wall=1, scrub=scrub)
    second = store.take(read, ["b.txt"], list, t=2, wall=2, scrub=scrub)
    files["a.txt"] = b"changed"
    third = store.take(read, ["a.txt"], list, t=3, wall=3, scrub=scrub)
    store.flush()
    assert store.files(first.snapshot_id).keys() == {"b.txt"}
    assert store.files(second.snapshot_id).keys() == {"b.txt"}
    assert store.files(third.snapshot_id).keys() == {"a.txt", "b.txt"}
    assert _manifests(tmp_path / "snapshots")[0]["withheld"] == ["a.txt"]
    assert b"refused once" not in decoded_everywhere(all_bytes(tmp_path / "snapshots"))
    reopened = SnapshotStore(tmp_path / "snapshots")
    assert [i.changed for i in reopened.list()] == [2, 0, 1]
    assert reopened.files(third.snapshot_id) == store.files(third.snapshot_id)
