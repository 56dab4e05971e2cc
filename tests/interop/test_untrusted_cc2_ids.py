"""A crowd-code 2.0 ``sessionId`` is untrusted: import and export must never leave the output folder.

A crafted chunk whose ``sessionId`` is ``../../X``, ``a/../../X`` or an absolute path used to
make ``crowd import`` and ``crowd export --crowd-code2`` write outside ``-o``; both now name
their folder through ``path_component``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.cli import main
from crowd.serializer.interop.cc2_layout import MAX_COMPONENT_BYTES, folder_name, path_component

HOSTILE_IDS = ["../../X", "a/../../X", "/tmp/abs-X", "..", ".", "", "x\\..\\..\\X", "a\x00b", "~/X", "\u202e..",
               "C:\\X", "." * 300, "é" * 200]


def _chunk(session_id: str) -> dict:
    return {"version": "2.0", "sessionId": session_id, "startTime": 1_700_000_000_000, "chunkIndex": 0,
            "events": [{"sequence": 1, "timestamp": 1_700_000_000_500, "type": "action",
                        "action": {"kind": "edit", "source": "user", "file": "a.py",
                                   "diff": {"rangeOffset": 0, "rangeLength": 0, "text": "x"}}}]}


def _all_files(root: Path) -> set[Path]:
    return {Path(dirpath, name) for dirpath, _, names in os.walk(root) for name in names}


def _assert_single_component(name: str, max_bytes: int = MAX_COMPONENT_BYTES) -> None:
    assert name not in ("", ".", "..")
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith(".")
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    assert len(name.encode("utf-8")) <= max_bytes


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.sampled_from(HOSTILE_IDS))
def test_path_component_is_one_safe_name_inside_its_folder(untrusted):
    name = path_component(untrusted)
    _assert_single_component(name)
    base = Path("/srv/out")
    assert (base / name).parent == base and os.path.normpath(base / name) == str(base / name)
    assert path_component(name) == name            # stable: a safe name is kept as is
    assert path_component(untrusted) == name        # deterministic


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_different_ids_get_different_names(a, b):
    if a != b:
        assert path_component(a) != path_component(b)


def test_ordinary_ids_are_kept():
    for sid in ("5f0c2a1e", "synthetic-0003", "0b7d6a1c-3f2e-4d1a-9c8b-7a6e5d4c3b2a", "cli-session", "a.b_c"):
        assert path_component(sid) == sid
    assert folder_name("synthetic-0003", 0).startswith("crowd-code-synthetic-0003-19")
    assert folder_name("x", 10 ** 30).startswith("crowd-code-x-")   # no calendar year: still a name


@pytest.mark.parametrize("session_id", ["../../X", "a/../../X", "ABSOLUTE", ".."])
def test_import_and_export_stay_in_the_output_folder(tmp_path, capsys, session_id):
    if session_id == "ABSOLUTE":  # an absolute path, kept under tmp_path so a failure writes nowhere else
        session_id = str(tmp_path / "sandbox" / "absolute" / "X")
    src = tmp_path / "src" / "temp"
    src.mkdir(parents=True)
    (src / "chunk_000.json").write_text(json.dumps(_chunk(session_id)), encoding="utf-8")
    sandbox = tmp_path / "sandbox"
    out = sandbox / "deep" / "out"
    out.mkdir(parents=True)
    assert main(["import", str(src.parent), "-o", str(out)]) == 0
    written = _all_files(sandbox)
    assert written and all(out in p.parents for p in written), written
    (recording,) = [p for p in out.iterdir()]
    _assert_single_component(recording.name)

    exported = tmp_path / "sandbox2" / "deep" / "exp"
    exported.mkdir(parents=True)
    capsys.readouterr()
    assert main(["export", "--crowd-code2", str(recording), "-o", str(exported)]) == 0
    files = _all_files(tmp_path / "sandbox2")
    assert files and all(exported in p.parents for p in files), files
    (folder,) = list(exported.iterdir())
    assert folder.name.startswith("crowd-code-")
    _assert_single_component(folder.name, max_bytes=255)
    # the data keeps the id it was given; only the name on disk is made safe
    doc = json.loads((folder / "temp" / "chunk_000.json").read_text(encoding="utf-8"))
    assert doc["sessionId"] == session_id
