"""Snapshot packs (issue 16): a snapshot's new blobs go to one pack file plus its index, so
the first snapshot of a 20,000-file workspace is three file creations, not 20,000. These
tests hold the store's other promises on real folders: dedupe across snapshots and against
the loose blobs of older stores, panic deleting a dropped snapshot's content from disk while
kept snapshots keep theirs, and a crash before the manifest leaving nothing that counts."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from crowd.snapshots import SnapshotStore
from tests.helpers.snapshot_files import frames, stored_blobs


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _names(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_a_snapshot_is_one_pack_and_its_index(tmp_path: Path) -> None:
    files = {f"src/m{i}.py": f"x = {i}\n".encode() for i in range(500)}
    files["dup.py"] = b"x = 7\n"                       # same content twice in one snapshot: one frame
    store = SnapshotStore(tmp_path / "s")
    store.take(files.get, [], lambda: list(files), t=1, wall=1)
    files["src/m1.py"] = b"changed\n"
    store.take(files.get, ["src/m1.py"], list, t=2, wall=2)
    store.flush()
    assert _names(tmp_path / "s") == ["manifests/snapshot_001.json", "manifests/snapshot_002.json",
                                      "packs/snapshot_001.idx", "packs/snapshot_001.pack",
                                      "packs/snapshot_002.idx", "packs/snapshot_002.pack"]
    assert len(stored_blobs(tmp_path / "s")) == 501
    reopened = SnapshotStore(tmp_path / "s")
    reopened.restore("snapshot_002", tmp_path / "r")
    assert _tree(tmp_path / "r") == files


def test_loose_stores_stay_readable_and_are_not_copied(tmp_path: Path) -> None:
    """A store written one file per blob (before packs) is read as it is; content it already
    holds is not written again into a pack."""
    files = {"a.txt": b"alpha", "b.txt": b"beta"}
    old = SnapshotStore(tmp_path / "s", packed=False)
    old.take(files.get, [], lambda: list(files), t=1, wall=1)
    old.flush()
    assert len(list((tmp_path / "s" / "blobs").rglob("*.zst"))) == 2 and not (tmp_path / "s" / "packs").exists()
    store = SnapshotStore(tmp_path / "s")
    store.flush()
    files["c.txt"] = b"alpha"                           # already a loose blob
    files["d.txt"] = b"delta"
    store.take(files.get, ["c.txt", "d.txt"], list, t=2, wall=2)
    store.flush()
    assert frames((tmp_path / "s" / "packs" / "snapshot_002.pack").read_bytes()) == [b"delta"]
    assert sorted(stored_blobs(tmp_path / "s")) == [b"alpha", b"beta", b"delta"]
    store.restore("snapshot_002", tmp_path / "r")
    assert _tree(tmp_path / "r") == files
    assert store.panic(2) == 1
    assert sorted(stored_blobs(tmp_path / "s")) == [b"alpha", b"beta"]


def test_panic_rewrites_a_pack_that_kept_snapshots_still_need(tmp_path: Path) -> None:
    """Snapshot 1's pack holds a secret and a content that snapshot 2 sets again (dedupe: no
    copy in pack 2); a panic over snapshot 1 only: the secret is gone from disk, snapshot 2
    (whose delta no longer builds on snapshot 1) restores whole."""
    files = {"secret.txt": b"hunter2-SECRET", "keep.txt": b"kept content"}
    store = SnapshotStore(tmp_path / "s")
    store.take(files.get, [], lambda: list(files), t=1, wall=100)
    del files["secret.txt"], files["keep.txt"]
    files["copy.txt"] = b"kept content"
    files["new.txt"] = b"newer"
    store.take(files.get, ["secret.txt", "keep.txt", "copy.txt", "new.txt"], list, t=2, wall=200)
    store.flush()
    assert frames((tmp_path / "s" / "packs" / "snapshot_002.pack").read_bytes()) == [b"newer"]
    assert store.panic_wall(lambda wall: wall < 150) == 1
    assert [i.snapshot_id for i in store.list()] == ["snapshot_002"]
    on_disk = b"".join(p.read_bytes() for p in (tmp_path / "s").rglob("*") if p.is_file())
    assert b"hunter2" not in on_disk + b"".join(stored_blobs(tmp_path / "s"))
    assert sorted(stored_blobs(tmp_path / "s")) == [b"kept content", b"newer"]
    assert "packs/snapshot_001.pack" not in _names(tmp_path / "s")
    for reader in (store, SnapshotStore(tmp_path / "s")):
        out = tmp_path / f"r{id(reader)}"
        reader.restore("snapshot_002", out)
        assert _tree(out) == files
    # the kept blob is still known: the next snapshot of it writes no copy
    again = SnapshotStore(tmp_path / "s")
    again.take(files.get, [], lambda: list(files), t=3, wall=300)
    again.flush()
    assert sorted(stored_blobs(tmp_path / "s")) == [b"kept content", b"newer"]


def test_a_pack_without_its_manifest_is_ignored_then_cleaned(tmp_path: Path) -> None:
    """A crash after the pack and index but before the manifest, one before the index, a
    half-written temp file and an index left without its pack: reopening ignores them (their blobs are written again when
    needed), and the next panic deletes them."""
    files = {"a.txt": b"first"}
    store = SnapshotStore(tmp_path / "s")
    store.take(files.get, [], lambda: list(files), t=1, wall=1)
    files["b.txt"] = b"orphan content"
    store.take(files.get, ["b.txt"], list, t=2, wall=2)
    store.flush()
    packs = tmp_path / "s" / "packs"
    (tmp_path / "s" / "manifests" / "snapshot_002.json").unlink()            # crash before the manifest
    (packs / "snapshot_009.pack").write_bytes((packs / "snapshot_002.pack").read_bytes())   # before the index
    (packs / ".snapshot_010.pack.1.2.tmp").write_bytes(b"half")
    (packs / "snapshot_011.idx").write_text("{}")                            # an index whose pack is gone

    reopened = SnapshotStore(tmp_path / "s")
    assert [i.snapshot_id for i in reopened.list()] == ["snapshot_001"]
    info = reopened.take(files.get, [], lambda: list(files), t=3, wall=3)
    reopened.flush()
    assert info.snapshot_id == "snapshot_002"
    assert "packs/snapshot_002-1.pack" in _names(tmp_path / "s")             # the orphan's name was taken
    assert reopened.panic(100) == 0
    names = _names(tmp_path / "s")
    assert [n for n in names if n.startswith("manifests/")] == ["manifests/snapshot_001.json",
                                                                 "manifests/snapshot_002.json"]
    packs_left = sorted(n.removesuffix(".pack") for n in names if n.endswith(".pack"))
    assert sorted(n.removesuffix(".idx") for n in names if n.endswith(".idx")) == packs_left
    assert len(packs_left) == 2 and sorted(stored_blobs(tmp_path / "s")) == [b"first", b"orphan content"]
    for reader in (reopened, SnapshotStore(tmp_path / "s")):
        out = tmp_path / f"r{id(reader)}"
        reader.restore("snapshot_002", out)
        assert _tree(out) == files


def test_a_scrub_that_fails_leaves_no_pack(tmp_path: Path) -> None:
    files = {"a.txt": b"x", "b.txt": b"y"}

    def scrub(rel: str, data: bytes) -> bytes:
        if rel == "b.txt":
            raise RuntimeError("redactor down")
        return data

    store = SnapshotStore(tmp_path / "s")
    store.take(files.get, [], lambda: list(files), t=1, wall=1, scrub=scrub)
    with pytest.raises(Exception, match="redactor down"):
        store.flush()
    assert not [n for n in os.listdir(tmp_path / "s" / "packs")]
