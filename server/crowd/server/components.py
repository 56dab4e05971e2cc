"""The sidecar's pluggable parts, one line each.

A component is an object with ``start(session)``, ``stop()`` and ``panic(cutoff_t)``
(delete everything of its own recorded at or after ``cutoff_t`` microseconds, in memory
and on disk). Entries are ``"module:callable"`` strings so that importing the core does
not import every component (and a broken component cannot stop the sidecar from
starting); the callable is called with no arguments and returns the component.
The session creates them when recording starts and stops them when it stops.
"""
from __future__ import annotations

import importlib
import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Component(Protocol):
    def start(self, session: Any) -> None: ...

    def stop(self) -> None: ...

    def panic(self, cutoff_t: int) -> None: ...


# One line per component, e.g. "crowd.server.terminal.component:TerminalComponent".
COMPONENT_FACTORIES: list[str] = [
    "crowd.server.attribution.component:AttributionComponent",   # who changed what + snapshots
    "crowd.server.transfer.component:UploadComponent",           # queue finished files for upload
    "crowd.server.terminal.component:TerminalComponent",         # terminal screens at 10 Hz, commands
]


def load_factory(spec: str):
    """Resolve ``"module:callable"`` to the callable."""
    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module
