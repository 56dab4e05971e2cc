"""Scenarios: the user and inline agents in the editor, through a real sidecar over JSON-RPC.

Editor events are scripted (what the bridge sends); disk writes are real. Signals: the
bridge sends ``user_input`` for keystrokes/pastes and ``editor_command`` start/end around
commands the user runs; edits with neither are an inline agent's.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.attribution.harness import Sidecar, expect_edit_sources, expect_sources, judge
from tests.helpers.disk import DEMO_WORKSPACE, write_tree

FAMILY = "editor-user"
INLINE = "editor-inline-agent"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "ws", {**DEMO_WORKSPACE, "src/util.py": "def helper():\n    return 2\n"})


def test_user_types_and_saves(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        sc.open("src/app.py")
        sc.edit("src/app.py", 0, 0, "# hi\n")
        sc.edit("src/app.py", 5, 0, "import os\n")
        sc.save("src/app.py", "# hi\nimport os\ndef main():\n    return 1\n")
        events = sc.sync()
        expect_sources(FAMILY, sc.file_changes(events), {"src/app.py": None})
        expect_edit_sources(FAMILY, sc.edits("src/app.py", events), ["user", "user"])


def test_save_of_an_earlier_state_while_typing_goes_on(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        sc.open("src/app.py")
        sc.edit("src/app.py", 0, 0, "a")
        saved = "a" + (ws / "src/app.py").read_text()
        sc.edit("src/app.py", 1, 0, "b")   # typed after the save started
        (ws / "src/app.py").write_text(saved)  # the save of the state before "b" lands now
        sc.send({"kind": "document_save", "uri": sc.uri("src/app.py"), "version": 2})
        expect_sources(FAMILY, sc.file_changes(), {"src/app.py": None})


def test_save_arrives_before_the_last_edit_event(ws: Path, tmp_path: Path) -> None:
    """The disk write is seen before the bridge's batch with the last keystroke arrives."""
    with Sidecar(tmp_path, [ws]) as sc:
        sc.open("src/app.py")
        final = "X" + (ws / "src/app.py").read_text()
        (ws / "src/app.py").write_text(final)
        sc.edit("src/app.py", 0, 0, "X")
        sc.send({"kind": "document_save", "uri": sc.uri("src/app.py"), "version": 2})
        expect_sources(FAMILY, sc.file_changes(), {"src/app.py": None})


@pytest.mark.parametrize("command", ["editor.action.rename", "editor.action.formatDocument",
                                     "editor.action.replaceAll"])
def test_user_command_editing_beyond_the_viewport(ws: Path, tmp_path: Path, command: str) -> None:
    """crowd-code 2.0 called these agent edits (outside the viewport); they are the user's."""
    with Sidecar(tmp_path, [ws]) as sc:
        sc.open("src/app.py")
        sc.open("src/util.py")
        sc.command(command, "start")
        sc.edit("src/app.py", 4, 4, "run", user=False, visible=True)
        sc.edit("src/util.py", 4, 6, "aid", user=False, visible=False)
        sc.command(command, "end")
        app = (ws / "src/app.py").read_text().replace("main", "run", 1)
        util = (ws / "src/util.py").read_text().replace("helper", "aid", 1)
        sc.save("src/app.py", app)
        sc.save("src/util.py", util)
        events = sc.sync()
        expect_sources(FAMILY, sc.file_changes(events), {"src/app.py": None, "src/util.py": None})
        expect_edit_sources(FAMILY, sc.edits("src/app.py", events) + sc.edits("src/util.py", events), ["user", "user"])


def test_undo_is_user(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        sc.open("src/app.py")
        sc.edit("src/app.py", 0, 0, "x")
        sc.edit("src/app.py", 0, 1, "", user=False, reason="undo")
        events = sc.sync()
        expect_edit_sources(FAMILY, sc.edits("src/app.py", events), ["user", "user"])


def test_revert_does_not_poison_later_correlation(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        original = (ws / "src/app.py").read_text()
        sc.open("src/app.py")
        sc.edit("src/app.py", 0, 0, "junk ")
        sc.command("workbench.action.files.revert", "start")
        sc.edit("src/app.py", 0, 5, "", user=False)
        sc.command("workbench.action.files.revert", "end")
        subprocess.run([sys.executable, "-c", f"open({str(ws / 'src/app.py')!r}, 'a').write('# tool\\n')"], check=True)
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/app.py": ("external", None)})
        added = [l for l in changes[0]["diff"].splitlines() if l.startswith("+") and not l.startswith("+++")]
        assert added == ["+# tool"] and "junk" not in changes[0]["diff"]
        assert original in (ws / "src/app.py").read_text()


def test_close_without_saving_does_not_poison(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        sc.open("src/app.py")
        sc.edit("src/app.py", 0, 0, "unsaved ")
        sc.close_doc("src/app.py")
        subprocess.run([sys.executable, "-c", f"open({str(ws / 'src/app.py')!r}, 'a').write('# later\\n')"], check=True)
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/app.py": ("external", None)})
        assert "unsaved" not in changes[0]["diff"]


def test_ui_file_operations_are_user(ws: Path, tmp_path: Path) -> None:
    """crowd-code 2.0 recorded these as unknown; the editor says the user did them."""
    with Sidecar(tmp_path, [ws]) as sc:
        (ws / "src/new.py").write_text("")
        sc.send({"kind": "file_op", "op": "create", "files": [{"uri": sc.uri("src/new.py")}]})
        os.rename(ws / "src/util.py", ws / "src/helpers.py")
        sc.send({"kind": "file_op", "op": "rename",
                 "files": [{"oldUri": sc.uri("src/util.py"), "newUri": sc.uri("src/helpers.py")}]})
        (ws / "README.md").unlink()
        sc.send({"kind": "file_op", "op": "delete", "files": [{"uri": sc.uri("README.md")}]})
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/new.py": ("user", None), "src/helpers.py": ("user", None),
                                         "README.md": ("user", None)})
        assert len(changes) == 3, changes


def test_ui_file_op_reported_late(ws: Path, tmp_path: Path) -> None:
    """The bridge's file_op arrives after the watcher saw the new file."""
    with Sidecar(tmp_path, [ws]) as sc:
        (ws / "notes.md").write_text("n\n")
        sc.send({"kind": "window_focus", "focused": True})
        sc.send({"kind": "file_op", "op": "create", "files": [{"uri": sc.uri("notes.md")}]})
        expect_sources(FAMILY, sc.file_changes(), {"notes.md": ("user", None)})


# -- inline agents (edits through the editor API without user input) ------------------------

def test_inline_agent_edit_in_viewport(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        sc.open("src/app.py")
        sc.edit("src/app.py", 0, 0, "# typed\n")                     # user (signal)
        sc.edit("src/app.py", 0, 0, "# from the agent\n", user=False)  # inline agent, in the viewport
        events = sc.sync()
        expect_edit_sources(INLINE, sc.edits("src/app.py", events), ["user", "agent"])


def test_inline_agent_edits_other_files(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        sc.open("src/app.py")
        sc.open("src/util.py")
        sc.edit("src/app.py", 0, 0, "#\n")
        sc.edit("src/util.py", 0, 0, "# agent\n", user=False, visible=False)
        events = sc.sync()
        expect_edit_sources(INLINE, sc.edits("src/util.py", events), ["agent"])


def test_agent_save_while_user_edits_pending(ws: Path, tmp_path: Path) -> None:
    """User edits pending; an inline agent edits and saves: the user part stays the user's,
    the agent's edit is the agent's, and the save adds no misattributed file change."""
    with Sidecar(tmp_path, [ws]) as sc:
        text = (ws / "src/app.py").read_text()
        sc.open("src/app.py")
        sc.edit("src/app.py", 0, 0, "# user\n")
        sc.edit("src/app.py", len("# user\n" + text), 0, "# agent\n", user=False)
        sc.save("src/app.py", "# user\n" + text + "# agent\n")
        events = sc.sync()
        expect_sources(INLINE, sc.file_changes(events), {"src/app.py": None})
        expect_edit_sources(INLINE, sc.edits("src/app.py", events), ["user", "agent"])


def test_agent_writes_on_top_of_unsaved_user_edits(ws: Path, tmp_path: Path) -> None:
    """An agent that read the dirty buffer writes the file: only its part is the agent's."""
    with Sidecar(tmp_path, [ws]) as sc:
        text = (ws / "src/app.py").read_text()
        sc.open("src/app.py")
        sc.edit("src/app.py", 0, 0, "# user line\n")
        (ws / "src/app.py").write_text("# user line\n" + text + "# agent line\n")
        changes = sc.file_changes()
        expect_sources(INLINE, changes, {"src/app.py": ("agent", None)})
        diff = changes[0]["diff"]
        judge(INLINE, "+# agent line" in diff and "user line" not in diff.replace(" # user line", ""),
              "agent diff holds only the agent's part")
        assert "+# agent line" in diff and "+# user line" not in diff


def test_external_write_to_open_clean_document_and_its_reload(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        sc.open("src/app.py")
        sc.send({"kind": "user_input", "what": "type"})
        old = (ws / "src/app.py").read_text()
        subprocess.run(["sed", "-i", "s/return 1/return 42/", str(ws / "src/app.py")], check=True)
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/app.py": ("external", None)})
        # the editor reloads the unmodified document: that edit mirrors the disk, it is not the user's
        start = old.index("1\n")
        sc.send({"kind": "document_change", "uri": sc.uri("src/app.py"), "version": 2,
                 "changes": [{"offset": start, "length": 1, "text": "42"}], "reason": None,
                 "visible": True, "active": True})
        events = sc.sync()
        expect_edit_sources(FAMILY, sc.edits("src/app.py", events), ["external"])


def test_terminal_input_signal_does_not_turn_typing_into_agent_edits(ws: Path, tmp_path: Path) -> None:
    """The bridge reports terminal interaction as user_input (what: terminal) but sends no
    per-keystroke editor signal: editor edits keep the core's default (visible -> user)."""
    with Sidecar(tmp_path, [ws]) as sc:
        sc.open("src/app.py")
        sc.send({"kind": "user_input", "what": "terminal", "terminal": "t1"})
        sc.edit("src/app.py", 0, 0, "# typed without a keystroke signal\n", user=False)
        sc.send({"kind": "user_input", "what": "keybinding"})
        sc.edit("src/app.py", 0, 0, "#", user=False)
        events = sc.sync()
        expect_edit_sources(FAMILY, sc.edits("src/app.py", events), ["user", "user"])
