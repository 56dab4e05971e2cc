"""``sed -i`` writes a temporary file ``sedXXXXXX`` next to the file and renames it over it. On
a loaded machine sed can stall between the two longer than a watcher batch waits (seen in the
timed suite under load 14-22: the temp file recorded as a create, in 1 of 3 runs). Reproduced
deterministically: the temp file is created, a later write elsewhere is awaited as handled
(so the temp's creation has been through a batch), and only then is it renamed."""
from __future__ import annotations

from pathlib import Path

from tests.attribution.test_watch import Rec
from tests.helpers.waiting import wait_for


def test_a_sed_temp_file_renamed_a_batch_later_is_no_create(ws: Path) -> None:
    (ws / "a.py").write_text("a = 1\n")
    with Rec(ws) as r:
        temp = ws / "sedX9aB2c"
        temp.write_text("a = 2\n")
        (ws / "other.txt").write_text("later\n")
        wait_for(lambda: "other.txt" in {c.rel for c in r.changes}, what="a batch after the temp file's creation")
        temp.replace(ws / "a.py")
        wait_for(lambda: r.baseline.get("a.py") == b"a = 2\n", what="the rename handled")
        assert [c.rel for c in r.changes if c.rel.startswith("sed")] == []
        assert r.kinds("a.py") == ["change"]


def test_a_file_that_only_looks_like_a_sed_temp_file_is_still_recorded(ws: Path) -> None:
    with Rec(ws) as r:
        (ws / "sedations").write_text("kept\n")   # sed + 6 letters, but it stays
        wait_for(lambda: r.baseline.get("sedations") == b"kept\n", what="the file recorded in the end")
        assert r.kinds("sedations") == ["create"]
