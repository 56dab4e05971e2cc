"""Secrets never reach a snapshot blob: file text passes through the session's redactor first.

WHY here and not in the store: the store is content-addressed over whatever bytes it is
given, and redaction needs the session (its redactor, and the recording that must say what
was removed). ``SnapshotStore.take(..., scrub=scrubber.scrub)`` calls ``scrub(rel, data)``
on its background writer for every new content before storing it: UTF-8 text is replaced by
``Redactor.scrub_text(text, rel)``'s text (each secret becomes ``[REDACTED:<kind>]``), and
every finding becomes a ``redaction`` note (``what``, ``where: "snapshot"``, ``file``,
``offset``, ``length`` in characters of the file's text, ``snapshot_id``) that the recorder
writes after the ``snapshot`` event. Content without findings is returned as the very same
bytes, so a restored file without secrets is byte-identical. This runs on the writer, not in
the caller's thread. The detector reads 40-60 MB/s per core (it read about 1 MB/s before issue
16, so the first snapshot of a 69 MB workspace reached disk minutes after it was taken); what
remains of a first snapshot's time is the store writing one blob file per file
(``python -m bench privacy`` prints both shares).

**Fail closed**, as the recording pipeline does for events (crowd.pipeline): when the
redactor could not be built (``RedactorUnavailable``) or raises on a file's text, ``scrub``
returns None and the store withholds that content (no blob; the manifest lists the path
under ``withheld``). ``take_errors`` then gives one message per reason for the recorder to
write as a ``session``/``error`` event; a message names the reason (the exception's class,
never its text, which could quote the secret), the snapshot and the files.

Not scrubbed: content that is not UTF-8. Binary files are stored as they are, with or without
a redactor, since the redactor never reads them; secret files by name never get here (see
``is_secret_path``).

A file's findings are noted once per content: scrubbing the same content of a path again
(the full comparison after a panic notes again, see ``forget``) records no second note.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from crowd.pipeline import RedactorUnavailable
from crowd.privacy import Redactor

log = logging.getLogger(__name__)

NAMED_FILES = 5     # an error message names this many withheld files, then counts the rest


class SnapshotScrubber:
    """The session's redactor applied to snapshot content, with the notes it produced.

    ``redactor`` is what the session records with when redaction is wanted: a ``Redactor``,
    or a ``RedactorUnavailable`` (every text content is withheld). When the user turned
    redaction off there is no scrubber at all.
    """

    def __init__(self, redactor: Redactor | RedactorUnavailable) -> None:
        self.redactor = redactor
        self._lock = threading.Lock()
        self._notes: list[dict[str, Any]] = []
        self._withheld: dict[str, list[str]] = {}     # why -> files withheld since take_errors
        # rel -> (hash, length) of the content whose findings were last noted
        self._noted: dict[str, tuple[int, int]] = {}

    def scrub(self, rel: str, data: bytes) -> bytes | None:
        """``data`` with every secret replaced by its marker (the same object if none);
        None when the text cannot be scrubbed and must not be stored."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        redactor = self.redactor
        if isinstance(redactor, RedactorUnavailable):
            self._withhold(rel, f"no redactor ({redactor.reason})")
            return None
        try:
            new_text, findings = redactor.scrub_text(text, rel)
        except Exception as exc:  # noqa: BLE001 - fail closed: this content is not stored
            log.exception("redaction failed on a snapshot file; its content is not written")
            self._withhold(rel, f"redaction failed ({type(exc).__name__})")
            return None
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

    def _withhold(self, rel: str, why: str) -> None:
        with self._lock:
            self._withheld.setdefault(why, []).append(rel)

    def take_notes(self, snapshot_id: str | None = None) -> list[dict[str, Any]]:
        """The findings since the last call (the recorder writes them as ``redaction`` events,
        after the ``snapshot`` event, naming the snapshot they were found for)."""
        with self._lock:
            notes, self._notes = self._notes, []
        if snapshot_id is not None:
            notes = [{**n, "snapshot_id": snapshot_id} for n in notes]
        return notes

    def take_errors(self, snapshot_id: str) -> list[str]:
        """One message per reason for the content withheld since the last call (the recorder
        writes each as a ``session``/``error`` event after the ``snapshot`` event)."""
        with self._lock:
            withheld, self._withheld = self._withheld, {}
        messages = []
        for why, files in withheld.items():
            files = sorted(files)
            named = ", ".join(files[:NAMED_FILES])
            more = f" and {len(files) - NAMED_FILES} more" if len(files) > NAMED_FILES else ""
            count = "1 file was" if len(files) == 1 else f"{len(files)} files were"
            messages.append(f"{why}: the content of {count} not written to snapshot {snapshot_id} "
                            f"({named}{more})")
        return messages

    def forget(self) -> None:
        """After a panic: the notes were deleted with the events, note again when re-read."""
        with self._lock:
            self._notes = []
            self._withheld = {}
            self._noted.clear()
