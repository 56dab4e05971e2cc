"""The capture process behind ``crowd term``: reads the copy loop's frames from stdin and
either streams them to a running sidecar or records them on its own.

*Sidecar*: when the token file (``$CROWD_SIDECAR_TOKEN_FILE``, else
``$CROWD_HOME/sidecar-ws.json``) names a live sidecar, frames become ``terminal_*`` events
sent as ``crowd/events`` notifications over its loopback WebSocket (token in the
``Authorization`` header), batched every 50 ms (a timer sends the tail of a burst); the
sidecar's terminal component emulates and samples them into the editor's recording.

*Standalone*: otherwise a ``TerminalHub`` runs here and writes its own recording
(``<recordings>/<session_id>/``) with ``RecordingWriter``: session start/stop, actions and
10 Hz screens, exactly what the sidecar would record, through the same recording pipeline
as the sidecar's session (crowd.pipeline: stamp, scrub failing closed, typing guard, write).

*Fallback*: while streaming, the same hub keeps a shadow model of the terminal (records
nothing, caught up every 100 ms, cheap thanks to model.py's skipping). If the sidecar goes
away mid-stream, a standalone recording starts at once with the terminal's open and its
exact current screen, and the rest of the session goes there.

*Consent*: the machine's consent fact (``crowd.home.read_consent_fact``, written by the sidecar
from the editor's answer and pause) decides what may be written, here as in the sidecar:
``declined`` means no stream and no recording, ``paused`` means nothing is written until it
is ``granted`` again (a ``pause``/``resume`` pair in a recording already open). A fallback
records only under ``granted``: the sidecar it replaces had that consent or it had none.
A standalone ``crowd term`` with no fact at all records, as the user asked it to. The fact
is re-read every 100 ms, and each frame is judged by the fact in force when it was stamped.
"""
from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import queue
import resource
import struct
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crowd.home import ConsentFact, ConsentState, read_consent_fact
from crowd.panic import FORGET_SCREEN, PanicRequest, PanicWatcher, mark_applied
from crowd.terminal import wire
from crowd.terminal.hub import TerminalHub

if TYPE_CHECKING:
    from crowd.privacy import Redactor

log = logging.getLogger("crowd.term")
BATCH_SECONDS = 0.05
PANIC_POLL_S = 0.5       # how often the panic journal is looked at (a stat), from the frame loop


def workspace_relative(workspace: Path | None, path: str) -> str | None:
    """``path`` relative to the recorded workspace (``.`` for the root), None outside it:
    recordings never hold absolute paths."""
    if workspace is None:
        return None
    try:
        rel = Path(path).resolve().relative_to(workspace)
    except (ValueError, OSError):
        return None
    return rel.as_posix() if str(rel) != "." else "."

class StandaloneSink:
    """``record(type_, kind, **fields)`` into a recording folder of our own."""

    def __init__(self, directory: Path, t0_us: int, workspace: Path | None, command: str,
                 fallback: str | None = None,
                 redactor_factory: Callable[[], Redactor] | None = None) -> None:
        # imported here: streaming to a sidecar (the usual case) needs neither the writer
        # nor the redactor, whose detectors take a while to import
        from crowd.format import RecordingWriter  # noqa: PLC0415
        from crowd.format.schema import FORMAT_NAME, FORMAT_VERSION  # noqa: PLC0415
        from crowd.pipeline import RecordingPipeline, open_redactor  # noqa: PLC0415
        from crowd.privacy import Redactor  # noqa: PLC0415

        self.directory = directory
        self.t0 = t0_us
        self.workspace = workspace.resolve() if workspace else None
        roots = [(self.workspace.name, self.workspace)] if self.workspace is not None else []
        self.pipeline = RecordingPipeline(RecordingWriter(directory),
                                          open_redactor(roots, factory=redactor_factory or Redactor),
                                          clock=self._clock)
        self.record("session", "start", session_id=directory.name, format=FORMAT_NAME,
                    format_version=FORMAT_VERSION,
                    folders=[self.workspace.name] if self.workspace else [],
                    client={"name": "crowd term", "version": _version()},
                    settings={"source": "crowd term", "command": command,
                              **({"fallback": fallback} if fallback else {})})

    def now(self) -> int:
        return time.monotonic_ns() // 1000 - self.t0

    def _clock(self) -> tuple[int, int]:
        return self.now(), int(time.time() * 1000)

    @property
    def holding(self) -> int:
        """Recorded events the typing guard still holds (not on disk yet)."""
        return self.pipeline.holding

    def rel_path(self, path: str) -> str | None:
        return workspace_relative(self.workspace, path)

    def record(self, type_: str, kind: str, **fields: Any) -> dict[str, Any] | None:
        """Stamp, redact, guard and queue one event (the sidecar session's pipeline); None
        when redaction failed and the event was withheld."""
        return self.pipeline.record(type_, kind, fields)

    def close(self, stats: dict[str, Any] | None = None) -> None:
        self.record("session", "stop", **({"stats": stats} if stats else {}))
        self.pipeline.close()


class SidecarSink:
    """Forwards frames as ``terminal_*`` events to a running sidecar over its WebSocket."""

    def __init__(self, info: dict[str, Any], term_id: str) -> None:
        from websockets.sync.client import connect  # noqa: PLC0415

        kwargs = {"additional_headers": {"Authorization": f"Bearer {info['token']}"},
                  "open_timeout": 3, "max_size": None}
        url = f"ws://127.0.0.1:{int(info['port'])}/"
        try:
            self.ws = connect(url, legacy=True, **kwargs)   # websockets >= 15: no context manager
        except TypeError:
            self.ws = connect(url, **kwargs)
        self.term_id = term_id
        self.events: list[dict[str, Any]] = []
        self.output: list[bytes] = []
        self.last_send = time.monotonic()
        self.program: str | None = None
        self.failed = False
        self.unsent: list[dict[str, Any]] = []     # the batch whose send failed

    def add(self, event: dict[str, Any]) -> None:
        self._flush_output()
        event.setdefault("terminal", self.term_id)
        event["time"] = int(time.time() * 1000)
        self.events.append(event)

    def add_output(self, data: bytes) -> None:
        self.output.append(data)

    def _flush_output(self) -> None:
        if self.output:
            data = b"".join(self.output)
            self.output = []
            self.events.append({"kind": "terminal_data", "terminal": self.term_id,
                                "data": base64.b64encode(data).decode(), "encoding": "base64",
                                "program": self.program, "time": int(time.time() * 1000)})

    def maybe_send(self, force: bool = False) -> None:
        if self.failed or (not force and time.monotonic() - self.last_send < BATCH_SECONDS):
            return
        self._flush_output()
        if self.events:
            batch, self.events = self.events, []
            try:
                self.ws.send(json.dumps({"jsonrpc": "2.0", "method": "crowd/events", "params": {"events": batch}}))
            except Exception as exc:  # noqa: BLE001 - the sidecar went away: the caller falls back
                self.failed = True
                self.unsent = batch
                log.debug("sending to the sidecar failed: %s", exc)
        self.last_send = time.monotonic()

    def close(self) -> None:
        self.maybe_send(force=True)
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001
            pass


class ConsentGate:
    """The machine's consent fact as this process sees it, re-read at most every
    ``interval`` seconds (a frame loop asks at every frame), with the changes seen so far:
    a frame is judged by the fact in force when it was typed or printed, not when this
    process gets to it (frames queue up behind a slow start)."""

    def __init__(self, read: Callable[[], ConsentFact | None] = read_consent_fact,
                 interval: float = 0.1) -> None:
        self._read = read
        self.interval = interval
        self._history: list[tuple[float, ConsentState | None]] = []   # (since ms, state)
        self._at = 0.0
        self.state(fresh=True)

    def state(self, fresh: bool = False) -> ConsentState | None:
        """The fact now; ``fresh``: read it now (before starting a recording)."""
        now = time.monotonic()
        if fresh or now - self._at >= self.interval:
            self._at = now
            fact = self._read()
            entry = (fact.since_ms, fact.state) if fact is not None else (0.0, None)
            if not self._history and fact is not None:
                self._history.append((0.0, fact.before))    # what was in force until then
            if not self._history or self._history[-1] != entry:
                self._history.append(entry)
                del self._history[:-16]
        return self._history[-1][1]

    def state_at(self, wall_ms: float | None, fresh: bool = False) -> ConsentState | None:
        """The fact in force at ``wall_ms`` (None: now), as far as this process saw it."""
        current = self.state(fresh)
        if wall_ms is None:
            return current
        for since, state in reversed(self._history):
            if since <= wall_ms:
                return state
        return self._history[0][1]


def find_sidecar(token_file: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(token_file.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info


_EOF = object()


def frames_with_ticks(fh, interval: float = BATCH_SECONDS):
    """The frames of ``fh``, and ``None`` every ``interval`` seconds without one (so a batch
    held back for batching goes out even when the terminal falls quiet)."""
    q: queue.Queue = queue.Queue(maxsize=256)

    def pump() -> None:
        try:
            for item in wire.read_frames(fh):
                q.put(item)
        finally:
            q.put(_EOF)

    threading.Thread(target=pump, name="crowd-term-frames", daemon=True).start()
    while True:
        try:
            item = q.get(timeout=interval)
        except queue.Empty:
            yield None
            continue
        if item is _EOF:
            return
        yield item


class Capture:
    """One terminal: a hub (the standalone recording, or the shadow model while streaming)
    and, while it lasts, the sidecar stream."""

    def __init__(self, args: argparse.Namespace, term_id: str, meta: dict[str, Any],
                 sidecar: SidecarSink | None, consent: ConsentGate | None = None) -> None:
        self.args = args
        self.term_id = term_id
        self.meta = meta
        self.t0 = meta["t0"]
        self.sidecar = sidecar
        self.sink: StandaloneSink | None = None
        self.consent = consent or ConsentGate()
        self.allowed = False               # the open recording may be written (consent)
        self._allowed_lock = threading.Lock()  # no event slips in after a pause is written
        # a standalone recording waiting for consent: (its fallback reason, or None)
        self.pending: tuple[str | None] | None = None
        self.workspace = args.workspace.resolve() if args.workspace else None
        self.hub = TerminalHub(self._record, now=self._now, rel_path=self._rel_path,
                               active=lambda: self.sink is not None and self.allowed)
        self.exit_code: int | None = None
        self.fallback_note: str | None = None
        if sidecar is None:
            self.pending = (None,)
            self.obey_consent(fresh=True)
        else:
            sidecar.add({"kind": "terminal_open", "name": self.name, "rows": meta["rows"],
                         "cols": meta["cols"], "source": "crowd_term"})
            sidecar.add({"kind": "terminal_focus", "name": self.name})
        self.hub.open(term_id, self.name, meta["rows"], meta["cols"])
        self.hub.focus(term_id)
        self.hub.start()
        # a panic pressed in an editor window reaches the standalone recording (crowd.panic)
        self.panic_watch = PanicWatcher(self._on_panic)
        self.panic_poll_s = PANIC_POLL_S
        self._panic_checked = 0.0

    @property
    def name(self) -> str:
        return self.meta.get("name", "crowd term")

    # -- the hub's record/clock: the standalone sink once there is one ---------------------------
    def _record(self, type_: str, kind: str, **fields: Any) -> dict[str, Any] | None:
        with self._allowed_lock:
            sink = self.sink
            return sink.record(type_, kind, **fields) if sink is not None and self.allowed else None

    def obey_consent(self, wall_ms: float | None = None, fresh: bool = False) -> None:
        """Bring the standalone recording in line with the consent fact in force at
        ``wall_ms`` (None: now): start the one that waits for it, pause or resume the open one.
        ``fresh``: read the fact now rather than trust the last read (a fallback's decision)."""
        state = self.consent.state_at(wall_ms, fresh=fresh)
        if self.pending is not None:
            reason = self.pending[0]
            # a fallback replaces a sidecar: only its (granted) consent carries over
            if state == "granted" or (state is None and reason is None):
                self.pending = None
                self.allowed = True
                self.start_standalone(reason)
            return
        if self.sink is None:
            return
        allowed = state in ("granted", None)
        if allowed != self.allowed:
            with self._allowed_lock:
                self.sink.record("session", "resume" if allowed else "pause")
                self.allowed = allowed

    def obey_panic(self) -> None:
        """Look at the panic journal (at most every ``panic_poll_s``), on the frame loop's
        thread so the model is never fed from two threads."""
        now = time.monotonic()
        if now - self._panic_checked < self.panic_poll_s:
            return
        self._panic_checked = now
        self.panic_watch.check()

    def _on_panic(self, request: PanicRequest) -> None:
        """Delete the request's windows from the standalone recording, and make the screen
        model forget what it showed (it would be recorded again at the next sample)."""
        sink = self.sink
        if sink is None:
            return
        with self._allowed_lock:
            removed = sink.pipeline.drop_where(request.doomed)
        if self.hub.get(self.term_id) is not None:
            self.hub.output(self.term_id, FORGET_SCREEN)
            self.hub.reannounce()
        mark_applied(request, sink.directory)
        log.info("panic: %d events removed from the standalone recording", removed)

    def _now(self) -> int:
        return time.monotonic_ns() // 1000 - self.t0

    def _rel_path(self, path: str) -> str | None:
        return workspace_relative(self.workspace, path)

    def start_standalone(self, reason: str | None = None) -> None:
        if not self.allowed:
            self.pending = (reason,)        # started by obey_consent once consent allows it
            return
        session_id = self.args.session_id or f"term-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        from crowd.home import private_dir  # noqa: PLC0415
        directory = private_dir(self.args.recordings) / session_id
        self.sink = StandaloneSink(directory, self.t0, self.args.workspace, self.meta.get("command", ""),
                                   fallback=reason)
        _announce(self.args.announce, str(directory))
        if reason is not None:
            # said at the end (finish): a note now would be drawn over the user's program
            self.fallback_note = f"{reason}: the rest of this terminal was recorded in {directory}"
        if self.hub.get(self.term_id) is not None:
            self.hub.reannounce()         # its open and current screen go first
            self.hub.focus(self.term_id)

    # -- frames ---------------------------------------------------------------------------------
    def run(self, frames) -> None:
        for item in frames:
            # a tick comes only when no frame is queued: "now" is then the right time
            self.obey_consent(None if item is None else _wall_ms(item[1]))
            self.obey_panic()
            sidecar = self.sidecar
            if item is None:
                if sidecar is not None:
                    sidecar.maybe_send()
            else:
                self.apply(*item)
                if sidecar is not None:
                    self.forward(sidecar, *item)
                    sidecar.maybe_send()
            if sidecar is not None and sidecar.failed:
                self.fall_back(sidecar)

    def apply(self, kind: int, t: int, payload: bytes) -> None:
        hub, term_id = self.hub, self.term_id
        if kind == wire.OUTPUT:
            hub.output(term_id, payload, t - self.t0)
        elif kind in (wire.INPUT, wire.INPUT_HIDDEN):
            hub.input(term_id, payload, echo_off=kind == wire.INPUT_HIDDEN)
        elif kind == wire.RESIZE:
            rows, cols = struct.unpack("<HH", payload)
            hub.resize(term_id, rows, cols)
        elif kind == wire.PROGRAM:
            hub.set_program(term_id, payload.decode("utf-8", "replace"))
        elif kind == wire.EXIT:
            self.exit_code = int(payload or b"0")

    @staticmethod
    def forward(sidecar: SidecarSink, kind: int, _t: int, payload: bytes) -> None:
        if kind == wire.OUTPUT:
            sidecar.add_output(payload)
        elif kind in (wire.INPUT, wire.INPUT_HIDDEN):
            hidden = kind == wire.INPUT_HIDDEN
            sidecar.add({"kind": "terminal_input", "hidden": hidden, "program": sidecar.program,
                         "data": None if hidden else base64.b64encode(payload).decode(),
                         "encoding": "base64"})
        elif kind == wire.RESIZE:
            rows, cols = struct.unpack("<HH", payload)
            sidecar.add({"kind": "terminal_resize", "rows": rows, "cols": cols})
        elif kind == wire.PROGRAM:
            sidecar.program = payload.decode("utf-8", "replace")

    def fall_back(self, sidecar: SidecarSink) -> None:
        """The sidecar went away: record the rest standalone, starting with the keys it never got."""
        self.sidecar = None
        sidecar.close()
        self.allowed = False
        self.pending = ("the sidecar went away",)
        self.obey_consent(fresh=True)
        if self.sink is None:
            return          # no consent to record on our own: the keys it never got are dropped
        for event in sidecar.unsent:
            if event.get("kind") == "terminal_input":
                data = b"" if event.get("hidden") else base64.b64decode(event.get("data") or "")
                self.hub.input(self.term_id, data, echo_off=bool(event.get("hidden")))

    def finish(self) -> None:
        self.hub.stop()
        if self.sidecar is not None:
            self.sidecar.add({"kind": "terminal_close", "exitCode": self.exit_code})
            self.sidecar.close()
            if self.sidecar.failed:
                self.fall_back(self.sidecar)     # the close never arrived: at least say how it ended
        if self.sink is None:
            return
        term = self.hub.get(self.term_id)
        stats = term.model.stats if term else None
        observations = term.observations if term else 0
        try:
            self.hub.close(self.term_id, self.exit_code)
        finally:
            self._close_sink(stats, observations)
        if self.fallback_note:
            log.warning("%s", self.fallback_note)

    def _close_sink(self, stats: Any, observations: int) -> None:
        """The recording's stop, whatever happened to the terminal's last sample."""
        assert self.sink is not None
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.sink.close({"capture_cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
                         "bytes": stats.bytes_in if stats else 0,
                         "chars_emulated": stats.chars_emulated if stats else 0,
                         "chars_skipped": stats.chars_skipped if stats else 0,
                         "observations": observations})


def _wall_ms(t_us: int) -> float:
    """The wall clock (ms) of a frame stamped ``t_us`` on the monotonic clock."""
    return time.time() * 1000 - (time.monotonic_ns() // 1000 - t_us) / 1000


def _version() -> str:
    try:
        from crowd.version import __version__  # noqa: PLC0415
        return __version__
    except ImportError:
        return "0"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crowd.terminal.capture")
    parser.add_argument("--recordings", type=Path, required=True)
    parser.add_argument("--workspace", type=Path, default=None)
    parser.add_argument("--sidecar", default="auto", help="auto, off, or a token file path")
    parser.add_argument("--session-id", default=None)
    parser.add_argument("--term-id", default=None)
    parser.add_argument("--announce", type=Path, default=None,
                        help="write the recording folder (or 'sidecar') here once known")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="crowd term: %(message)s")
    stdin = sys.stdin.buffer
    first = next(wire.read_frames(stdin), None)     # reads exactly one frame
    if first is None or first[0] != wire.META:
        return 1
    meta = json.loads(first[2])
    term_id = args.term_id or f"crowd-term-{os.getpid()}"
    sidecar = None
    consent = ConsentGate()
    if args.sidecar != "off" and consent.state() != "declined":   # declined: nothing is sent
        from crowd.home import sidecar_token_file  # noqa: PLC0415
        if args.sidecar == "auto":
            # the editor bridge may name its own window's sidecar (several windows, several sidecars)
            named = os.environ.get("CROWD_SIDECAR_TOKEN_FILE")
            token_file = Path(named) if named else sidecar_token_file()
        else:
            token_file = Path(args.sidecar)
        info = find_sidecar(token_file)
        if info is not None:
            try:
                sidecar = SidecarSink(info, term_id)
            except Exception as exc:  # noqa: BLE001 - fall back to recording on our own
                log.warning("sidecar unreachable (%s); recording standalone", exc)
            else:
                _announce(args.announce, "sidecar")
    capture = Capture(args, term_id, meta, sidecar, consent)
    try:
        capture.run(frames_with_ticks(stdin))
    finally:
        capture.finish()
    return 0


def _announce(path: Path | None, text: str) -> None:
    """Say where this terminal records (atomically: a reader never sees half a path)."""
    if path is not None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
