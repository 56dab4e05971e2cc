"""The sidecar's pluggable parts, one line each, and the protocol they implement.

A component is an object with ``start(session)``, ``stop()`` and ``panic(cutoff_t)``
(delete everything of its own recorded at or after ``cutoff_t`` microseconds, in memory
and on disk). Entries are ``"module:callable"`` strings so that importing the core does
not import every component (and a broken component cannot stop the sidecar from
starting); the callable is called with no arguments and returns the component.
The session creates them when recording starts and stops them when it stops.

WHY a runtime-checkable protocol: components are loaded by name, so a typo or a half-written
component would otherwise fail later, inside ``start`` or at ``stop`` time, far from the
cause. ``create_component`` checks the object against ``Component`` when it is created.
Components do not look each other up: what one needs from another is offered by the session
through a typed attribute (``session.terminals`` for the terminals).

WHY ``SidecarSession`` and not ``Session``: what a component may use of the session is this
protocol (docs/architecture.md, "the sidecar's contract"), which ``crowd.server.session.Session``
implements. Components and the terminal service import it, never the session module: the
session creates them, so importing it back would be an import cycle.
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from crowd.pipeline import RecordingPipeline, RedactorUnavailable
    from crowd.privacy import Redactor
    from crowd.server.bus import EventBus
    from crowd.server.workspace import WorkspaceCache
    from crowd.terminal.hub import TerminalHub
    from crowd.text.document import DocumentStore

log = logging.getLogger(__name__)

EditClassifier = Callable[[dict[str, Any]], "tuple[str, str | None] | None"]


class Terminals(Protocol):
    """The session's terminal service (crowd.server.terminal.service.TerminalService)."""

    def tracked_hub(self) -> TerminalHub:
        """The terminals' hub, tracking from now on if it was not yet."""
        ...

    def foreground_programs(self) -> dict[str, str | None]:
        """{terminal id: program in its foreground} ({} when no terminal is tracked)."""
        ...


class SidecarSession(Protocol):
    """What components (and the terminal service) use of the recording session."""

    workspace: WorkspaceCache
    settings: dict[str, Any]
    bus: EventBus
    documents: DocumentStore
    edit_classifiers: list[EditClassifier]
    component_factories: list[str]
    terminals: Terminals
    directory: Path | None
    session_id: str | None
    consent: bool | None   # the user's recording consent: None until asked
    # what the recording pipeline scrubs with: a Redactor; RedactorUnavailable when it could
    # not be built (fail closed: what it would scrub is withheld); None when the user turned
    # redaction off (``redact: false``) or before recording starts
    redactor: Redactor | RedactorUnavailable | None
    # the recording's one path to disk (crowd.pipeline); None when not recording
    pipeline: RecordingPipeline | None

    @property
    def recording(self) -> bool: ...

    def now(self) -> tuple[int, int]: ...

    def record(self, type_: str, kind: str, **fields: Any) -> dict[str, Any] | None: ...

    def record_file_content(self, rel: str, text: str, *, force: bool = False) -> dict[str, Any] | None: ...

    def knows_content(self, rel: str, text: str | None = None) -> bool: ...

    def note_content(self, rel: str, text: str) -> None: ...


@runtime_checkable
class Component(Protocol):
    """One pluggable part of a recording (attribution, upload, terminal)."""

    def start(self, session: SidecarSession) -> None: ...

    def stop(self) -> None: ...

    def panic(self, cutoff_t: int) -> None: ...


# One line per component, e.g. "crowd.server.terminal.component:TerminalComponent".
COMPONENT_FACTORIES: list[str] = [
    "crowd.server.attribution.component:AttributionComponent",   # who changed what + snapshots
    "crowd.server.transfer.component:UploadComponent",           # queue finished files for upload
    "crowd.server.terminal.component:TerminalComponent",         # terminal screens at 10 Hz, commands
]


def load_factory(spec: str) -> Any:
    """Resolve ``"module:name"`` to that attribute (a component's factory, demo steps...)."""
    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module


def create_component(spec: str) -> Component:
    """Create the component named by ``spec``; TypeError when it is not a ``Component``."""
    component = load_factory(spec)()
    if not isinstance(component, Component):
        raise TypeError(f"{spec} did not create a component (start(session), stop(), panic(cutoff_t))")
    return component
