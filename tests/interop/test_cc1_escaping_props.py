"""Properties of the crowd-code 1.0 Text field and of whole 1.0 sessions (issue 15).

1.0 escapes CR, LF and tab as ``\\r``/``\\n``/``\\t`` and doubles quotes, but never escapes a
backslash: text holding a backslash followed by n/r/t cannot round-trip through any reader
(a limit of the format), so the generated text leaves those pairs out. The session property
replays files written like the extension writes them with the anchors' rules (a tab row with
text replaces the file, a content row splices at its offset, Time is ignored) and checks that
our import reaches the same final files. Text stays in the Basic Multilingual Plane there:
the anchors count characters where crowd counts UTF-16 units, and only there do both agree.
"""
from __future__ import annotations

import re
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.serializer.interop.cc1_csv import escape, unescape
from crowd.serializer.interop.cc1_import import import_cc1
from crowd.serializer.replay.state import ReplayState

HEADER = "Sequence,Time,File,RangeOffset,RangeLength,Text,Language,Type\n"
AMBIGUOUS = re.compile(r"\\[nrt]")


def writer_field(text: str) -> str:
    """The Text field as 1.0's escapeString writes it, quoted."""
    out = (text.replace('"', '""').replace("\r\n", "\\r\\n").replace("\n", "\\n")
           .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{out}"'


def unambiguous(alphabet: st.SearchStrategy[str], max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=min_size, max_size=max_size).filter(lambda s: not AMBIGUOUS.search(s))


ANY_CHAR = st.characters(blacklist_categories=("Cs",))
BMP_CHAR = st.characters(blacklist_categories=("Cs",), max_codepoint=0xFFFF)
TRICKY = st.sampled_from(['\t', '\n', '\r', '"', ',', '\\', ' ', 'x', 'é', '\u2028', '\x0c'])


@settings(max_examples=300, deadline=None)
@given(unambiguous(st.one_of(ANY_CHAR, TRICKY), 40))
def test_escape_round_trip(text: str) -> None:
    assert unescape(escape(text)) == text
    assert unescape(writer_field(text)[1:-1].replace('""', '"')) == text


@settings(max_examples=60, deadline=None)
@given(unambiguous(st.one_of(ANY_CHAR, TRICKY), 60))
def test_a_tab_row_written_by_1_0_imports_its_exact_text(text: str) -> None:
    with TemporaryDirectory() as tmp:
        src = Path(tmp) / "s.csv"
        src.write_text(HEADER + f'1,0,"a.py",0,0,{writer_field(text)},python,tab\n'
                       f'2,5,"a.py",0,0,"",python,selection_mouse\n', encoding="utf-8")
        events, problems = import_cc1(src)
    contents = [e["text"] for e in events if e["kind"] == "file_content"]
    assert problems == []
    assert contents == ([text] if text else [])


# --- whole sessions against the anchors' rules -------------------------------------------

FILES = ("a.py", "b.py")


@st.composite
def sessions(draw: st.DrawFn) -> list[tuple]:
    """Rows (type, file, offset, length, text) valid against the state they are applied to."""
    state: dict[str, str] = {}
    rows: list[tuple] = []
    text = unambiguous(st.one_of(BMP_CHAR, TRICKY), 12)
    whole = unambiguous(st.one_of(BMP_CHAR, TRICKY), 12, min_size=1)  # a tab row's full text
    for _ in range(draw(st.integers(1, 14))):
        known = [f for f in FILES if f in state]
        choice = draw(st.sampled_from(["tab", "edit", "edit", "checkout"] if known else ["tab"]))
        if choice == "tab":
            name = draw(st.sampled_from(FILES))
            body = draw(whole) if name not in state else draw(st.one_of(st.just(""), whole))
            if body:
                state[name] = body
            rows.append(("tab", name, 0, 0, body))
        elif choice == "edit":
            name = draw(st.sampled_from(known))
            cur = state[name]
            start = draw(st.integers(0, len(cur)))
            length = draw(st.integers(0, len(cur) - start))
            new = draw(text)
            state[name] = cur[:start] + new + cur[start + length:]
            rows.append(("content", name, start, length, new))
        else:
            rows.append(("git_branch_checkout", "", 0, 0, "Switched from branch 'main' to 'dev'"))
            for name in known:                       # 1.0 re-sends whole texts after a checkout
                body = draw(whole)
                state[name] = body
                rows.append(("tab", name, 0, 0, body))
    return rows


def anchors_replay(csv_text: str) -> dict[str, str]:
    """The anchors' rules, from their description: rows in file order, Time ignored, a tab
    with text replaces the file, a content row splices at a character offset."""
    import csv
    import io

    files: dict[str, str] = {}
    for rec in csv.DictReader(io.StringIO(csv_text)):
        body = rec["Text"].replace("\\n", "\n").replace("\\r", "\r").replace("\\t", "\t")
        if rec["Type"] == "tab" and rec["Text"]:
            files[rec["File"]] = body
        elif rec["Type"] == "content":
            cur = files.get(rec["File"], "")
            off, ln = int(rec["RangeOffset"]), int(rec["RangeLength"])
            files[rec["File"]] = cur[:off] + body + cur[off + ln:]
    return files


@settings(max_examples=60, deadline=None)
@given(sessions(), st.booleans())
def test_import_reaches_the_same_files_as_the_anchors(rows: list[tuple], bad_time: bool) -> None:
    lines = [HEADER]
    for seq, (kind, name, offset, length, body) in enumerate(rows, start=1):
        time = "n/a" if bad_time else str(seq * 100)
        lines.append(f'{seq},{time},"{name}",{offset},{length},{writer_field(body)},python,{kind}\n')
    csv_text = "".join(lines)
    with TemporaryDirectory() as tmp:
        src = Path(tmp) / "s.csv"
        src.write_text(csv_text, encoding="utf-8")
        events, _ = import_cc1(src)
    state = ReplayState()
    for ev in events:
        state.apply(ev)
    ours = {name: doc.text for name, doc in state.files.items()}
    assert ours == anchors_replay(csv_text)
