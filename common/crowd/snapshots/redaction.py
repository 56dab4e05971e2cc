"""Secrets never reach a snapshot blob: file text passes through the session's redactor first.

WHY here and not in the store: the store is content-addressed over whatever bytes it is
given, and redaction needs the session (its redactor, and the recording that must say what
was removed). ``SnapshotStore.take(..., scrub=scrubber.scrub)`` calls ``scrub(rel, data)``
on its background writer for every new content before storing it: UTF-8 text is replaced by
``Redactor.scrub_text(text, rel)``'s text (each secret becomes ``[REDACTED:<kind>]``), and
every finding becomes a ``redaction`` note (``what``, ``where: "snapshot"``, ``file``,
``offset``, ``length`` in characters of the file's text, ``snapshot_id``) that the recorder
writes after the ``snapshot`` event. Content without findings is returned as the very same
bytes, so a restored file without secrets is byte-identical. The detectors read about 1 MB
of text per second, which is why this runs on the writer and not in the caller's thread.

Not scrubbed: content that is not UTF-8 (binary files are stored as they are; secret files by
name never get here, see ``is_secret_path``).

A file's findings are noted once per content: scrubbing the same content of a path again
(the full comparison after a panic notes again, see ``forget``) records no second note.
"""
from __future__ import annotations

import threading
from typing import Any


class SnapshotScrubber:
    """The session's redactor applied to snapshot content, with the notes it produced."""

    def __init__(self, redactor: Any) -> None:
        self.redactor = redactor
        self._lock = threading.Lock()
        self._notes: list[dict[str, Any]] = []
        # rel -> (hash, length) of the content whose findings were last noted
        self._noted: dict[str, tuple[int, int]] = {}

    def scrub(self, rel: str, data: bytes) -> bytes:
        """``data`` with every secret replaced by its marker (the same object if none)."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        new_text, findings = self.redactor.scrub_text(text, rel)
        if not findings:
            return data
        key = (hash(data), len(data))
        with self._lock:
            if self._noted.get(rel) != key:
                self._noted[rel] = key
                self._notes.extend({"what": f.kind, "where": "snapshot", "file": rel,
                                    "offset": f.start, "length": f.end - f.start}
                                   for f in findings)
        return new_text.encode("utf-8")

    def take_notes(self, snapshot_id: str | None = None) -> list[dict[str, Any]]:
        """The findings since the last call (the recorder writes them as ``redaction`` events,
        after the ``snapshot`` event, naming the snapshot they were found for)."""
        with self._lock:
            notes, self._notes = self._notes, []
        if snapshot_id is not None:
            notes = [{**n, "snapshot_id": snapshot_id} for n in notes]
        return notes

    def forget(self) -> None:
        """After a panic: the notes were deleted with the events, note again when re-read."""
        with self._lock:
            self._notes = []
            self._noted.clear()
