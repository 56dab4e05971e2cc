"""The attribution component inside a real core Session in this process (no sidecar
subprocess), for the tests that look at the component's cache or at the stop ordering."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from crowd.server.attribution.component import AttributionComponent
from crowd.server.session import Session
from crowd.server.workspace import WorkspaceCache, WorkspaceFolders
from tests.helpers.waiting import wait_for

SPEC = "crowd.server.attribution.component:AttributionComponent"


def attribution_session(tmp_path: Path, root: Path, settings: dict[str, Any] | None = None,
                        redactor_factory: Callable[[], Any] | None = None,
                        ) -> tuple[Session, AttributionComponent]:
    """A consenting Session recording ``root`` into ``tmp_path/rec``, its attribution ready
    (its redactor built by ``redactor_factory`` when given)."""
    cache = WorkspaceCache(WorkspaceFolders([(None, root)]))
    cache.start_scan()
    session = Session(cache, recordings_dir=tmp_path / "rec", consent=True, component_factories=[SPEC],
                      settings=settings)
    if redactor_factory is not None:
        session.redactor_factory = redactor_factory
    session.set_consent(True)
    component = next(c for c in session.components if isinstance(c, AttributionComponent))
    assert component.wait_ready(60)
    return session, component


def agent_edit_and_snapshot(tmp_path: Path, root: Path, settings: dict[str, Any] | None = None,
                            redactor_factory: Callable[[], Any] | None = None) -> Session:
    """A named agent (announced through the terminal signal) edits ``plan.txt``, which takes
    a snapshot of the workspace just before; the blobs are flushed and the session stopped."""
    session, component = attribution_session(tmp_path, root, settings, redactor_factory)
    try:
        session.bus.publish({"kind": "terminal_exec_start", "terminal": "t", "command": "claude"})
        (root / "plan.txt").write_text("after the agent\n")
        wait_for(lambda: component.store is not None and component.store.list(), what="a snapshot")
        component.store.flush()
    finally:
        session.stop()
    return session
