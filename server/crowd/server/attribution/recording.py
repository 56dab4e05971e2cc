"""Writing decided disk changes into the recording: diffs, first-seen file texts, and a
snapshot of the workspace before the first change of each agent batch."""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crowd.server.attribution.adapters import CacheBaseline
from crowd.server.attribution.decision import Decision
from crowd.server.attribution.diffs import as_text, unified
from crowd.server.watch.batch import FsChange
from crowd.server.watch.content import Content
from crowd.server.workspace.ignore import is_valid_name
from crowd.snapshots.redaction import SnapshotScrubber

if TYPE_CHECKING:
    from crowd.server.components import SidecarSession

log = logging.getLogger(__name__)

BATCH_GAP_S = 2.0   # agent changes further apart than this start a new batch (a new snapshot)


class ChangeRecorder:
    """Callers serialise ``emit_all`` (the engine's emit lock); ``held`` lists the changes
    still undecided, which the workspace "just before" must not include yet."""

    def __init__(self, session: SidecarSession, baseline: CacheBaseline, snapshots: Any,
                 held: Callable[[], list[FsChange]]) -> None:
        self.session = session
        self.baseline = baseline
        self.snapshots = snapshots
        self.held = held
        # snapshot blobs are written outside SidecarSession.record: secrets are scrubbed here,
        # and content that cannot be scrubbed is withheld (None: the user turned redaction off)
        redactor = session.redactor
        self.scrubber = SnapshotScrubber(redactor) if redactor is not None else None
        self.stats: dict[str, int] = {}
        self.dirty: set[str] = set()          # paths changed since the last snapshot
        self._overlay: dict[str, Content | None] = {}
        self._in_batch = False
        self._batch_agent: str | None = None
        self._batch_last = 0.0

    def end_batch(self) -> None:
        self._in_batch = False

    def emit_all(self, decided: list[tuple[FsChange, Decision]]) -> None:
        # the workspace before these changes: a change that waited for evidence left the
        # held list, and the watcher has already moved the baseline past it
        self._overlay = {}
        for ch, _ in decided:
            if ch.old_rel:
                self._overlay.setdefault(ch.old_rel, ch.old)
                self._overlay.setdefault(ch.rel, None)
            else:
                self._overlay.setdefault(ch.rel, ch.old)
        try:
            for ch, decision in decided:
                self.emit(ch, decision)
                self._overlay[ch.rel] = ch.new
                if ch.old_rel:
                    self._overlay[ch.old_rel] = None
        finally:
            self._overlay = {}

    def emit(self, ch: FsChange, d: Decision) -> None:
        key = d.source + (f":{d.agent}" if d.agent else "")
        self.stats[key] = self.stats.get(key, 0) + 1
        session = self.session
        if d.source != "agent":
            self._in_batch = False
        if not d.record:
            if d.extra.get("ui") and ch.new is not None:
                text = as_text(ch.new)
                if text is not None and session.recording:
                    session.record_file_content(ch.rel, text)
            return
        if not session.recording:
            return
        if d.source == "agent":
            self._maybe_snapshot(d.agent)
        old_text = d.base if d.base is not None else as_text(ch.old)
        new_text = as_text(ch.new) if ch.new is not None else ""
        diff = None
        base_rel = ch.old_rel if ch.change == "rename" and ch.old_rel else ch.rel
        if old_text is not None and new_text is not None and ch.change != "delete":
            if ch.old is not None and not session.knows_content(base_rel, old_text):
                session.record_file_content(base_rel, old_text, force=True)
            diff = unified(old_text, new_text, ch.rel, ch.old_rel)
        fields: dict[str, Any] = {"source": d.source, "file": ch.rel, "change": ch.change, "diff": diff}
        if d.agent:
            fields["agent"] = d.agent
        if ch.old_rel:
            fields["old_file"] = ch.old_rel
        if d.base is not None:
            fields["base"] = "buffer"
        odd = [name for name in (ch.rel, ch.old_rel) if name and not is_valid_name(name)]
        if odd:
            # the recording holds U+FFFD for what is not UTF-8; the bytes of the name are kept
            fields["name_note"] = "file name is not valid UTF-8: shown with U+FFFD, its bytes in name_hex"
            fields["name_hex"] = [os.fsencode(name).hex() for name in odd]
        fields.update(d.extra)
        session.record("action", "file_change", **fields)
        if new_text is not None and ch.new is not None:
            session.note_content(ch.rel, new_text)

    # -- snapshots -------------------------------------------------------------------------
    def _maybe_snapshot(self, agent: str | None) -> None:
        now = time.monotonic()
        if self._in_batch and agent == self._batch_agent and now - self._batch_last < BATCH_GAP_S:
            self._batch_last = now
            return
        self._in_batch, self._batch_agent, self._batch_last = True, agent, now
        if self.snapshots is None:
            return
        try:
            t, wall = self.session.now()
            dirty, self.dirty = self.dirty, set()
            # secrets are scrubbed on the store's writer thread, before any byte is written;
            # its findings and what it withheld are recorded after the snapshot event (the
            # gate keeps that order)
            recorded = threading.Event()
            scrubber = self.scrubber
            info = self.snapshots.take(self._read_before, dirty, self._all_paths, t=t, wall=wall,
                                       scrub=scrubber.scrub if scrubber is not None else None,
                                       after=self._record_notes_after(scrubber, recorded) if scrubber else None)
        except Exception as exc:  # noqa: BLE001 - a failed snapshot must not lose the change
            log.exception("snapshot failed")
            self.session.record("session", "error", message=f"snapshot failed: {exc}")
            return
        try:
            self.session.record("snapshot", "snapshot", snapshot_id=info.snapshot_id, files=info.files,
                                changed=info.changed, bytes_added=info.bytes_added)
        finally:
            recorded.set()

    def _record_notes_after(self, scrubber: SnapshotScrubber, recorded: threading.Event) -> Callable[[str], None]:
        """Runs on the store's writer thread once the snapshot is on disk: its redaction
        notes, then a ``session``/``error`` event per reason content was withheld."""
        def record_notes(snap_id: str) -> None:
            recorded.wait(10.0)
            for note in scrubber.take_notes(snap_id):
                self.session.record("redaction", "redaction", **note)
            for message in scrubber.take_errors(snap_id):
                self.session.record("session", "error", message=message)
        return record_notes

    def _read_before(self, rel: str) -> bytes | None:
        """The workspace just before the change being recorded: decided changes of this batch
        applied, undecided (held) ones not yet."""
        if rel in self._overlay:
            content = self._overlay[rel]
        else:
            for ch in self.held():
                if rel == ch.old_rel or (rel == ch.rel and ch.change != "rename"):
                    content = ch.old
                    break
                if rel == ch.rel:     # the new name of a rename not decided yet: absent before
                    content = None
                    break
            else:
                content = self.baseline.get(rel)
        if not isinstance(content, bytes) or self.baseline.is_secret(rel):
            return None
        return content

    def _all_paths(self) -> list[str]:
        paths = set(self.baseline.paths())
        for ch in self.held():
            if ch.old is not None:
                paths.add(ch.old_rel or ch.rel)
        return sorted(paths)

    def panic(self, cutoff_t: int) -> None:
        self._in_batch = False
        if self.snapshots is not None:
            self.snapshots.panic(cutoff_t)
            self.dirty = set()
            if self.scrubber is not None:
                self.scrubber.forget()
