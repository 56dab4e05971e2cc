"""crowd-code 1.0 files as the extension really writes them (issue 15, the 1.0 CSV items).

Every fixture is written here, row by row, the way 1.0's ``buildCsvRow`` writes it:
``seq,time,"file",offset,length,"text",language,type`` with quotes doubled and CR/LF/tab
escaped as ``\\r``/``\\n``/``\\t``; terminal rows have ``"TERMINAL"`` and no language.
"""
from __future__ import annotations

import csv
import json
import subprocess
import time
import sys
from pathlib import Path

import pytest

from crowd.serializer.interop import cc1_csv
from crowd.serializer.interop.cc1_import import Cc1ImportError, import_cc1
from crowd.serializer.replay.state import ReplayState

HEADER = "Sequence,Time,File,RangeOffset,RangeLength,Text,Language,Type\n"
CROWD = [sys.executable, "-m", "crowd.cli"]


def field(text: str) -> str:
    """The Text field exactly as 1.0 writes it (its escapeString, then the quotes)."""
    escaped = (text.replace('"', '""').replace("\r\n", "\\r\\n").replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def row(seq: int, time: int | str, file: str, offset: int, length: int, text: str, kind: str,
        language: str = "python") -> str:
    if file == "TERMINAL":
        return f'{seq},{time},"TERMINAL",{offset},{length},{field(text)},,{kind}\n'
    return f'{seq},{time},"{file}",{offset},{length},{field(text)},{language},{kind}\n'


def write(path: Path, *rows: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def final_files(events: list[dict]) -> dict[str, str]:
    state = ReplayState()
    for ev in events:
        state.apply(ev)
    return {name: doc.text for name, doc in state.files.items()}


def crowd(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(CROWD + list(args), capture_output=True, text=True, timeout=120)


# --- tabs --------------------------------------------------------------------------------

def test_escaped_tabs_are_tabs_and_later_edits_land_in_place(tmp_path):
    src = write(tmp_path / "s.csv",
                row(1, 0, "m.py", 0, 0, "def f():\n\treturn 1\n", "tab"),
                row(2, 10, "m.py", 10, 0, "\t", "content"),        # after the first tab: two tabs
                row(3, 20, "m.py", 18, 1, "2", "content"))         # the "1" (offset counts 2 tabs)
    events, problems = import_cc1(src)
    assert problems == []
    assert final_files(events)["m.py"] == "def f():\n\t\treturn 2\n"


# --- full text re-sent -------------------------------------------------------------------

def test_full_text_after_a_checkout_replaces_the_file(tmp_path):
    src = write(tmp_path / "s.csv",
                row(1, 0, "a.py", 0, 0, "main = 1\n", "tab"),
                row(2, 10, "a.py", 7, 1, "2", "content"),
                row(3, 20, "", 0, 0, "Switched from branch 'main' to 'feature/x'", "git_branch_checkout", ""),
                # 1.0 forgot what it had sent: the next visit re-sends the branch's text
                row(4, 30, "a.py", 0, 0, "feature = 10\nmore\n", "tab"),
                row(5, 40, "a.py", 10, 2, "99", "content"))
    events, problems = import_cc1(src)
    assert problems == []
    assert final_files(events)["a.py"] == "feature = 99\nmore\n"


def test_every_tab_row_with_text_replaces_the_file_as_before_june_2025(tmp_path):
    src = write(tmp_path / "s.csv",
                row(1, 0, "a.py", 0, 0, "one\n", "tab"),
                row(2, 10, "b.py", 0, 0, "two\n", "tab"),
                row(3, 20, "a.py", 0, 0, "one, changed on disk\n", "tab"),
                row(4, 30, "a.py", 0, 3, "ONE", "content"),
                row(5, 40, "b.py", 0, 0, "", "tab"))                 # no text: keep what we have
    events, problems = import_cc1(src)
    assert problems == []
    assert final_files(events) == {"a.py": "ONE, changed on disk\n", "b.py": "two\n"}
    assert sum(e["kind"] == "file_content" for e in events) == 3


# --- large fields ------------------------------------------------------------------------

def test_a_field_over_128_kib_imports_inspects_and_replays_in_a_fresh_process(tmp_path):
    big = "x = 1\n" * 40_000                                            # 240,000 characters
    src = write(tmp_path / "crowd-code-big-2025_01_02-10.00.00.000" / "source.csv",
                row(1, 0, "big.py", 0, 0, big, "tab"),
                row(2, 10, "big.py", 0, 1, "y", "content"))
    events, _ = import_cc1(src)
    assert final_files(events)["big.py"] == "y" + big[1:]
    out = crowd("inspect", "--json", str(src))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["files"] == ["big.py"]
    out = crowd("import", str(src), "-o", str(tmp_path / "rec"))
    assert out.returncode == 0, out.stderr
    out = crowd("replay", "--html", str(src), "-o", str(tmp_path / "r.html"))
    assert out.returncode == 0, out.stderr


def test_a_field_beyond_the_bound_is_a_clear_error(tmp_path, monkeypatch):
    src = write(tmp_path / "s.csv", row(1, 0, "a.py", 0, 0, "z" * 5000, "tab"))
    monkeypatch.setattr(cc1_csv, "FIELD_LIMIT", 4000)
    with pytest.raises(Cc1ImportError, match=r"line 2: a field is larger than 4,000 characters"):
        import_cc1(src)
    # the same when csv's own (process-wide) limit is the one that trips
    before = csv.field_size_limit()
    try:
        csv.field_size_limit(1000)
        with pytest.raises(Cc1ImportError, match=r"line 2: a field is larger than 4,000 characters"):
            import_cc1(src)
    finally:
        csv.field_size_limit(before)


# --- merged and broken rows --------------------------------------------------------------

def test_rows_glued_by_a_lost_newline_are_split_and_reported(tmp_path):
    glued = row(2, 10, "a.py", 3, 0, "b", "content").rstrip("\n") + row(3, 20, "a.py", 4, 0, "c", "content")
    src = write(tmp_path / "s.csv",
                row(1, 0, "a.py", 0, 0, "abc", "tab"),
                glued,
                row(4, 30, "TERMINAL", 0, 0, "ls", "terminal_command").rstrip("\n")
                + row(5, 40, "a.py", 0, 1, "A", "content"))
    events, problems = import_cc1(src)
    assert final_files(events)["a.py"] == "Abcbc"
    assert [e["command"] for e in events if e["kind"] == "terminal_command"] == ["ls"]
    assert problems == ["line 3: 2 rows glued together (a lost newline); split apart",
                        "line 4: 2 rows glued together (a lost newline); split apart"]


def test_header_glued_to_the_first_row(tmp_path):
    src = tmp_path / "s.csv"
    src.write_text(HEADER.rstrip("\n") + row(1, 0, "a.py", 0, 0, "hi", "tab"), encoding="utf-8")
    events, problems = import_cc1(src)
    assert final_files(events) == {"a.py": "hi"}
    assert problems and "header is glued" in problems[0]


def test_what_cannot_be_repaired_is_dropped_and_named(tmp_path):
    cut = row(2, 10, "a.py", 0, 0, "never closed", "content")[:25] + "\n"  # '2,10,"a.py",0,0,"never c'
    src = write(tmp_path / "s.csv",
                row(1, 0, "a.py", 0, 0, "abc", "tab"),
                cut,
                row(3, 20, "a.py", 3, 0, "d", "content"),
                row(4, 30, "a.py", 4, 0, "e", "content"),
                '5,40,"a.py",5,0,"tor')                                 # a torn tail
    events, problems = import_cc1(src)
    assert final_files(events)["a.py"] == "abcde"                        # the rows after the cut survive
    assert any(p.startswith("line 3: a quoted field is never closed") and "never c" in p for p in problems)
    assert any(p.startswith("line 6: row has 6 fields") and "tor" in p for p in problems)
    assert len(problems) == 2


# --- Time ----------------------------------------------------------------------------------

def test_a_non_numeric_time_keeps_every_row(tmp_path):
    src = write(tmp_path / "s.csv",
                row(1, "2024-01-01", "a.py", 0, 0, "abc", "tab"),
                row(2, "2024-01-01", "a.py", 3, 0, "d", "content"),
                row(3, "", "TERMINAL", 0, 0, "make", "terminal_command"))
    events, problems = import_cc1(src)
    assert final_files(events)["a.py"] == "abcd"
    assert [e["kind"] for e in events][1:] == ["tab_switch", "file_content", "edit", "terminal_command",
                                               "terminal_screen"]
    assert problems == ["Time is not a number in 3 rows (first: line 2, '2024-01-01'); "
                        "kept at the time of the row before"]
    out = crowd("import", str(src), "-o", str(tmp_path / "rec"))
    assert out.returncode == 0 and "wrote" in out.stdout, out.stderr


def test_an_import_that_keeps_nothing_is_an_error(tmp_path):
    junk = write(tmp_path / "junk.csv", "x,0,a.py,0,0,,python,tab\n", "1,0,a.py,0,0,,python,bogus\n")
    with pytest.raises(Cc1ImportError, match="nothing to import: all 2 rows were unusable"):
        import_cc1(junk)
    empty = write(tmp_path / "empty.csv")
    with pytest.raises(Cc1ImportError, match="nothing to import: no usable row"):
        import_cc1(empty)
    out = crowd("import", str(junk), "-o", str(tmp_path / "rec"))
    assert out.returncode != 0 and "nothing to import" in out.stderr
    assert not (tmp_path / "rec").exists() or not any((tmp_path / "rec").iterdir())


# --- real file layout ----------------------------------------------------------------------

def test_session_id_comes_from_the_folder_and_alike_names_do_not_collide(tmp_path):
    rows = (row(1, 0, "a.py", 0, 0, "abc", "tab"),)
    first = write(tmp_path / "in" / "crowd-code-3f1c-uuid1-2025_06_02-14.03.11.123" / "source.csv", *rows)
    second = write(tmp_path / "in" / "crowd-code-3f1c-uuid1-2025_06_02-15.40.00.007" / "source.csv", *rows)
    other = write(tmp_path / "in" / "my-name-2025_06_03-09.00.00.000" / "source.csv", *rows)
    assert import_cc1(first)[0][0]["session_id"] == "3f1c-uuid1-2025_06_02-14.03.11.123"
    for src in (first, second, other):
        out = crowd("import", str(src), "-o", str(tmp_path / "rec"))
        assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in (tmp_path / "rec").iterdir()) == [
        "3f1c-uuid1-2025_06_02-14.03.11.123", "3f1c-uuid1-2025_06_02-15.40.00.007",
        "my-name-2025_06_03-09.00.00.000"]
    # files named alike outside crowd-code folders: the stem and a hash of the bytes
    a = write(tmp_path / "x" / "notes.csv", *rows)
    b = write(tmp_path / "y" / "notes.csv", *rows, row(2, 5, "a.py", 3, 0, "d", "content"))
    ids = [import_cc1(p)[0][0]["session_id"] for p in (a, b, a)]
    assert ids[0] != ids[1] and ids[0] == ids[2] and ids[0].startswith("notes-")
    out = crowd("dataset", str(a), str(b), "-o", str(tmp_path / "ds"), "--kind", "trajectories", "--no-parquet")
    assert out.returncode == 0, out.stderr                     # was: "the same session id appears twice"


def test_the_branch_switch_sentence_gives_the_branch(tmp_path):
    src = write(tmp_path / "s.csv",
                row(1, 0, "a.py", 0, 0, "abc", "tab"),
                row(2, 10, "a.py", 0, 0, "Switched from branch 'main' to 'feat/it's'", "git_branch_checkout"))
    events, problems = import_cc1(src)
    git = [e for e in events if e.get("source") == "git_checkout"]
    assert problems == [] and len(git) == 1
    assert git[0]["branch"] == "feat/it's" and git[0]["previous_branch"] == "main"


def test_the_folder_time_is_the_wall_clock(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")           # the folder holds the recorder's local time
    time.tzset()
    try:
        src = write(tmp_path / "crowd-code-3f1c-uuid1-2025_06_02-14.03.11.123" / "source.csv",
                    row(1, 0, "a.py", 0, 0, "abc", "tab"), row(2, 500, "a.py", 3, 0, "d", "content"))
        events, _ = import_cc1(src)
        utc = 1_748_865_791_123                         # 2025-06-02 12:03:11.123 UTC
        assert [e["wall"] for e in events] == [utc, utc, utc, utc + 500]
        assert import_cc1(src, start_wall=1_000)[0][-1]["wall"] == 1_500   # an explicit start wins
        other = write(tmp_path / "plain" / "s.csv", row(1, 0, "a.py", 0, 0, "abc", "tab"))
        assert import_cc1(other)[0][0]["wall"] == 0     # no folder time: since-start only, as before
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_terminal_screen_shows_the_prompt_and_the_typed_command(tmp_path):
    src = write(tmp_path / "s.csv",
                row(1, 0, "TERMINAL", 0, 0, "bash", "terminal_focus"),
                row(2, 10, "TERMINAL", 0, 0, "ls -la", "terminal_command"),
                row(3, 20, "TERMINAL", 0, 0, "\x1b[34mdir\x1b[0m\r\nfile", "terminal_output"),
                row(4, 30, "TERMINAL", 0, 0, "make", "terminal_command"),
                row(5, 40, "TERMINAL", 0, 0, "ok\r\n", "terminal_output"))
    events, problems = import_cc1(src)
    assert problems == []
    state = ReplayState()
    for ev in events:
        state.apply(ev)
    screen = [line for line in state.terminals["terminal-1"].lines if line]
    assert screen == ["$ ls -la", "dir", "file", "$ make", "ok"]   # output ended mid-line: new prompt line
