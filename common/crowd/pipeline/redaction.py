"""Opening the redactor, and saying why when it cannot be opened.

Recording without redaction because the redactor failed to construct would put secrets on
disk silently (fail open). Instead construction failures become a ``RedactorUnavailable``
value that the pipeline treats as a redactor that always fails: every event is withheld and
an ``error`` event says why. Only an explicit user setting (``redact: false``) records
unscrubbed text.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from crowd.privacy import Redactor

log = logging.getLogger(__name__)

WorkspaceRoots = Iterable[tuple[str, "str | Path"]]


@dataclass(frozen=True)
class RedactorUnavailable:
    """The redactor could not be constructed; ``reason`` names the error (no message text,
    which could quote what it was working on)."""

    reason: str


def open_redactor(roots: WorkspaceRoots = (), *,
                  factory: Callable[[], Redactor] = Redactor) -> Redactor | RedactorUnavailable:
    """A redactor that rewrites ``roots`` (``(recorded name, absolute root)``), or why not."""
    try:
        redactor = factory()
        redactor.set_workspace_roots(roots)
    except Exception as exc:  # noqa: BLE001 - reported as a value; the pipeline fails closed
        log.exception("the redactor could not be created; events will not be written")
        return RedactorUnavailable(type(exc).__name__)
    return redactor
