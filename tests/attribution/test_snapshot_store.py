"""The snapshot store on a real folder: O(changed) deltas, byte-identical restore, export, panic."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from crowd.snapshots import SnapshotError, SnapshotStore
from tests.helpers.snapshot_files import stored_blobs


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _reader(files: dict[str, bytes]):
    return lambda rel: files.get(rel)


def test_restore_is_byte_identical_and_deltas_are_small(tmp_path: Path) -> None:
    files = {f"src/m{i}.py": f"x = {i}\r\n".encode() for i in range(200)}
    files["bin/blob.dat"] = bytes(range(256)) * 10
    files["ünïcode/名前.txt"] = "héllo\n".encode()
    store = SnapshotStore(tmp_path / "snaps")
    first = store.take(_reader(files), [], lambda: list(files), t=10, wall=1)
    assert first.snapshot_id == "snapshot_001" and first.files == 202 and first.changed == 202

    before = dict(files)
    files["src/m3.py"] = b"changed\n"
    del files["src/m4.py"]
    files["src/new.py"] = b"new\n"
    second = store.take(_reader(files), ["src/m3.py", "src/m4.py", "src/new.py"], lambda: pytest.fail("full scan"), t=20, wall=2)
    assert second.changed == 3 and second.files == 202
    assert second.bytes_added < first.bytes_added / 10

    store.restore("snapshot_001", tmp_path / "r1")
    assert _tree(tmp_path / "r1") == before
    store.restore("snapshot_002", tmp_path / "r2")
    assert _tree(tmp_path / "r2") == files


def test_unchanged_content_adds_no_blob(tmp_path: Path) -> None:
    files = {"a.txt": b"same"}
    store = SnapshotStore(tmp_path / "s")
    store.take(_reader(files), [], lambda: list(files), t=1, wall=1)
    files["b.txt"] = b"same"  # same content under another name: no new blob
    info = store.take(_reader(files), ["b.txt"], list, t=2, wall=2)
    store.flush()
    assert stored_blobs(tmp_path / "s") == [b"same"] and info.changed == 1


def test_reopen_continues_the_chain(tmp_path: Path) -> None:
    files = {"a.txt": b"1"}
    first = SnapshotStore(tmp_path / "s")
    first.take(_reader(files), [], lambda: list(files), t=1, wall=1)
    first.close()
    files["a.txt"] = b"2"
    store = SnapshotStore(tmp_path / "s")
    info = store.take(_reader(files), ["a.txt"], lambda: list(files), t=2, wall=2)
    assert info.snapshot_id == "snapshot_002"
    assert [i.snapshot_id for i in store.list()] == ["snapshot_001", "snapshot_002"]
    store.restore("snapshot_001", tmp_path / "r")
    assert (tmp_path / "r" / "a.txt").read_bytes() == b"1"


def test_export_crowd_code_form(tmp_path: Path) -> None:
    files = {"a/b.py": b"print(1)\n", "img.bin": b"\xff\xfe\x00"}
    store = SnapshotStore(tmp_path / "s")
    store.take(_reader(files), [], lambda: list(files), t=1, wall=1)
    n, skipped = store.export_json("snapshot_001", tmp_path / "snapshot_001.json")
    data = json.loads((tmp_path / "snapshot_001.json").read_text())
    assert data == {"a/b.py": "print(1)\n"} and skipped == ["img.bin"] and n == 1
    assert not any(k.startswith("/") for k in data)


def test_panic_deletes_snapshots_and_their_own_blobs(tmp_path: Path) -> None:
    files = {"a.txt": b"one", "b.txt": b"shared"}
    store = SnapshotStore(tmp_path / "s")
    store.take(_reader(files), [], lambda: list(files), t=100, wall=1)
    files["a.txt"] = b"two-secret"
    files["c.txt"] = b"shared"
    store.take(_reader(files), ["a.txt", "c.txt"], list, t=200, wall=2)
    store.flush()
    blob_count = lambda: len(stored_blobs(tmp_path / "s"))  # noqa: E731
    assert blob_count() == 3
    assert store.panic(150) == 1
    assert [i.snapshot_id for i in store.list()] == ["snapshot_001"]
    assert blob_count() == 2  # "two-secret" gone, "shared" still referenced by snapshot_001
    raw = b"".join(p.read_bytes() for p in (tmp_path / "s").rglob("*") if p.is_file())
    assert b"two-secret" not in raw + b"".join(stored_blobs(tmp_path / "s"))
    # the next snapshot compares everything again and the chain stays consistent
    info = store.take(_reader(files), [], lambda: list(files), t=300, wall=3)
    assert info.snapshot_id == "snapshot_002" and info.changed == 2
    store.restore("snapshot_002", tmp_path / "r")
    assert _tree(tmp_path / "r") == files


def test_bad_input_is_refused(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "s")
    with pytest.raises(SnapshotError):
        store.take(_reader({"../x": b"1"}), ["../x"], list, t=1, wall=1)
    with pytest.raises(SnapshotError):
        store.restore("snapshot_009", tmp_path / "r")
    files = {"a": b"1"}
    store.take(_reader(files), ["a"], list, t=1, wall=1)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep").write_text("mine")
    with pytest.raises(SnapshotError):
        store.restore("snapshot_001", tmp_path / "full")
    assert (tmp_path / "full" / "keep").read_text() == "mine"


def test_cli_list_restore_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from crowd.snapshots import commands
    import argparse

    rec = tmp_path / "rec"
    files = {"x.py": b"a = 1\n"}
    SnapshotStore(rec / "snapshots").take(_reader(files), [], lambda: list(files), t=5, wall=1).snapshot_id
    import time
    from tests.helpers.waiting import wait_for
    wait_for(lambda: (rec / "snapshots" / "manifests" / "snapshot_001.json").exists())
    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers())
    run = lambda *a: (lambda ns: ns.handler(ns))(parser.parse_args(["snapshot", *a]))  # noqa: E731
    assert run("list", str(rec)) == 0
    assert "snapshot_001" in capsys.readouterr().out
    assert run("restore", str(rec), "snapshot_001", str(tmp_path / "out")) == 0
    assert (tmp_path / "out" / "x.py").read_bytes() == b"a = 1\n"
    assert run("export", str(rec), str(tmp_path / "json")) == 0
    assert json.loads((tmp_path / "json" / "snapshot_001.json").read_text()) == {"x.py": "a = 1\n"}
    assert run("restore", str(rec), "snapshot_404", str(tmp_path / "o2")) == 1


def test_scrub_runs_before_any_byte_is_written(tmp_path: Path) -> None:
    """``scrub`` (the redactor) sees every new content before it is stored; the raw bytes
    reach no file, deltas still follow the raw content, ``after`` names the snapshot."""
    files = {"a.txt": b"token=RAWVALUE\n", "b.txt": b"plain\n"}
    seen: list[str] = []
    done: list[str] = []

    def scrub(rel: str, data: bytes) -> bytes:
        seen.append(rel)
        return data.replace(b"RAWVALUE", b"[REDACTED:x]")

    store = SnapshotStore(tmp_path / "s")
    first = store.take(_reader(files), [], lambda: list(files), t=1, wall=1, scrub=scrub, after=done.append)
    assert first.files == 2 and first.changed == 2
    files["a.txt"] = b"token=RAWVALUE2\n"
    second = store.take(_reader(files), ["a.txt", "b.txt"], list, t=2, wall=2, scrub=scrub, after=done.append)
    store.flush()
    assert second.changed == 1 and sorted(seen) == ["a.txt", "a.txt", "b.txt"]
    assert done == ["snapshot_001", "snapshot_002"]
    raw = b"".join(p.read_bytes() for p in (tmp_path / "s").rglob("*") if p.is_file())
    plain = b"".join(stored_blobs(tmp_path / "s"))
    assert b"RAWVALUE" not in raw + plain
    store.restore("snapshot_002", tmp_path / "r")
    assert _tree(tmp_path / "r") == {"a.txt": b"token=[REDACTED:x]2\n", "b.txt": b"plain\n"}
