"""The attribution component inside a real core Session in this process (no sidecar
subprocess), for the tests that look at the component's cache or at the stop ordering."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from crowd.server.attribution.component import AttributionComponent
from crowd.server.session import Session
from crowd.server.workspace import WorkspaceCache, WorkspaceFolders

SPEC = "crowd.server.attribution.component:AttributionComponent"


def attribution_session(tmp_path: Path, root: Path, settings: dict[str, Any] | None = None,
                        ) -> tuple[Session, AttributionComponent]:
    """A consenting Session recording ``root`` into ``tmp_path/rec``, its attribution ready."""
    cache = WorkspaceCache(WorkspaceFolders([(None, root)]))
    cache.start_scan()
    session = Session(cache, recordings_dir=tmp_path / "rec", consent=True, component_factories=[SPEC],
                      settings=settings)
    session.set_consent(True)
    component = next(c for c in session.components if isinstance(c, AttributionComponent))
    assert component.wait_ready(60)
    return session, component
