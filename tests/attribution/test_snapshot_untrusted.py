"""A snapshot store read from disk is untrusted (issue 13): a manifest's blob sha became a
path that ``blob`` read and ``panic`` deleted, so ``".." + "/some/file"`` pointed anywhere
(an absolute part replaces the store's folder). Blob names must be 64 hex digits and every
manifest is checked when read; a bad one is a clear SnapshotError and nothing is touched.
Pack indexes (``packs/*.idx``, issue 16) are read the same way: sha keys, ranges inside the
pack, and ``blob`` verifies the hash of whatever a range holds."""
from __future__ import annotations

import hashlib
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


def _packed_store(tmp_path: Path) -> tuple[Path, dict]:
    """A real store of two blobs in one pack, and its index as read from disk."""
    root = tmp_path / "rec" / "snapshots"
    files = {"a.py": b"alpha " * 50, "b.py": b"beta " * 40}
    store = SnapshotStore(root)
    store.take(files.get, files, lambda: files, t=5, wall=5)
    store.flush()
    return root, json.loads((root / "packs" / "snapshot_001.idx").read_text())


def test_a_crafted_pack_index_range_is_caught_by_the_hash(tmp_path: Path) -> None:
    """An index that points one blob at the other's frame (a range inside the pack, so it
    passes the index check): ``blob`` decompresses it, sees the wrong hash, and refuses."""
    root, index = _packed_store(tmp_path)
    first, second = sorted(index)
    index[first], index[second] = index[second], index[first]
    (root / "packs" / "snapshot_001.idx").write_text(json.dumps(index))
    store = SnapshotStore(root)
    with pytest.raises(SnapshotError, match="does not match its hash"):
        store.blob(first)
    with pytest.raises(SnapshotError):
        store.restore("snapshot_001", tmp_path / "out")


entries = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10),
                    st.lists(st.one_of(st.integers(min_value=-5, max_value=10**9), st.booleans(), st.text(max_size=3)),
                             max_size=3))


@settings(max_examples=60, deadline=None, database=None)
@given(key=st.one_of(st.none(), st.text(max_size=70)), value=entries)
def test_damaged_pack_indexes_are_a_clear_error(tmp_path_factory: pytest.TempPathFactory,
                                                key: str | None, value: object) -> None:
    """Any key or [offset, length] an index may hold: the store opens and every blob it
    returns has its hash, or opening is a clear SnapshotError; panic never deletes outside."""
    tmp_path = tmp_path_factory.mktemp("store")
    victim = tmp_path / "victim.pack"
    victim.write_bytes(b"precious")
    root, index = _packed_store(tmp_path)
    index[key if key is not None else sorted(index)[0]] = value
    (root / "packs" / "snapshot_001.idx").write_text(json.dumps(index))
    try:
        store = SnapshotStore(root)
    except SnapshotError as exc:
        assert "damaged pack index snapshot_001.idx" in str(exc)
        return
    for sha in index:
        try:
            data = store.blob(sha)
        except SnapshotError:
            continue
        assert hashlib.sha256(data).hexdigest() == sha
    store.panic(-(2 ** 63))
    assert victim.read_bytes() == b"precious"
    assert not list((root / "packs").iterdir())           # everything dropped: the pack is gone too
