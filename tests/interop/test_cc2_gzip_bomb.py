"""A crowd-code 2.0 ``source_part`` that unpacks to far more than it weighs (issue 13: gzip bomb).

``_tar_members`` used to read every member whole (``fh.read()``) and let tarfile seek over
skipped ones: a 1 MB part holding a member that unpacks to gigabytes took that much memory
(or minutes of CPU to skip). Now a member over ``MAX_MEMBER_BYTES`` is refused by its header
before a byte of it is unpacked, and a tarball is never unpacked past ``MAX_ARCHIVE_BYTES``:
each case ends with a clear problem, and every member read before it is kept.
"""
from __future__ import annotations

import gzip
import io
import json
import resource
import tarfile
import time

from crowd.serializer.interop import cc2_import
from crowd.serializer.interop.cc2_import import import_cc2, read_cc2


def _chunk(index: int, text: str) -> bytes:
    doc = {"version": "2.0", "sessionId": "s1", "startTime": 1_700_000_000_000, "chunkIndex": index,
           "events": [{"sequence": index + 1, "timestamp": 1_700_000_000_000 + index, "type": "action",
                       "action": {"kind": "edit", "source": "user", "file": "a.py",
                                  "diff": {"rangeOffset": 0, "rangeLength": 0, "text": text}}}]}
    return json.dumps(doc).encode("utf-8")


def _header(name: str, size: int) -> bytes:
    """One tar header block that declares ``size`` bytes of data (GNU base-256 for big sizes)."""
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(format=tarfile.GNU_FORMAT)


def test_a_member_declaring_gigabytes_is_refused_by_its_header(tmp_path):
    """No monkeypatching: the real bounds. The part is a few hundred bytes; its second member
    claims 3 GiB. Before, the importer tried to read (or skip) all of it."""
    good = _chunk(0, "kept")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("chunk_000.json")
        info.size = len(good)
        tar.addfile(info, io.BytesIO(good))
    body = raw.getvalue()[:-1024].rstrip(b"\0")            # drop the end-of-archive blocks
    body += b"\0" * (-len(body) % 512)
    body += _header("chunk_001.json", 3 * 1024 ** 3) + b"\0" * 4096
    part = tmp_path / "source_part_001.tar.gz"
    part.write_bytes(gzip.compress(body))
    started = time.process_time()
    session = read_cc2(part)
    assert time.process_time() - started < 5
    assert [e["action"]["diff"]["text"] for e in session.events()] == ["kept"]
    assert any("'chunk_001.json' unpacks to 3,221,225,472 bytes" in p and "skipped" in p
               for p in session.problems), session.problems


def test_a_part_that_unpacks_past_the_archive_bound_stops_with_a_clear_problem(tmp_path, monkeypatch):
    """A real bomb in miniature: 64 MiB of zeros (64 KiB gzipped) after a good chunk, with the
    archive bound lowered to 8 MiB so the test stays fast; memory stays flat."""
    monkeypatch.setattr(cc2_import, "MAX_ARCHIVE_BYTES", 8 * 1024 * 1024)
    good = _chunk(0, "kept")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in (("chunk_000.json", good), ("snapshots/snapshot_001.json", b"\0" * (64 * 1024 * 1024))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    part = tmp_path / "source_part_001.tar.gz"
    part.write_bytes(gzip.compress(raw.getvalue(), compresslevel=1))
    assert part.stat().st_size < 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    events, problems = import_cc2(part)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert [e["changes"][0]["text"] for e in events if e["kind"] == "edit"] == ["kept"]
    assert any("unpacks to more than 8,388,608 bytes (a gzip bomb" in p for p in problems), problems
    assert grown_kib < 48 * 1024


def test_too_many_members_stop_the_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(cc2_import, "MAX_MEMBERS", 5)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        data = _chunk(0, "kept")
        info = tarfile.TarInfo("chunk_000.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for i in range(20):
            tar.addfile(tarfile.TarInfo(f"empty/{i}"), io.BytesIO(b""))
    part = tmp_path / "source_part_001.tar.gz"
    part.write_bytes(raw.getvalue())
    session = read_cc2(part)
    assert [e["action"]["diff"]["text"] for e in session.events()] == ["kept"]
    assert any("more than 5 members" in p for p in session.problems), session.problems


def test_a_loose_file_over_the_member_bound_is_skipped_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(cc2_import, "MAX_MEMBER_BYTES", 4096)
    temp = tmp_path / "crowd-code-s1-2025_01_01-00.00.00.00" / "temp"
    (temp / "snapshots").mkdir(parents=True)
    (temp / "chunk_000.json").write_bytes(_chunk(0, "kept"))
    (temp / "snapshots" / "snapshot_001.json").write_bytes(b"{" + b" " * 10_000 + b"}")
    session = read_cc2(temp.parent)
    assert [e["action"]["diff"]["text"] for e in session.events()] == ["kept"] and session.snapshots == {}
    assert any(p.startswith("temp/snapshots/snapshot_001.json: 10,002 bytes") for p in session.problems), session.problems
