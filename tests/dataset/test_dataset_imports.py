"""Datasets from crowd-code 2.0 imports hold what the person did (issue 15, "Datasets from imports").

Before: SED conversations of a 2.0 import held none of the user's edits (the converter wrote
a ``sed -i`` only for files it knew in full, and 2.0 records no file contents), and
next-action sequences dropped every 2.0 selection (imported with ``selections: []``).
The sessions are written as 2.0 writes them (tests/helpers/cc2_files.py).
"""
from __future__ import annotations

import subprocess

from crowd.serializer.dataset.next_action import sequence_chunks
from crowd.serializer.dataset.sed import convert_sed
from crowd.serializer.interop.cc2_import import import_cc2

from tests.helpers.cc2_files import Session

LONG = "\n".join(f"line {i}" for i in range(60)) + "\n"


def _typing_session() -> Session:
    s = Session()
    s.action("tab_switch", file="long.py", previousFile=None)
    s.observe("long.py", LONG, 1, 30)                          # the editor is 30 lines high
    text = "def f():\n    return 1\n"
    s.action("tab_switch", file="m.py", previousFile="long.py")
    s.observe("m.py", text)                                    # the whole of m.py
    for i, ch in enumerate("42"):
        s.action("edit", file="m.py", diff={"rangeOffset": 20 + i, "rangeLength": 1 if i == 0 else 0, "text": ch})
        text = text[:20 + i] + ch + text[20 + i + (1 if i == 0 else 0):]
        s.observe("m.py", text, cursor=(1, 12 + i))
    s.action("selection", file="m.py", selectionStart={"line": 0, "character": 4},
             selectionEnd={"line": 0, "character": 5}, selectedText="f")
    s.observe("m.py", text, cursor=(0, 5))
    # long.py is known from line 1 to 30 only: an edit on its line 3 is still the user's edit
    s.action("tab_switch", file="long.py", previousFile="m.py")
    s.observe("long.py", LONG, 1, 30)
    s.action("edit", file="long.py", diff={"rangeOffset": 14, "rangeLength": 6, "text": "LINE 2"})
    s.observe("long.py", LONG.replace("line 2\n", "LINE 2\n", 1), 1, 30, cursor=(2, 6))
    # a selection far below what was ever seen of long.py: kept by 2.0's own positions
    s.observe("long.py", LONG, 41, 60)
    s.action("selection", file="long.py", selectionStart={"line": 44, "character": 0},
             selectionEnd={"line": 44, "character": 4}, selectedText="line")
    return s


def test_sed_conversations_of_an_import_hold_the_users_edits(tmp_path, qwen):
    events, _ = import_cc2(_typing_session().write(tmp_path))
    rows = convert_sed(events, "s", qwen)
    said = "\n".join(m["content"] for r in rows for m in r["messages"] if m["role"] == "assistant")
    assert "sed -i '2,2c\\\n    return 42' m.py" in said
    assert "sed -i '3,3c\\\nLINE 2' long.py" in said
    # each generated command really makes the edit on the file as it was (GNU sed)
    (tmp_path / "m.py").write_text("def f():\n    return 1\n")
    script = said[said.index("sed -i '2,2c"):].split(" && ")[0]
    subprocess.run(["bash", "-c", script], cwd=tmp_path, check=True)
    assert (tmp_path / "m.py").read_text() == "def f():\n    return 42\n"


def test_next_action_sequences_keep_2_0_selections(tmp_path, qwen):
    events, _ = import_cc2(_typing_session().write(tmp_path))
    text = "".join(qwen.decode(c["input_ids"]) for c in sequence_chunks(events, qwen, 8192))
    assert "@cursor m.py 1:5-1:6" in text                     # known file: from the offsets
    assert "@cursor long.py 45:1-45:5" in text                # unknown there: 2.0's positions
    assert "@file m.py" not in text and "@file long.py" not in text   # viewport inferences: @view has them
