"""``RecordingPipeline``: stamp, scrub, hold typed secrets, write; the one path to disk.

Every recorder (the sidecar's session, ``crowd term``'s standalone sink, the importers)
used to carry its own copy of "stamp, scrub, hold typed secrets, write", only the session
had the typing guard, and both live copies wrote the *unscrubbed* event when the redactor
raised. This object is that path, once:

1. **stamp**: ``seq`` (1-based, strictly increasing in the order events reach the writer),
   and ``t``/``wall`` from the recorder's clock (``record``) or kept as given (``write``,
   for importers whose events carry their own times);
2. **fit**: ``values.fit_event`` makes every value one the format can carry (lone
   surrogates become U+FFFD, integers beyond 64 bits their decimal string, a
   ``session``/``error`` note after the event says what was repaired); an event it cannot
   represent is refused like one the redactor cannot scrub (below). This is the one place
   that sanitises what enters a recording, so no recorder's field can make the writer fail;
3. **scrub**: ``Redactor.scrub_event``; each finding becomes a ``redaction`` event after it;
4. **hold typed secrets**: a ``TypingGuard`` (crowd.privacy.typing) holds secret-shaped
   keystroke tokens, and a small thread releases tokens that went idle;
5. **write**: to an ``EventWriter`` (``RecordingWriter``, or a list for importers).

**Fail closed.** If the redactor raises on an event, or could not be constructed at all
(``RedactorUnavailable``), that event is *not* written: a ``session``/``error`` event (a kind
the format already has, ``message`` only; see docs/format.md) takes its place and seq, and
recording goes on with the next event. If the typing guard fails while judging a held
token, the held events are dropped the same way. The message names the event's type/kind
and the exception's class, never the exception's text (it could quote the secret).

One lock orders the whole path, so the events reach the writer in seq order whether they
come from the recorder's threads or the guard's release thread. Against the copies it
replaces it adds one method call and one uncontended lock per event; the redactor and the
guard cost what they did (``python -m bench core`` / ``bench privacy`` measure them).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from crowd.pipeline.redaction import RedactorUnavailable
from crowd.pipeline.values import Unrecordable, event_label, fit_event, fits_int, repair_message
from crowd.pipeline.writer import Event, EventWriter
from crowd.privacy import Redactor
from crowd.privacy.typing import Documents, TypingGuard, document_line_context

log = logging.getLogger(__name__)

Clock = Callable[[], tuple[int, int]]     # () -> (t: µs since the recording began, wall: epoch ms)
POLL_INTERVAL_S = 0.1                     # how often idle held tokens are looked at


def monotonic_clock(t0_ns: int | None = None) -> Clock:
    """``t`` in microseconds since ``t0_ns`` (now, if not given) and ``wall`` in epoch ms."""
    start = time.monotonic_ns() if t0_ns is None else t0_ns

    def now() -> tuple[int, int]:
        return (time.monotonic_ns() - start) // 1000, time.time_ns() // 1_000_000

    return now


class RecordingPipeline:
    """The path every recorded event takes to the writer (see the module docstring).

    ``redactor``: a ``Redactor``; a ``RedactorUnavailable`` (nothing but error events is
    written); or None when the user turned redaction off. ``typing_guard``: hold typed
    secret-shaped tokens (live recorders); ``documents`` lets the guard see the line a token
    is typed on. ``on_error(message)`` is told about each failure (the session's status).
    """

    def __init__(self, writer: EventWriter, redactor: Redactor | RedactorUnavailable | None, *,
                 clock: Clock | None = None, typing_guard: bool = True,
                 documents: Documents | None = None,
                 on_error: Callable[[str], None] | None = None,
                 poll_interval: float = POLL_INTERVAL_S, first_seq: int = 1) -> None:
        self.writer = writer
        self.redactor = redactor
        self.clock = clock or monotonic_clock()
        self.on_error = on_error
        self.redactions = 0           # redaction notes written
        self.withheld = 0             # events not written: redaction failed, or unrecordable
        self.repaired = 0             # events written with values fitted to the format
        self._seq = first_seq - 1     # a continued recording goes on after its last seq
        self._lock = threading.Lock()
        self._closed = False
        self._close_hooks: list[Callable[[], None]] = []
        self._guard: TypingGuard | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if typing_guard and isinstance(redactor, Redactor):
            line_context = document_line_context(documents) if documents is not None else None
            self._guard = TypingGuard(redactor, line_context=line_context)
            self._thread = threading.Thread(target=self._release_idle, args=(poll_interval,),
                                            name="crowd-typing-guard", daemon=True)
            self._thread.start()

    # -- what callers may ask -----------------------------------------------------------------
    @property
    def seq(self) -> int:
        """The last seq given out (events recorded so far, notes and errors included)."""
        return self._seq

    @property
    def holding(self) -> int:
        """Events recorded but held by the typing guard (the newest ones); 0 = all at the writer."""
        guard = self._guard
        return guard.holding if guard is not None else 0

    @property
    def events_written(self) -> int:
        return self.writer.events_written

    @property
    def bytes_written(self) -> int:
        return self.writer.bytes_written

    def on_close(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the writer is closed (everything is on disk)."""
        self._close_hooks.append(callback)

    # -- the path -----------------------------------------------------------------------------
    def record(self, type_: str, kind: str, fields: dict[str, object]) -> Event | None:
        """Stamp a new event with the clock and send it down the path. Returns the event as
        written (scrubbed; later rewritten if it is a held keystroke), None if withheld."""
        with self._lock:
            self._seq += 1
            t, wall = self.clock()
            event: Event = {"seq": self._seq, "t": t, "wall": wall, "type": type_, "kind": kind}
            event.update(fields)
            return self._pass(event)

    def write(self, event: Event) -> Event | None:
        """Send an event that carries its own ``t``/``wall`` (imports) down the path; it gets
        the next seq. None if withheld."""
        with self._lock:
            self._seq += 1
            event["seq"] = self._seq
            return self._pass(event)

    def _pass(self, event: Event) -> Event | None:
        try:
            event, repairs = fit_event(event)
        except Unrecordable as exc:
            self._withhold(event, f"not recordable ({exc})")
            return None
        redactor = self.redactor
        notes: list[Event] = []
        if redactor is not None:
            if isinstance(redactor, RedactorUnavailable):
                self._withhold(event, f"no redactor ({redactor.reason})")
                return None
            try:
                notes = redactor.scrub_event(event)
            except Exception as exc:  # noqa: BLE001 - fail closed: the event is not written
                log.exception("redaction failed on a %s event; it is not written", event.get("kind"))
                self._withhold(event, f"redaction failed ({type(exc).__name__})")
                return None
        out = [event]
        if repairs:
            self.repaired += 1
            self._seq += 1
            out.append({"seq": self._seq, "t": event["t"], "wall": event["wall"], "type": "session",
                        "kind": "error", "message": self._scrub_message(repair_message(event, repairs))})
        for note in notes:
            self._seq += 1
            out.append({"seq": self._seq, "t": event["t"], "wall": event["wall"], "type": "redaction",
                        "kind": "redaction", **note})
        self.redactions += len(notes)
        guard = self._guard
        if guard is not None:
            try:
                ready: list[Event] = []
                for item in out:
                    ready += guard.push(item)
            except Exception as exc:  # noqa: BLE001 - fail closed: what was held is not written
                self._guard_failed(exc, event)
                return None
            out = ready
        if out:
            self.writer.extend(out)
        return event

    def _withhold(self, event: Event, why: str) -> None:
        """Write an error event in ``event``'s place (its seq and time) instead of it."""
        self.withheld += 1
        message = f"{why}: a {event_label(event)} event was not written"
        t, wall = event.get("t", 0), event.get("wall", 0)
        if not all(fits_int(v) or type(v) is float for v in (t, wall)):  # an import's bad times
            t, wall = self.clock()
        self._write_error(event["seq"], t, wall, message)

    def _guard_failed(self, exc: Exception, event: Event | None) -> None:
        log.exception("the typing guard failed; the events it held are not written")
        guard = self._guard
        dropped = guard.discard() if guard is not None else 0
        self.withheld += dropped
        self._seq += 1
        t, wall = (event["t"], event["wall"]) if event is not None else self.clock()
        self._write_error(self._seq, t, wall, f"typing guard failed ({type(exc).__name__}): "
                                              f"{dropped} held events were not written")

    def _scrub_message(self, message: str) -> str:
        """Our own messages name files and fields, which can hold a secret too (issue 16)."""
        redactor = self.redactor
        if not isinstance(redactor, Redactor):
            return message
        try:
            return redactor.scrub_text(message)[0]
        except Exception:  # noqa: BLE001 - fail closed: only the message's head (what failed) is kept
            log.exception("redaction failed on an error message")
            return message.split(":", 1)[0] + ": details not written (redaction failed)"

    def _write_error(self, seq: int, t: int, wall: int, message: str) -> None:
        message = self._scrub_message(message)
        error = {"seq": seq, "t": t, "wall": wall, "type": "session", "kind": "error", "message": message}
        guard = self._guard
        # behind what the guard holds, so seq order on disk is kept
        ready = guard.push(error) if guard is not None else [error]
        if ready:
            self.writer.extend(ready)
        if self.on_error is not None:
            self.on_error(message)

    def _release_idle(self, interval: float) -> None:
        guard = self._guard
        assert guard is not None
        while not self._stop.wait(interval):
            with self._lock:
                try:
                    ready = guard.poll()
                except Exception as exc:  # noqa: BLE001 - fail closed, keep releasing later tokens
                    self._guard_failed(exc, None)
                    continue
                if ready:
                    self.writer.extend(ready)

    def _release(self) -> None:
        """Close any open token and hand everything held to the writer (lock held)."""
        guard = self._guard
        if guard is None:
            return
        try:
            ready = guard.flush()
        except Exception as exc:  # noqa: BLE001
            self._guard_failed(exc, None)
            return
        if ready:
            self.writer.extend(ready)

    # -- lifecycle ----------------------------------------------------------------------------
    def flush(self) -> int:
        """Everything on disk now: open tokens are closed first. Returns events written."""
        with self._lock:
            self._release()
        return self.writer.flush()

    def rotate(self) -> None:
        """Finish the current segment (held tokens are released into it first)."""
        with self._lock:
            self._release()
        self.writer.rotate()

    def drop_where(self, doomed: Callable[[Event], bool]) -> int:
        """Panic: delete the events ``doomed`` picks, held ones and written ones."""
        with self._lock:
            guard = self._guard
            removed = guard.drop_where(doomed) if guard is not None else 0
        return removed + self.writer.drop_where(doomed)

    def close(self) -> None:
        """Release what is held, close the writer, then run the ``on_close`` callbacks."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._lock:
            self._release()
        try:
            self.writer.close()
        finally:
            for callback in self._close_hooks:
                callback()
