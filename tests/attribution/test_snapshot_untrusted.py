"""A snapshot store read from disk is untrusted (issue 13): a manifest's blob sha became a
path that ``blob`` read and ``panic`` deleted, so ``".." + "/some/file"`` pointed anywhere
(an absolute part replaces the store's folder). Blob names must be 64 hex digits and every
manifest is checked when read; a bad one is a clear SnapshotError and nothing is touched."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from crowd.snapshots.store import SnapshotError, SnapshotStore


def _store_with(tmp_path: Path, manifest: dict) -> Path:
    root = tmp_path / "rec" / "snapshots"
    (root / "manifests").mkdir(parents=True)
    (root / "manifests" / "snapshot_001.json").write_text(json.dumps(manifest))
    return root


def test_crafted_sha_cannot_reach_outside_the_store(tmp_path: Path) -> None:
    victim = tmp_path / "victim.zst"
    victim.write_bytes(b"precious")
    crafted = ".." + str(victim)[: -len(".zst")]          # _blob_path: blobs/".."/"/tmp/.../victim.zst"
    manifest = {"id": "snapshot_001", "index": 1, "t": 5, "wall": 5, "parent": None, "files": 1,
                "set": {"a.py": crafted}, "removed": []}
    root = _store_with(tmp_path, manifest)
    with pytest.raises(SnapshotError, match="not a sha256 blob name"):
        SnapshotStore(root)
    assert victim.read_bytes() == b"precious"


def test_blob_refuses_a_name_that_is_no_sha(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snapshots")
    for bad in ["../../etc/passwd", "/etc/passwd" + "0" * 52, "A" * 64, "0" * 63, ""]:
        with pytest.raises(SnapshotError):
            store.blob(bad)


def test_a_good_store_still_restores_and_panics(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snapshots")
    files = {"a.py": b"one", "b/c.py": b"two"}
    store.take(files.get, files, lambda: files, t=1, wall=1)
    store.take({"a.py": b"three"}.get, ["a.py"], lambda: files, t=10, wall=10)
    store.flush()
    reopened = SnapshotStore(tmp_path / "snapshots")
    assert reopened.panic(10) == 1
    assert reopened.restore("snapshot_001", tmp_path / "out") == 2
    assert (tmp_path / "out" / "b" / "c.py").read_bytes() == b"two"


fields = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=70), st.lists(st.text(max_size=5)),
                   st.dictionaries(st.text(max_size=10), st.text(max_size=70), max_size=3))


@settings(max_examples=60, deadline=None, database=None)
@given(key=st.sampled_from(["id", "index", "t", "wall", "files", "set", "removed", "withheld"]), value=fields)
def test_damaged_manifests_are_a_clear_error(tmp_path_factory: pytest.TempPathFactory, key: str, value: object) -> None:
    tmp_path = tmp_path_factory.mktemp("store")
    manifest = {"id": "snapshot_001", "index": 1, "t": 5, "wall": 5, "parent": None, "files": 1,
                "set": {"a.py": "0" * 64}, "removed": []}
    manifest[key] = value
    root = _store_with(tmp_path, manifest)
    try:
        store = SnapshotStore(root)
    except SnapshotError as exc:
        assert "damaged snapshot manifest snapshot_001.json" in str(exc)
        return
    store.panic(-(2 ** 63))                               # a manifest it accepted is usable: panic removes it
    assert not (root / "manifests" / "snapshot_001.json").exists()
