"""The evidence decisions wait for, piece by piece: folder operations of the explorer, the
terminal command running at a write, stamps of the bridge's events, process start times
from /proc, names that are not UTF-8, and a workspace opened through symlinks."""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

from crowd.format import read_recording
from crowd.server.attribution.agents import AgentScanner, start_ns
from crowd.server.attribution.editor_state import EditorState, _event_ns
from crowd.server.watch import MemoryBaseline
from crowd.server.workspace import WorkspaceCache, WorkspaceFolders
from crowd.server.workspace.folders import path_to_uri
from crowd.text.document import DocumentStore
from tests.attribution.in_process import attribution_session
from tests.helpers.agents import make_agent
from tests.helpers.waiting import wait_for


def _state(root: Path) -> EditorState:
    session = SimpleNamespace(documents=DocumentStore(), workspace=WorkspaceCache(WorkspaceFolders([(None, root)])))
    return EditorState(session, MemoryBaseline(), ("claude",), lambda: None)


def test_a_folder_op_explains_every_file_below_it(tmp_path: Path) -> None:
    state = _state(tmp_path)
    state.on_event({"kind": "file_op", "op": "rename", "files": [
        {"oldUri": path_to_uri(tmp_path / "pkg"), "newUri": path_to_uri(tmp_path / "lib")}]})
    assert state.take_file_op("rename", "lib/sub/a.py", "pkg/sub/a.py")
    assert state.take_file_op("rename", "lib/b.py", "pkg/b.py")            # the folder's op stays for the rest
    assert not state.take_file_op("rename", "lib/b.py", "other/b.py")       # not from the folder renamed
    assert not state.take_file_op("rename", "libx/b.py", "pkgx/b.py")       # a prefix is not a folder
    assert state.woke("lib/sub/a.py") and not state.woke("elsewhere.py")
    state.on_event({"kind": "file_op", "op": "delete", "files": [{"uri": path_to_uri(tmp_path / "old")}]})
    assert state.take_file_op("delete", "old/x/y.txt", None)
    assert not state.take_file_op("create", "old/x/y.txt", None)


def test_the_command_started_last_is_the_writer(tmp_path: Path) -> None:
    state = _state(tmp_path)
    now_ms = time.time() * 1000
    state.on_event({"kind": "terminal_exec_start", "terminal": "t1", "command": "claude", "time": now_ms - 5000})
    state.on_event({"kind": "terminal_exec_start", "terminal": "t2", "command": "black a.py", "time": now_ms - 100})
    assert state.command_at(time.monotonic_ns() - 50_000_000) == ("black a.py", None)
    assert state.command_at(time.monotonic_ns() - 1_000_000_000) == ("claude", "claude")   # before black started
    state.on_event({"kind": "terminal_exec_end", "terminal": "t2", "time": time.time() * 1000})
    assert state.command_at(time.monotonic_ns()) == ("black a.py", None)   # a write seen just after the end
    later = time.monotonic_ns() + 150_000_000
    assert state.command_at(later) == ("claude", "claude")                 # black has ended
    state.on_event({"kind": "terminal_exec_end", "terminal": "t1", "time": time.time() * 1000})
    assert state.command_at(later + 10_000_000) is None


def test_bridge_stamps_place_events_in_the_past_and_bad_stamps_are_ignored() -> None:
    before = time.monotonic_ns()
    assert before - 250_000_000 <= _event_ns({"time": time.time() * 1000 - 200}) <= before - 150_000_000
    for bad in (None, "x", True, time.time() * 1000 + 60_000, 0):
        assert _event_ns({"time": bad}) >= before


def test_process_start_time_from_proc_is_when_it_started() -> None:
    proc = subprocess.Popen(["sleep", "5"])
    try:
        stat = Path(f"/proc/{proc.pid}/stat").read_text()
        ticks = int(stat[stat.rindex(")") + 2:].split()[19])
        assert abs(start_ns(ticks) - time.monotonic_ns()) < 2_000_000_000
    finally:
        proc.kill()
        proc.wait()


def test_a_write_before_an_agent_started_is_not_the_agents(tmp_path: Path) -> None:
    """``black f.py && claude``: the agent is first seen after the write, but /proc says
    it started after it too (the sample interval no longer reaches back 0.3 s)."""
    written = time.monotonic_ns()
    time.sleep(0.05)   # the write is well before the agent's start (not a race with the clock)
    agent = make_agent(tmp_path / "bin", "claude")
    proc = subprocess.Popen([str(agent), "[]"], cwd=tmp_path, env={**os.environ, "AGENT_THINK": "2"})
    try:
        scanner = AgentScanner(("claude",), folders=lambda: [str(tmp_path)], interval=0.05)
        scanner.start()
        try:
            wait_for(lambda: scanner.running() == ["claude"], what="the agent seen")
            assert scanner.agent_at(written) is None
            assert scanner.agent_at(time.monotonic_ns()) == "claude"
        finally:
            scanner.stop()
    finally:
        proc.kill()
        proc.wait()


def _changes(tmp_path: Path) -> list[dict]:
    events = read_recording(next((tmp_path / "rec").iterdir())).events
    return [e for e in events if e.get("kind") in ("file_change", "error")]


def test_a_name_that_is_not_utf8_is_recorded_with_a_note(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    session, component = attribution_session(tmp_path, root)
    try:
        with open(os.path.join(os.fsencode(root), b"caf\xe9.txt"), "wb") as fh:
            fh.write(b"hello\n")
        wait_for(lambda: component.engine.stats.get("external"), what="the change decided")
    finally:
        session.stop()
    changes = [e for e in _changes(tmp_path) if e.get("kind") == "file_change"]
    assert [c["file"] for c in changes] == ["caf\ufffd.txt"]
    assert changes[0]["name_hex"] == [b"caf\xe9.txt".hex()] and "not valid UTF-8" in changes[0]["name_note"]
    assert "+hello" in changes[0]["diff"]


def test_workspace_opened_through_a_symlink_with_a_linked_subfolder(tmp_path: Path) -> None:
    real, shared = tmp_path / "real" / "ws", tmp_path / "elsewhere" / "shared"
    real.mkdir(parents=True)
    shared.mkdir(parents=True)
    (shared / "x.py").write_text("x = 1\n")
    os.symlink(shared, real / "sub")
    os.symlink(real, tmp_path / "link")
    session, component = attribution_session(tmp_path, tmp_path / "link")
    try:
        (tmp_path / "link" / "sub" / "x.py").write_text("x = 2\n")
        (shared / "new.py").write_text("n = 1\n")
        wait_for(lambda: component.engine.stats.get("external", 0) >= 2, what="both changes decided")
        assert session.workspace.rel_path(str(tmp_path / "link" / "sub" / "x.py")) == "sub/x.py"
    finally:
        session.stop()
    got = {(c["file"], c["change"]) for c in _changes(tmp_path) if c.get("kind") == "file_change"}
    assert got == {("sub/x.py", "change"), ("sub/new.py", "create")}, json.dumps(_changes(tmp_path))


def test_an_edit_stamped_well_after_the_write_followed_the_disk(tmp_path: Path) -> None:
    from crowd.server.attribution.engine import followed_disk

    f = tmp_path / "f.txt"
    f.write_text("x\n")
    written_ms = f.stat().st_mtime_ns / 1e6
    assert followed_disk({"time": written_ms + 150}, str(f))            # a reload, 150 ms after
    assert not followed_disk({"time": written_ms - 5}, str(f))          # typed before the save wrote it
    assert not followed_disk({"time": written_ms + 2}, str(f))          # too close to tell
    assert not followed_disk({}, str(f)) and not followed_disk({"time": "x"}, str(f))
    assert not followed_disk({"time": written_ms + 150}, str(tmp_path / "gone"))
