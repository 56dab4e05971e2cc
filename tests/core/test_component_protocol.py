"""Components implement the Component protocol, checked when they are created; the session
owns its terminal service (no registry shared between sessions)."""
from __future__ import annotations

from pathlib import Path

import pytest

from crowd.server.components import COMPONENT_FACTORIES, Component, create_component
from crowd.server.session import Session
from crowd.server.workspace import WorkspaceCache
from crowd.server.workspace.folders import WorkspaceFolders


class NotAComponent:
    def start(self, session: object) -> None: ...


def test_every_registered_component_implements_the_protocol() -> None:
    for spec in COMPONENT_FACTORIES:
        assert isinstance(create_component(spec), Component), spec


def test_an_object_without_the_protocol_is_refused() -> None:
    with pytest.raises(TypeError, match="did not create a component"):
        create_component(f"{__name__}:NotAComponent")


def test_each_session_owns_its_terminals(tmp_path: Path) -> None:
    sessions = [Session(WorkspaceCache(WorkspaceFolders([(None, tmp_path)])), recordings_dir=tmp_path / "rec")
                for _ in range(2)]
    try:
        assert all(s.terminals.summary() is None for s in sessions), "nothing is tracked before attach"
        trackers = [s.terminals.attach() for s in sessions]
        assert trackers[0] is not None and trackers[0] is not trackers[1]
        assert sessions[0].terminals.attach() is trackers[0], "attach is idempotent"
        trackers[0].hub.open("t1", "bash")
        assert set(sessions[0].terminals.summary() or {}) == {"t1"}
        assert sessions[1].terminals.summary() == {}
        assert sessions[0].terminals.foreground_programs() == {"t1": None}
    finally:
        for s in sessions:
            s.terminals.close()
    assert sessions[0].terminals.summary() is None


def test_terminals_are_not_tracked_without_the_terminal_component(tmp_path: Path) -> None:
    session = Session(WorkspaceCache(WorkspaceFolders([(None, tmp_path)])), recordings_dir=tmp_path / "rec",
                      component_factories=[])
    assert session.terminals.attach() is None
    assert session.terminals.foreground_programs() == {}
