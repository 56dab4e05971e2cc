"""crowd-code 2.0 events with any field of any JSON type: import reports, never crashes.

A valid session (every action kind, an observation with viewport and terminal, a snapshot)
is written as 2.0 writes it, then 1-3 of its fields, anywhere, are replaced by a value of
the wrong type. Before ``cc2_clean``, 400 such mutants raised 16 different exceptions out of
``import_cc2`` (TypeError, AttributeError, ValueError: the whole session lost).
"""
from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.serializer.interop.cc2_import import Cc2ImportError, import_cc2
from crowd.serializer.replay.state import ReplayState

from tests.helpers.cc2_files import Session

WRONG = [None, "x", -1, 10 ** 30, 1.5, [], {}, True, [1, 2], {"line": "a"}, "\ud800"]


def _base() -> Session:
    s = Session()
    s.action("tab_switch", file="a.py", previousFile=None)
    s.observe("a.py", "one\ntwo\n", cursor=(0, 1), terminal=["$ ls", "x\r"])
    s.action("edit", file="a.py", diff={"rangeOffset": 1, "rangeLength": 1, "text": "Z"})
    s.action("selection", file="a.py", selectionStart={"line": 0, "character": 1},
             selectionEnd={"line": 1, "character": 2}, selectedText="x")
    s.action("terminal_focus", terminalId="terminal-1", terminalName="zsh")
    s.action("terminal_command", terminalId="terminal-1", terminalName="zsh", command="ls")
    s.action("file_change", file="a.py", changeType="change", diff="@@ -1 +1 @@\n-oZe\n+ONE\n", source="agent")
    s._add("workspace_snapshot", snapshotId="snapshot_001")
    return s


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in items:
        out.append(prefix + (key,))
        out.extend(_paths(child, prefix + (key,)))
    return out


PATHS = _paths(_base().events)


def test_the_valid_session_imports_without_problems(tmp_path):
    events, problems = import_cc2(_base().write(tmp_path))
    assert [p for p in problems if "snapshot file missing" not in p] == []
    assert sum(e["kind"] == "edit" for e in events) == 1


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.sampled_from(WRONG)), min_size=1, max_size=3))
def test_any_field_of_any_type_is_reported_not_raised(tmp_path_factory, mutations):
    s = _base()
    s.events = copy.deepcopy(s.events)
    for path, value in mutations:
        target: Any = s.events
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed the way there
    try:
        folder = s.write(tmp_path_factory.mktemp("cc2"))
    except (UnicodeEncodeError, TypeError):
        return  # not writable as JSON text at all: nothing for an importer to read
    try:
        events, problems = import_cc2(folder)
    except Cc2ImportError:
        return
    assert all(isinstance(p, str) for p in problems)
    state = ReplayState()
    for ev in events:                                     # and what was imported replays
        state.apply(ev)
    json.dumps(events)
