"""EditorState on the core's real DocumentStore and WorkspaceCache: edit sources from
signals, UI file operations, terminal commands naming agents."""
from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

from crowd.server.attribution.decision import Decision
from crowd.server.attribution.editor_state import EditorState
from crowd.text.document import DocumentStore
from crowd.server.watch import MemoryBaseline
from crowd.server.workspace import WorkspaceCache, WorkspaceFolders
from crowd.server.workspace.folders import path_to_uri

NAMES = ("claude", "codex", "aider")


def _state(tmp_path: Path) -> tuple[EditorState, SimpleNamespace, list[int]]:
    (tmp_path / "a.py").write_text("x\n")
    session = SimpleNamespace(documents=DocumentStore(), workspace=WorkspaceCache(WorkspaceFolders([(None, tmp_path)])))
    ended: list[int] = []
    state = EditorState(session, MemoryBaseline(), NAMES, lambda: ended.append(1))
    return state, session, ended


def _edit(uri: str, **kw) -> dict:
    return {"kind": "document_change", "uri": uri, "changes": [], **kw}


def test_sources_from_signals(tmp_path: Path) -> None:
    state, session, ended = _state(tmp_path)
    uri = path_to_uri(tmp_path / "a.py")
    session.documents.open(uri, "a.py", "x\n")
    assert state.classify(_edit(uri, reason="undo")) == ("user", None)
    assert state.classify(_edit(uri)) is None                    # no typing signals: the core decides
    state.on_event({"kind": "user_input", "what": "terminal"})
    assert state.classify(_edit(uri)) is None                    # terminal input licenses nothing
    state.on_event({"kind": "user_input", "what": "type"})
    assert ended                                                 # user activity ends an agent batch
    assert state.classify(_edit(uri)) == ("user", None)          # the keystroke's own edit
    assert state.classify(_edit(uri)) == ("agent", None)         # nothing licensed it
    state.on_event({"kind": "user_input", "what": "keybinding"})
    assert [state.classify(_edit(uri)) for _ in range(5)] == [("user", None)] * 4 + [("agent", None)]
    state.on_event({"kind": "editor_command", "command": "editor.action.rename", "phase": "start"})
    assert all(state.classify(_edit(uri)) == ("user", None) for _ in range(10))
    state.on_event({"kind": "editor_command", "command": "editor.action.rename", "phase": "end"})


def test_keystrokes_ahead_of_their_edits_each_license_one(tmp_path: Path) -> None:
    """Fast typing: the extension host may see several keystrokes before the first edit comes
    back from the renderer; every keystroke's edit is the user's, one more edit is not."""
    state, session, _ = _state(tmp_path)
    uri = path_to_uri(tmp_path / "a.py")
    session.documents.open(uri, "a.py", "x\n")
    for what in ("type", "type", "paste", "key"):
        state.on_event({"kind": "user_input", "what": what})
    assert [state.classify(_edit(uri)) for _ in range(5)] == [("user", None)] * 4 + [("agent", None)]


def _insert(uri: str, text: str) -> dict:
    return _edit(uri, changes=[{"offset": 0, "length": 0, "text": text}])


def test_typed_text_must_be_in_the_edit_it_licenses(tmp_path: Path) -> None:
    """A ``type`` signal carries its text: an agent's insertion does not fit a keystroke's
    license, and a keystroke that made no edit (typing over an auto-closed ')') is retired
    by the user's next edit instead of licensing an agent's."""
    state, session, _ = _state(tmp_path)
    uri = path_to_uri(tmp_path / "a.py")
    session.documents.open(uri, "a.py", "x\n")
    state.on_event({"kind": "user_input", "what": "type", "text": "("})
    assert state.classify(_insert(uri, "()")) == ("user", None)            # auto-closed pair
    state.on_event({"kind": "user_input", "what": "type", "text": ")"})     # types over: no edit
    state.on_event({"kind": "user_input", "what": "type", "text": "\n"})
    assert state.classify(_insert(uri, "\n    ")) == ("user", None)        # newline + indentation
    assert state.classify(_insert(uri, "x = f(y)")) == ("agent", None)     # the ')' license is gone
    state.on_event({"kind": "user_input", "what": "type", "text": "q"})
    assert state.classify(_insert(uri, "# agent line\n")) == ("agent", None)
    assert state.classify(_insert(uri, "q")) == ("user", None)
    state.on_event({"kind": "user_input", "what": "key"})                  # Backspace: any edit
    assert state.classify(_edit(uri, changes=[{"offset": 0, "length": 1, "text": ""}])) == ("user", None)


def test_a_keybindings_further_edits_must_come_with_its_first(tmp_path: Path, monkeypatch) -> None:
    """Accepting a completion may edit twice at once (text + auto-import); an inline agent's
    edit 0.1 s later is not part of it."""
    from crowd.server.attribution import editor_state

    clock = [1000.0]
    monkeypatch.setattr(editor_state.time, "monotonic", lambda: clock[0])
    state, session, _ = _state(tmp_path)
    uri = path_to_uri(tmp_path / "a.py")
    session.documents.open(uri, "a.py", "x\n")
    state.on_event({"kind": "user_input", "what": "type", "text": "v"})
    assert state.classify(_insert(uri, "v")) == ("user", None)
    state.on_event({"kind": "user_input", "what": "keybinding", "command": "acceptSelectedSuggestion"})
    clock[0] += 0.1
    assert state.classify(_insert(uri, "value")) == ("user", None)                 # the completion
    assert state.classify(_insert(uri, "import value\n")) == ("user", None)        # its auto-import, same tick
    clock[0] += 0.1
    assert state.classify(_insert(uri, "# agent-4 wrote this\n")) == ("agent", None)
    # a keybinding pressed on line 3: an agent's insertion on line 0 arriving first is not its edit
    session.documents.open(uri, "a.py", "a\nb\nc\nd\ne\n")
    state.on_event({"kind": "user_input", "what": "keybinding", "command": "acceptSelectedSuggestion", "lines": [3, 3]})
    assert state.classify(_insert(uri, "# agent\n")) == ("agent", None)
    assert state.classify(_edit(uri, changes=[{"offset": 6, "length": 1, "text": "done"}])) == ("user", None)


def test_reload_edit_takes_the_writers_source(tmp_path: Path) -> None:
    state, session, _ = _state(tmp_path)
    uri = path_to_uri(tmp_path / "a.py")
    doc = session.documents.open(uri, "a.py", "x\n")
    state.expect_reload("a.py", "y\n", Decision("git_checkout"))
    doc.set_text("y\n")                                        # the core applied the reload edit
    assert state.classify(_edit(uri)) == ("git_checkout", None)
    assert state.classify(_edit(uri)) is None                  # only once


def test_file_ops_match_once_and_expire(tmp_path: Path) -> None:
    state, _, _ = _state(tmp_path)
    uri = path_to_uri(tmp_path / "n.py")
    state.on_event({"kind": "file_op", "op": "create", "files": [{"uri": uri}]})
    assert "n.py" in state.woken
    assert not state.take_file_op("delete", "n.py", None)
    assert state.take_file_op("create", "n.py", None)
    assert not state.take_file_op("create", "n.py", None)
    state.on_event({"kind": "file_op", "op": "delete", "files": [{"uri": uri}]})
    op = state._file_ops["n.py"]
    state._file_ops["n.py"] = (op[0], op[1], time.monotonic() - 3600)   # an hour old: never matched
    assert not state.take_file_op("delete", "n.py", None)


def test_terminal_commands_name_agents(tmp_path: Path) -> None:
    state, _, _ = _state(tmp_path)
    before = time.monotonic_ns()
    state.on_event({"kind": "terminal_exec_start", "terminal": "t1", "command": "FOO=1 npx claude -p 'fix'"})
    state.on_event({"kind": "terminal_exec_start", "terminal": "t2", "command": "ls claude/"})
    assert state.command_agent_at(time.monotonic_ns()) == "claude"
    assert state.command_agent_at(before - 1) is None
    assert state.running_command() == "ls claude/"
    state.on_event({"kind": "terminal_exec_end", "terminal": "t1"})
    later = time.monotonic_ns() + 1
    assert state.command_agent_at(later) is None
