"""Crafted crowd-code 2.0 folders and tarballs: links, climbing names, truncation.

An imported folder or ``source_part`` is untrusted. A symlink must not make the importer
read a file outside the folder (it used to follow it silently); tar link members and
``..``/absolute names are refused with a problem (they used to be skipped or read with no
word); a truncated tarball keeps every member read before the cut and says it was cut
(it used to lose the whole part, or the tail with no message).
"""
from __future__ import annotations

import io
import json
import os
import random
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.serializer.interop.cc2_import import Cc2ImportError, import_cc2, read_cc2


def _chunk(index: int, text: str = "x") -> bytes:
    doc = {"version": "2.0", "sessionId": "s1", "startTime": 1_700_000_000_000, "chunkIndex": index,
           "events": [{"sequence": index + 1, "timestamp": 1_700_000_000_000 + index, "type": "action",
                       "action": {"kind": "edit", "source": "user", "file": "a.py",
                                  "diff": {"rangeOffset": 0, "rangeLength": 0, "text": text}}}]}
    return json.dumps(doc).encode("utf-8")


def _texts(session) -> list[str]:
    return [e["action"]["diff"]["text"] for e in session.events()]


def _tar(members: list[tarfile.TarInfo | tuple[str, bytes]], gz: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tar:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tar.addfile(m)
            else:
                info = tarfile.TarInfo(m[0])
                info.size = len(m[1])
                tar.addfile(info, io.BytesIO(m[1]))
    return buf.getvalue()


def test_a_symlink_to_a_file_outside_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_bytes(_chunk(1, "SECRET"))
    (outside / "snapshots").mkdir()
    (outside / "snapshots" / "snapshot_001.json").write_text(json.dumps({"/home/u/.ssh/id_rsa": "KEY"}))
    folder = tmp_path / "crowd-code-s1-2025_01_01-00.00.00"
    temp = folder / "temp"
    temp.mkdir(parents=True)
    (temp / "chunk_000.json").write_bytes(_chunk(0, "mine"))
    (temp / "chunk_001.json").symlink_to(outside / "secret.json")
    (temp / "snapshots").symlink_to(outside / "snapshots", target_is_directory=True)

    session = read_cc2(folder)
    assert _texts(session) == ["mine"]
    assert session.snapshots == {}
    assert any("temp/chunk_001.json" in p and "outside" in p and "not followed" in p for p in session.problems)
    assert any("temp/snapshots" in p and "outside" in p for p in session.problems)
    events, problems = import_cc2(folder)
    assert "SECRET" not in json.dumps(events) and "KEY" not in json.dumps(events)


def test_a_symlink_that_stays_inside_is_read(tmp_path):
    folder = tmp_path / "session"
    (folder / "temp").mkdir(parents=True)
    (folder / "kept").mkdir()
    (folder / "temp" / "chunk_000.json").write_bytes(_chunk(0, "a"))
    (folder / "kept" / "one.json").write_bytes(_chunk(1, "b"))
    (folder / "temp" / "chunk_001.json").symlink_to(Path("..") / "kept" / "one.json")
    (folder / "temp" / "loop").symlink_to(Path(".."), target_is_directory=True)  # inside: not walked twice
    (folder / "other").mkdir()
    (folder / "other" / "chunk_009.json").symlink_to(folder / "nowhere.json")

    session = read_cc2(folder)
    assert _texts(session) == ["a", "b"]
    assert any("other/chunk_009.json" in p for p in session.problems)   # nothing readable, but said so


def test_tar_links_and_climbing_names_are_refused_with_a_problem(tmp_path):
    link = tarfile.TarInfo("chunk_001.json")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    hard = tarfile.TarInfo("chunk_002.json")
    hard.type = tarfile.LNKTYPE
    hard.linkname = "chunk_000.json"
    fifo = tarfile.TarInfo("chunk_005.json")
    fifo.type = tarfile.FIFOTYPE
    part = tmp_path / "source_part_001.tar.gz"
    part.write_bytes(_tar([("chunk_000.json", _chunk(0, "ok")), link, hard, fifo,
                           ("../chunk_003.json", _chunk(3, "up")), ("/abs/chunk_004.json", _chunk(4, "abs"))]))

    session = read_cc2(part)
    assert _texts(session) == ["ok"]
    said = "\n".join(session.problems)
    for name in ("chunk_001.json", "chunk_002.json", "../chunk_003.json", "/abs/chunk_004.json", "chunk_005.json"):
        assert repr(name) in said, (name, said)
    assert "is a link" in said and "'..' path" in said and "not a regular file" in said
    assert "truncated" not in said


def _random_chunks(count: int, size: int, seed: int) -> list[tuple[str, bytes]]:
    rnd = random.Random(seed)  # incompressible text: compressed offsets follow the members
    return [(f"chunk_{i:03d}.json", _chunk(i, "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                                        for _ in range(size)))) for i in range(count)]


def test_a_truncated_gzip_part_keeps_what_was_read_and_says_so(tmp_path):
    members = _random_chunks(4, 20_000, seed=1)
    data = _tar(members)
    part = tmp_path / "source_part_001.tar.gz"
    part.write_bytes(data[: len(data) * 3 // 4])

    session = read_cc2(part)
    assert len(session.chunks) >= 2                      # what came before the cut is kept
    assert any("truncated" in p for p in session.problems)


def test_an_intact_part_reports_nothing(tmp_path):
    for gz in (True, False):
        part = tmp_path / ("source_part_001.tar.gz" if gz else "part.tar")
        part.write_bytes(_tar(_random_chunks(3, 500, seed=2), gz=gz))
        session = read_cc2(part)
        assert len(session.chunks) == 3 and session.problems == []


PLAIN = _tar(_random_chunks(3, 700, seed=3), gz=False)
with tarfile.open(fileobj=io.BytesIO(PLAIN)) as _t:
    ENDS = [m.offset_data + m.size for m in _t.getmembers()]   # where each member's data ends


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=ENDS[-1] + 511))
def test_any_cut_of_a_plain_tar_keeps_the_whole_members_and_reports_the_cut(tmp_path_factory, cut):
    part = tmp_path_factory.mktemp("cut") / "part.tar"
    part.write_bytes(PLAIN[:cut])
    whole = sum(1 for end in ENDS if end <= cut)
    if whole == 0:
        with pytest.raises(Cc2ImportError, match="part.tar"):
            read_cc2(part)
        return
    session = read_cc2(part)
    assert [c["chunkIndex"] for c in session.chunks] == list(range(whole))
    assert any("part.tar" in p and "truncated" in p for p in session.problems), session.problems


def test_a_regular_import_folder_still_reads_its_parts_when_temp_is_incomplete(tmp_path):
    folder = tmp_path / "session"
    folder.mkdir()
    (folder / "source_part_001.tar.gz").write_bytes(_tar([("chunk_000.json", _chunk(0, "p"))]))
    os.symlink(tmp_path / "missing.tar.gz", folder / "source_part_002.tar.gz")
    session = read_cc2(folder)
    assert _texts(session) == ["p"]
    assert any("source_part_002.tar.gz" in p for p in session.problems)
