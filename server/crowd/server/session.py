"""One recording session: consent, lifecycle, the clock and the single path to the writer.

Everything that ends up in a recording goes through ``Session.record``. That is where the
promises are kept: nothing is written before consent or while paused/stopped, and panic can
find and delete the last minutes everywhere (writer, memory, components). Stamping
(``seq``/``t``/``wall``), redaction (fail closed), the typing guard and the write are the
recording pipeline's (crowd.pipeline), the same one ``crowd term`` and the importers use.
The hot path is two locks, a counter, two clock reads, a dict, the redactor and a list append.
"""
from __future__ import annotations

import enum
import logging
import math
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crowd.format import RecordingWriter
from crowd.format.writer import SegmentRemoved, recover_recordings
from crowd.home import ConsentState, read_consent_fact
from crowd.panic import PanicRequest, PanicWatcher, applied, begin, finish, mark_applied, pending
from crowd.panic.sweep import SweepResult, sweep
from crowd.format.schema import FORMAT_NAME, FORMAT_VERSION
from crowd.pipeline import RecordingPipeline, RedactorUnavailable, open_redactor
from crowd.pipeline.redaction import WorkspaceRoots
from crowd.privacy import Redactor
from crowd.server.bus import EventBus
from crowd.server.continuation import Continuation, find_continuation, open_continued_writer
from crowd.server.components import COMPONENT_FACTORIES, Component, create_component
from crowd.server.terminal.service import TerminalService
from crowd.text.document import DocumentStore
from crowd.server.workspace import WorkspaceCache

log = logging.getLogger(__name__)

DEFAULT_PANIC_MINUTES = 10.0
PANIC_WAIT_S = 10.0       # how long a panic waits for live recorders elsewhere to clean their own
FACTS_POLL_S = 0.5        # how often the consent fact and the panic journal are looked at (a stat each)
FACT_KINDS = ("start", "consent", "pause", "resume", "stop")


class State(str, enum.Enum):
    AWAITING_CONSENT = "awaiting_consent"
    DECLINED = "declined"
    RECORDING = "recording"
    PAUSED = "paused"
    STOPPED = "stopped"


class ConsentRequired(RuntimeError):
    """Recording was asked for before the user consented."""


def new_session_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def _no_absolute_paths(value: Any) -> Any:
    """Settings go into the recording: drop anything that looks like an absolute path."""
    if isinstance(value, dict):
        return {k: _no_absolute_paths(v) for k, v in value.items()
                if not (isinstance(v, str) and _looks_absolute(v))}
    if isinstance(value, list):
        return [_no_absolute_paths(v) for v in value if not (isinstance(v, str) and _looks_absolute(v))]
    return value


def _looks_absolute(text: str) -> bool:
    return text.startswith(("/", "~", "\\\\", "file:")) or (len(text) > 2 and text[1] == ":" and text[2] in "/\\")


class Session:
    """A recording session of one editor window (see docs/architecture.md, "contract")."""

    def __init__(
        self,
        workspace: WorkspaceCache,
        *,
        recordings_dir: Path | str,
        settings: dict[str, Any] | None = None,
        client: dict[str, Any] | None = None,
        consent: bool | None = None,
        component_factories: list[str] | None = None,
        on_state_change: Callable[[dict[str, Any]], None] | None = None,
        writer_options: dict[str, Any] | None = None,
        home: Path | None = None,
        continue_session: str | None = None,
    ) -> None:
        self.workspace = workspace
        # the user's data folder (crowd.home) for what is one fact for the machine: the
        # consent fact, the panic journal, every recording panic reaches. None (an in-process
        # session: tests, tools) keeps the session to itself; the sidecar passes crowd_home()
        self.home = Path(home) if home is not None else None
        self.recordings_dir = Path(recordings_dir)
        self.settings = dict(settings or {})
        self.client = dict(client or {})
        self.consent: bool | None = consent
        self.bus = EventBus()
        self.documents = DocumentStore()
        self.components: list[Component] = []
        # (event) -> (source, agent) | None; components such as attribution add theirs
        self.edit_classifiers: list[Callable[[dict[str, Any]], tuple[str, str | None] | None]] = []
        self.component_factories = list(COMPONENT_FACTORIES if component_factories is None else component_factories)
        self.terminals = TerminalService(self)   # the session's terminals, tracked once attached
        self.on_state_change = on_state_change
        self.writer_options = dict(writer_options or {})
        # what the pipeline scrubs with (RedactorUnavailable: could not be built, fail closed);
        # None: redaction turned off by the user (``redact: false``) or not recording
        self.redactor: Redactor | RedactorUnavailable | None = None
        self.redactor_factory: Callable[[], Redactor] = Redactor
        self.state = State.AWAITING_CONSENT if consent is None else (State.STOPPED if consent else State.DECLINED)
        self.session_id: str | None = None
        # the session the editor window had before this process (crowd.server.continuation):
        # its first recording continues it; a later stop + start makes a new one
        self.continue_session = continue_session
        self._seq_base = 0      # the last seq of the continued session's earlier part
        self.directory: Path | None = None
        self.pipeline: RecordingPipeline | None = None
        self.writer: RecordingWriter | None = None
        self.errors: list[str] = []
        self.write_error: str | None = None     # set while writing fails (full disk), cleared after
        self._t0 = time.monotonic_ns()
        self._lock = threading.RLock()
        # recorded path -> (hash of the text the recording holds for it, t it was recorded)
        self._known: dict[str, tuple[int, int]] = {}
        # files whose recorded events a panic deleted: their live text still holds what was
        # deleted, so nothing of them is recorded again by this session (re-basing)
        self.withheld_files: set[str] = set()
        self._panic_watcher: PanicWatcher | None = None
        self._own_panics: set[str] = set()
        # the machine's consent fact (crowd.home), obeyed like this window's own answer
        self.held_by_fact = False       # consented here, but the fact says paused/declined
        self._paused_by_fact = False
        self._paused_at_ms = 0.0
        self._facts_stop = threading.Event()
        self._facts_thread: threading.Thread | None = None

    # -- clock and the hot path ---------------------------------------------------------
    def now(self) -> tuple[int, int]:
        """(t: microseconds since the session started, monotonic; wall: epoch ms)."""
        return (time.monotonic_ns() - self._t0) // 1000, time.time_ns() // 1_000_000

    @property
    def recording(self) -> bool:
        return self.state is State.RECORDING

    def record(self, type_: str, kind: str, **fields: Any) -> dict[str, Any] | None:
        """Append one event; None (nothing recorded) unless consented and recording."""
        if self.state is not State.RECORDING:
            return None
        return self._emit(type_, kind, fields)

    def _emit(self, type_: str, kind: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """None when nothing was written (not recording, or withheld by failed redaction)."""
        if self.pipeline is None or not self.consent:
            return None
        if self.withheld_files:
            fields = self._without_withheld(fields)
            if fields is None:
                return None
        with self._lock:
            # read under the lock: a record racing with stop must not append after ``stop``
            # to the pipeline that _finish_locked is closing
            pipeline = self.pipeline
            if pipeline is None or not self.consent:
                return None
            return pipeline.record(type_, kind, fields)

    def _without_withheld(self, fields: dict[str, Any]) -> dict[str, Any] | None:
        """``fields`` without the files a panic withheld; None when nothing is left to record."""
        withheld = self.withheld_files
        if fields.get("file") in withheld or fields.get("old_file") in withheld:
            return None
        editors = fields.get("editors")
        if isinstance(editors, list):
            kept = [e for e in editors if not (isinstance(e, dict) and e.get("file") in withheld)]
            if len(kept) != len(editors):
                if editors and not kept:
                    return None
                fields = {**fields, "editors": kept}
        return fields

    @property
    def holding(self) -> int:
        """Recorded events not on disk yet for a reason: the typing guard holds them (the
        newest ones), or writing fails (full disk) and the writer keeps them to retry."""
        pipeline, writer = self.pipeline, self.writer
        return (pipeline.holding if pipeline is not None else 0) + (writer.backlog if writer is not None else 0)

    # -- file content the recording knows ------------------------------------------------
    def knows_content(self, rel: str, text: str | None = None) -> bool:
        """True when the recording already holds ``rel``'s text (``text`` if given)."""
        known = self._known.get(rel)
        if known is None:
            return False
        return text is None or known[0] == hash(text)

    def note_content(self, rel: str, text: str) -> None:
        """Tell the session the recording now implies ``text`` for ``rel`` (e.g. after a diff)."""
        self._known[rel] = (hash(text), self.now()[0])

    def record_file_content(self, rel: str, text: str, *, force: bool = False) -> dict[str, Any] | None:
        """Record the full text of ``rel`` unless the recording already holds exactly it."""
        if not self.recording or (not force and self.knows_content(rel, text)):
            return None
        event = self.record("observation", "file_content", file=rel, text=text)
        if event is not None:
            self._known[rel] = (hash(text), event["t"])
        return event

    # -- lifecycle -----------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        pipeline = self.pipeline
        return {
            "state": self.state.value,
            "consent": self.consent,
            "sessionId": self.session_id,
            "recording": str(self.directory) if self.directory else None,
            "events": pipeline.seq - self._seq_base if pipeline else 0,   # by this process, like eventsWritten
            "eventsWritten": pipeline.events_written if pipeline else 0,
            "bytesWritten": pipeline.bytes_written if pipeline else 0,
            "workspace": self.workspace.stats.as_dict(),
            "folders": self.workspace.folders.names(),
            "errors": self.errors[-5:],
            "writeError": self.write_error,
        }

    def _changed(self) -> None:
        if self.on_state_change is not None:
            try:
                self.on_state_change(self.status())
            except Exception:  # noqa: BLE001
                log.exception("state change notification failed")

    def set_consent(self, granted: bool) -> dict[str, Any]:
        """The user's answer. Declining stops a running recording; granting may start one."""
        with self._lock:
            if not granted:
                if self.state in (State.RECORDING, State.PAUSED):
                    self._emit("session", "consent", {"granted": False})
                    components, self.components = self.components, []
                else:
                    components = None
            else:
                self.consent = True
                if self.state in (State.AWAITING_CONSENT, State.DECLINED):
                    self.state = State.STOPPED
                if self.state is State.STOPPED and self.settings.get("autoStart", True):
                    self._start_locked()
        if not granted:
            if components is not None:
                self._stop_components(components)
                with self._lock:
                    self._finish_locked()
            with self._lock:
                self.consent = False
                self.state = State.DECLINED
        self._changed()
        return self.status()

    def start(self) -> dict[str, Any]:
        with self._lock:
            if not self.consent:
                raise ConsentRequired("the user has not consented to recording")
            if self.state is State.PAUSED:
                self._resume_locked()
            elif self.state is not State.RECORDING:
                self._start_locked()
        self._changed()
        return self.status()

    def _start_locked(self) -> None:
        self.recordings_dir.mkdir(parents=True, exist_ok=True)
        options = {"flush_interval": min(1.0, float(self.settings.get("flushInterval", 0.2))), "compact": True,
                   **self.writer_options}
        # what a sidecar or crowd term killed mid-compaction left beside its recordings
        recover_recordings(self.recordings_dir)
        continued, writer = self._continued_writer(options)
        if continued is None or writer is None:
            continued = None
            self.session_id = new_session_id()
            self.directory = self.recordings_dir / self.session_id
            self._seq_base = 0
            writer = RecordingWriter(self.directory, on_error=self._writer_error, on_recover=self._writer_recovered,
                                     **options)
            self._t0 = time.monotonic_ns()
        else:
            self.session_id, self.directory = continued.session_id, continued.directory
            self._seq_base = continued.last_seq
            self._t0 = continued.t0_ns(time.monotonic_ns(), time.time_ns() // 1_000_000)
        self.writer = writer
        self.write_error = None
        self._known.clear()
        # privacy: the folders' absolute paths in any text become their recorded names;
        # a redactor that cannot be made withholds every event (fail closed)
        redactor = _make_redactor(self.settings, [(f.name, f.root) for f in self.workspace.folders.folders],
                                  factory=self.redactor_factory)
        self.redactor = redactor
        # the pipeline's typing guard holds keystroke-typed tokens until complete, so typed
        # secrets are caught; it reads the open documents for the line being typed on
        self.pipeline = RecordingPipeline(writer, redactor, clock=self.now, documents=self.documents,
                                          on_error=self.errors.append,
                                          first_seq=self._seq_base + 1)
        self.watch_machine()
        self.terminals.new_recording()   # before it is active: see TerminalService.new_recording
        self.state = State.RECORDING
        header = {"folders": self.workspace.folders.names(), "client": _no_absolute_paths(self.client),
                  "settings": _no_absolute_paths(self.settings)}
        if continued is None:
            self._emit("session", "start", {"session_id": self.session_id, "format": FORMAT_NAME,
                                            "format_version": FORMAT_VERSION, **header})
        else:
            self._emit("session", "resume", {"continued": True, **header})
        self._emit("session", "consent", {"granted": True})
        self._start_components()

    def _start_components(self) -> None:
        self.components = []
        for spec in self.component_factories:
            try:
                component = create_component(spec)
                component.start(self)
            except Exception as exc:  # noqa: BLE001 - a broken component must not stop recording
                log.exception("component %s failed to start", spec)
                self._emit("session", "error", {"message": f"component {spec.split(':')[-1]} failed to start: {exc}"})
                continue
            self.components.append(component)

    def _continued_writer(self, options: dict[str, Any]) -> tuple[Continuation | None, RecordingWriter | None]:
        """The session this window had before this process, and a writer that holds its
        folder alone; (None, None) when it cannot be continued (crowd.server.continuation)."""
        wanted, self.continue_session = self.continue_session, None
        continued = find_continuation(self.recordings_dir, wanted) if wanted is not None else None
        if continued is None:
            return None, None
        writer = open_continued_writer(lambda: RecordingWriter(
            continued.directory, on_error=self._writer_error, on_recover=self._writer_recovered, **options))
        if writer is None:
            log.info("not continuing session %s: another live recorder writes it", continued.session_id)
            return None, None
        log.info("continuing session %s after seq %d", continued.session_id, continued.last_seq)
        return continued, writer

    def _writer_error(self, exc: BaseException) -> None:
        """Told once when writing starts failing (and on a failed compaction, which loses
        nothing: the segment stays as written)."""
        writer = self.writer
        if isinstance(exc, SegmentRemoved):
            message = str(exc)  # says itself what was lost and that writing goes on
        elif writer is not None and writer.failing:
            message = f"writing the recording failed, events are kept and retried: {exc}"
            self.write_error = message
        else:
            message = f"compacting a finished segment failed (it stays as written): {exc}"
        log.error(message)
        self.errors.append(message)

    def _writer_recovered(self) -> None:
        log.info("writing the recording works again")
        self.write_error = None

    def pause(self) -> dict[str, Any]:
        with self._lock:
            if self.state is State.RECORDING:
                self._emit("session", "pause", {})
                self.state = State.PAUSED
                self._paused_at_ms = time.time() * 1000
        self._changed()
        return self.status()

    def resume(self) -> dict[str, Any]:
        with self._lock:
            if self.state is State.PAUSED:
                self._resume_locked()
            elif self.state is State.STOPPED and self.consent:
                self._start_locked()
        self._changed()
        return self.status()

    def _resume_locked(self) -> None:
        self.state = State.RECORDING
        self._emit("session", "resume", {})
        # edits made while paused are not in the recording: its file texts are stale
        self._known.clear()

    def stop(self) -> dict[str, Any]:
        with self._lock:
            if self.state not in (State.RECORDING, State.PAUSED) or self.pipeline is None:
                return self.status()
            components, self.components = self.components, []
        # components are stopped without holding the session lock: their threads may be
        # recording right now (a final event) and must not deadlock against us
        self._stop_components(components)
        with self._lock:
            self._finish_locked()
        self._changed()
        return self.status()

    @staticmethod
    def _stop_components(components: list[Component]) -> None:
        for component in reversed(components):
            try:
                component.stop()
            except Exception:  # noqa: BLE001
                log.exception("component %r failed to stop", component)

    def _finish_locked(self) -> None:
        if self.pipeline is None:
            return
        if self.state in (State.RECORDING, State.PAUSED):
            self._emit("session", "stop", {})
        self.bus.clear()
        self.edit_classifiers.clear()
        try:
            self.pipeline.close()
        except Exception as exc:  # noqa: BLE001
            log.exception("closing the recording failed")
            self.errors.append(f"closing the recording failed: {exc}")
        self.pipeline = None
        self.writer = None
        self.state = State.STOPPED

    def flush(self) -> int:
        """Write pending events now (tests and clean shutdown); returns events written."""
        pipeline = self.pipeline
        return pipeline.flush() if pipeline is not None else 0

    def panic(self, minutes: float | None = None) -> dict[str, Any]:
        """Delete the last ``minutes`` everywhere: this recording (on disk, in memory, in the
        components), every other recording under the user's data folder, snapshots, temp
        copies and the upload queue, as one journaled transaction (crowd.panic) that live
        recorders elsewhere join and a later start resumes after a crash."""
        minutes = float(self.settings.get("panicMinutes", DEFAULT_PANIC_MINUTES) if minutes is None else minutes)
        if minutes < 0 or math.isnan(minutes) or math.isinf(minutes):
            raise ValueError("minutes must be a finite number >= 0")
        now_t, now_wall = self.now()
        cutoff = max(0, now_t - int(minutes * 60_000_000))
        cutoff_wall = now_wall - int(minutes * 60_000)
        request = self._journal_panic(cutoff_wall, now_wall)   # written before anything is deleted

        def doomed(event: dict[str, Any]) -> bool:
            # never delete the session's own start/consent header
            return event.get("t", 0) >= cutoff and not (event.get("type") == "session" and event.get("kind") in ("start", "consent"))

        removed, touched = self._panic_here(doomed, cutoff, marker_minutes=minutes)
        with self._lock:
            if self.pipeline is not None:
                try:
                    self.pipeline.flush()
                except OSError:
                    pass   # a full disk: the panic event stays queued and is retried (writeError says so)
        if request is None:
            result = SweepResult()
        else:
            if self.directory is not None:
                mark_applied(request, self.directory, self.home)
            result = self._sweep(request)
        log.info("panic: removed %d events of the last %s minutes here, %d in %d other recording(s)",
                 removed, minutes, result.removed, result.folders)
        self._changed()
        return {"removed": removed, "minutes": minutes, "status": self.status(),
                "elsewhere": {"removed": result.removed, "recordings": result.folders,
                              "waitingFor": [p.name for p in result.live], "errors": result.errors[:5]},
                "withheldFiles": sorted(touched)}

    def _journal_panic(self, cutoff_wall: int, now_wall: int) -> PanicRequest | None:
        """Journal the machine-wide panic; None when this session has no home (in-process) or
        the journal cannot be written (this recording is still cleaned; logged)."""
        if self.home is None:
            return None
        try:
            request = begin(cutoff_wall, now_wall, self.home)
        except (OSError, ValueError) as exc:
            log.error("panic: the journal could not be written (%s); only this recording is cleaned", exc)
            self.errors.append(f"panic: the journal could not be written: {exc}")
            return None
        self._own_panics.add(request.id)
        return request

    def _panic_here(self, doomed: Callable[[dict[str, Any]], bool], cutoff: int,
                    marker_minutes: float | None = None) -> tuple[int, set[str]]:
        """Delete this session's doomed events (writer, components) and re-base its live
        state: files named by a deleted event are withheld from now on, terminal screens
        forget what they showed. With ``marker_minutes`` the ``session/panic`` marker is
        written in the same locked step as the last deletion, and terminals are announced
        again only after it: the sampler re-announced them (at 10 Hz, on its own thread)
        between the deletion and the marker, which left them inside the deleted window
        (CI: terminal_open + screen 0.6 ms before the marker) or, once dropped, left later
        screens with no open. Returns (events removed, files withheld)."""
        touched: set[str] = set()

        def doomed_noting(event: dict[str, Any]) -> bool:
            if not doomed(event):
                return False
            _note_files(event, touched)
            return True

        removed = 0
        with self._lock:
            pipeline = self.pipeline
            if pipeline is not None:
                removed = pipeline.drop_where(doomed_noting)
            components = list(self.components)
        # re-base before the components re-announce: nothing deleted may be recorded again
        self.withheld_files |= touched
        self._known = {rel: v for rel, v in self._known.items() if v[1] < cutoff and rel not in touched}
        self.terminals.forget_screens()
        for component in components:   # outside the lock: their threads may be recording
            try:
                component.panic(cutoff)
            except Exception as exc:  # noqa: BLE001
                log.exception("component %r failed to panic", component)
                self.errors.append(f"panic in a component failed: {exc}")
        with self._lock:
            if self.pipeline is not None:
                removed += self.pipeline.drop_where(doomed_noting)   # what components recorded meanwhile
                self.withheld_files |= touched
                if marker_minutes is not None and self.state in (State.RECORDING, State.PAUSED):
                    self._emit("session", "panic", {"minutes": marker_minutes, "removed": removed})
            # after the marker (the sampler records under this lock): every open terminal's
            # open and screen again, since the drop above may have taken the re-announcement
            self.terminals.new_recording()
        self.withheld_files |= touched
        return removed, touched

    # -- facts of the machine: consent and panics of other windows ------------------------
    def watch_machine(self) -> None:
        """Look at the machine's consent fact and panic journal every ``FACTS_POLL_S`` from
        now on (another window's pause, decline or panic reaches this session); only for a
        session with a home (the sidecar's)."""
        with self._lock:
            if self._facts_thread is not None or self.home is None:
                return
            self._panic_watcher = PanicWatcher(self._on_foreign_panic, home=self.home)
            self._facts_thread = threading.Thread(target=self._watch_facts, name="crowd-machine-facts", daemon=True)
            self._facts_thread.start()

    def _watch_facts(self) -> None:
        while not self._facts_stop.wait(FACTS_POLL_S):
            for check in (self.obey_consent_fact, self._panic_watcher.check):
                try:
                    check()
                except Exception:  # noqa: BLE001 - the next look tries again
                    log.exception("checking the machine's facts failed")

    @property
    def shares_consent(self) -> bool:
        """False for a scripted client (``crowd demo``: setting ``shareConsent: false``): its
        consent is not the user's, so it neither writes nor obeys the machine's fact."""
        return self.settings.get("shareConsent", True) is not False

    def consent_fact(self) -> ConsentState | None:
        """The machine's consent fact this session obeys (None: none, or a scripted client)."""
        if not self.shares_consent:
            return None
        fact = read_consent_fact(self.home) if self.home is not None else None
        return fact.state if fact is not None else None

    def obey_consent_fact(self) -> None:
        """Consent is one fact for every recorder on the machine: paused or declined in any
        window (or by ``crowd term``) pauses or stops this recording too, and whatever was
        recorded here after the fact took effect is deleted (this looks every 0.5 s);
        granted again resumes what the fact paused or held back."""
        fact = read_consent_fact(self.home) if self.shares_consent and self.home is not None else None
        if fact is None:
            return
        state = self.state
        if fact.state == "granted":
            if state is State.PAUSED and (self._paused_by_fact or fact.since_ms > self._paused_at_ms):
                self._paused_by_fact = False
                self.resume()
            elif self.held_by_fact and self.consent and state is State.STOPPED:
                self.held_by_fact = False
                self.set_consent(True)
            return
        if state not in (State.RECORDING, State.PAUSED):
            return
        if fact.state == "paused":
            if state is State.RECORDING:
                self._paused_by_fact = True
                self.pause()
                self._drop_after_fact(fact.since_ms)
        else:   # declined
            pipeline = self.pipeline
            self._drop_after_fact(fact.since_ms)
            self.set_consent(False)
            if pipeline is not None:
                log.info("the machine's consent fact is declined: recording stopped")

    def _drop_after_fact(self, since_ms: float) -> None:
        """Delete what this recording holds from after a pause/decline took effect elsewhere
        (the lifecycle events that record the change excepted)."""
        def doomed(event: dict[str, Any]) -> bool:
            return (event.get("wall", 0) >= since_ms
                    and not (event.get("type") == "session" and event.get("kind") in FACT_KINDS))
        with self._lock:
            pipeline = self.pipeline
            removed = pipeline.drop_where(doomed) if pipeline is not None else 0
        if removed:
            log.info("consent fact: removed %d events recorded after it took effect", removed)

    def _on_foreign_panic(self, request: PanicRequest) -> None:
        """A panic pressed elsewhere (another window, or resumed): delete its windows here."""
        if request.id in self._own_panics:
            return
        directory = self.directory
        if directory is not None and applied(request, directory, self.home):
            return
        now_t, now_wall = self.now()
        cutoff = max(0, now_t - (now_wall - request.earliest_ms) * 1000)
        removed, _ = self._panic_here(request.doomed, cutoff)
        if directory is not None and self.directory == directory:
            mark_applied(request, directory, self.home)
        log.info("panic pressed elsewhere: removed %d events here", removed)
        self._changed()

    def _sweep(self, request: PanicRequest) -> SweepResult:
        """Every other recording folder, snapshots, desktop segments and the upload queue;
        live recorders clean their own (they watch the journal): wait for them in the
        background and close the journal when all are done."""
        home = self.home
        assert home is not None
        roots = {self.recordings_dir.absolute(), (home / "recordings").absolute()}
        skip = [self.directory] if self.directory is not None else []

        def upload_queue(request: PanicRequest) -> None:
            _panic_upload_queue(home / "upload", request)

        result = sweep(request, sorted(roots), skip=skip, folder_steps=[_panic_snapshots],
                       steps=[upload_queue], desktop_roots=[home / "cast" / "recordings"], home=home)
        if result.errors:
            self.errors.extend(f"panic: {e}" for e in result.errors[:5])
        threading.Thread(target=self._finish_panic, args=(request, result, home), name="crowd-panic-finish",
                         daemon=True).start()
        return result

    @staticmethod
    def _finish_panic(request: PanicRequest, result: SweepResult, home: Path) -> None:
        deadline = time.monotonic() + PANIC_WAIT_S
        waiting = list(result.live)
        while waiting and time.monotonic() < deadline:
            waiting = [f for f in waiting if not applied(request, f, home)]
            if waiting:
                time.sleep(0.1)   # other processes' markers: no event to wait on here
        if waiting or result.errors:
            log.warning("panic: %d recording(s) still to clean; the journal stays and is resumed at the next start",
                        len(waiting) + len(result.errors))
            return
        finish(request, home)

    def resume_panic(self) -> SweepResult | None:
        """Carry out a panic a crash interrupted (called when the sidecar starts). This
        session's own recording, if one started meanwhile, is cleaned by its watcher."""
        if self.home is None:
            return None
        try:
            request = pending(self.home)
        except ValueError as exc:
            self.errors.append(str(exc))
            return None
        if request is None:
            return None
        log.info("resuming an interrupted panic")
        return self._sweep(request)

    def close(self) -> None:
        """End of the sidecar: stop recording and make sure everything is on disk."""
        self.stop()
        self._facts_stop.set()
        self.workspace.stop_scan()


def _note_files(event: dict[str, Any], files: set[str]) -> None:
    """The workspace files an event names (its own, a rename's old one, a viewport's editors)."""
    for key in ("file", "old_file"):
        value = event.get(key)
        if isinstance(value, str):
            files.add(value)
    editors = event.get("editors")
    if isinstance(editors, list):
        files.update(e["file"] for e in editors if isinstance(e, dict) and isinstance(e.get("file"), str))


def _panic_snapshots(folder: Path, request: PanicRequest) -> None:
    root = folder / "snapshots"
    if (root / "manifests").is_dir():
        from crowd.snapshots.store import SnapshotStore  # noqa: PLC0415 - only when a store is there

        SnapshotStore(root).panic_wall(request.covers)


def _panic_upload_queue(queue_dir: Path, request: PanicRequest) -> None:
    """Held and due bundles with content in a window: shredded (the survivors in the source
    files are bundled again)."""
    if not queue_dir.is_dir():
        return
    from crowd.transfer.queue import UploadQueue  # noqa: PLC0415 - only when a queue is there

    queue = UploadQueue(queue_dir)
    try:
        queue.purge(request.earliest_ms / 1000)
    finally:
        queue.close()


def _make_redactor(settings: dict[str, Any], roots: WorkspaceRoots = (), *,
                   factory: Callable[[], Redactor] = Redactor) -> Redactor | RedactorUnavailable | None:
    """The redactor a session with ``settings`` records with (None: turned off by the user)."""
    if settings.get("redact", True) is False:
        return None
    return open_redactor(roots, factory=factory)


__all__ = ["ConsentRequired", "DEFAULT_PANIC_MINUTES", "Session", "State", "new_session_id", "os"]
