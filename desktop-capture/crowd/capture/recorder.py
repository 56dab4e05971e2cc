"""The desktop recorder: screen video plus keylog, in crowd-cast's segments and wire format.

Usage from code (what tests and the IDM's synthetic data generator do)::

    rec = Recorder(RecorderConfig(output_dir=out, display=":5", fps=10, apps=["Allowed"]))
    rec.start()
    rec.wait_context("Allowed", timeout=10)   # focus reached an allowed app
    ...                                        # drive the screen (xdotool, a person)
    segments = rec.stop()                      # closed segments, oldest first

Threads and the timeline:
- The *capture* thread (here) wakes at every frame slot k/fps of the video clock, reads the
  focus label, grabs the screen (or uses black when the label is not an allowed app) and
  queues the picture with its slot. The slot comes from the clock at grab time, so a late
  grab takes a later slot and the encoder repeats the previous picture for the missed ones:
  frame k is always the screen at ~k/fps.
- Input callbacks (pynput threads) stamp each event with the same video clock, so
  ``timestamp_us`` maps to frame ``floor(t * fps / 1e6)``; they are dropped unless the focused
  app is allowed (``crowd.capture.gate``).
- The *encoder* thread (``crowd.capture.encoder_thread``) owns the PyAV container and the
  keylog file writes, keeping disk and codec work off the input path.

The Recorder composes one part per concern and holds the single lock they run under:
``segments`` (video clock, rotation, idle pause, suspend), ``gate`` (input gating, releases),
``frames`` (focus-switch holdback, black-frame guard), ``encoder_thread`` and ``status``
(tray colour rule).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from crowd.capture.clock import Clock, SuspendDetector
from crowd.capture.encoder import VideoSettings, fit_size
from crowd.capture.encoder_thread import EncoderThread
from crowd.capture.focus import Allowlist, FocusInfo, FocusSource
from crowd.capture.frames import BlackFrameGuard, FrameHoldback, Grabbed, Verdict
from crowd.capture.gate import KEY_KINDS, InputGate
from crowd.capture.grab import ScreenGrabber, is_black
from crowd.capture.hold import DeletedCallback, SegmentCallback, SegmentHold, purge_recent
from crowd.capture.input import RawInput
from crowd.capture.keynames import KeyNamer
from crowd.capture.segments import Step, Timeline, segment_metadata
from crowd.capture.status import RecorderStatus, fresh_window, tray_colour
from crowd.format.desktop import keylog as kl
from crowd.format.desktop.layout import Segment, new_session_id

__all__ = ["Recorder", "RecorderConfig", "RecorderStatus"]

log = logging.getLogger("crowd.capture")


@dataclass
class RecorderConfig:
    """Everything a recording run needs; defaults are crowd-cast's.

    ``apps`` is the allowlist (app ids as ``crowd cast setup`` stores them; ``["*"]`` records
    the entire screen). An empty allowlist records black video and no input.
    """
    output_dir: Path
    apps: list[str] = field(default_factory=list)
    display: str | None = None
    monitor: int = 1
    fps: float = 30.0
    segment_seconds: float = 300.0
    idle_seconds: float = 120.0
    # a closed segment is handed on after this long; 0 = at once: the upload queue's own hold
    # (600 s, during which panic can still shred the bundle) is then the only hold
    hold_seconds: float = 0.0
    panic_seconds: float = 600.0     # what "delete last 10 minutes" deletes
    video: VideoSettings = field(default_factory=VideoSettings)
    max_size: tuple[int, int] = (1920, 1080)
    with_cursor: bool = True
    guard_seconds: float = 0.1
    black_guard_seconds: float = 3.0
    active_seconds: float = 5.0
    suspend_threshold: float = 2.0
    flush_interval: float = 1.0
    queue_seconds: float = 2.0

    def __post_init__(self) -> None:
        self.output_dir = Path(self.output_dir)
        if self.fps <= 0 or self.segment_seconds <= 0:
            raise ValueError("fps and segment_seconds must be positive")
        if self.video.fps != self.fps:
            self.video = replace(self.video, fps=self.fps)


class InputSource(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class _Devices:
    """What a run opens at start and closes at stop."""
    focus: FocusSource
    namer: KeyNamer
    grabber: ScreenGrabber          # replaced when the black-frame guard reopens it
    out_size: tuple[int, int]       # encoded picture size
    suspend: SuspendDetector
    input: InputSource | None = None


class Recorder:
    def __init__(self, config: RecorderConfig, *,
                 focus: FocusSource | None = None,
                 grabber_factory: Callable[[], ScreenGrabber] | None = None,
                 input_factory: Callable[[Callable[[RawInput], None]], Any] | None = None,
                 clock: Clock | None = None,
                 on_segment_ready: SegmentCallback | None = None,
                 on_segments_deleted: DeletedCallback | None = None,
                 on_alert: Callable[[str], None] | None = None,
                 on_state: Callable[[RecorderStatus], None] | None = None) -> None:
        self.config = config
        self.clock = clock or Clock()
        self._focus_arg = focus
        self._grabber_factory = grabber_factory or (lambda: ScreenGrabber(
            config.display, config.monitor, config.with_cursor))
        self._input_factory = input_factory
        self.allowlist = Allowlist(config.apps)
        self.on_segments_deleted = on_segments_deleted
        self.on_alert = on_alert
        self.on_state = on_state
        self.hold = SegmentHold(config.output_dir, config.hold_seconds, on_segment_ready)
        self.segments: list[Segment] = []   # closed segments of this Recorder, in order
        self.alerts: list[str] = []
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._running = False
        self._capture_thread: threading.Thread | None = None
        self._devices: _Devices | None = None
        self._reset_run_state()

    def _reset_run_state(self) -> None:
        """Fresh parts for a run: everything below restarts with each session."""
        cfg = self.config
        self._timeline = Timeline(self.clock, cfg.output_dir, cfg.fps, cfg.segment_seconds, cfg.idle_seconds)
        self._gate = InputGate()
        self._encoder = EncoderThread(cfg.video, self.clock, max(4, int(cfg.fps * cfg.queue_seconds)),
                                      on_closed=self._segment_closed, on_error=self._alert)
        self._holdback = FrameHoldback(cfg.guard_seconds, cfg.fps, self._encoder.frame)
        self._black = BlackFrameGuard(cfg.black_guard_seconds, cfg.active_seconds)
        self._events = 0   # keylog entries written in this run

    @property
    def _dev(self) -> _Devices:
        assert self._devices is not None, "start() first"
        return self._devices

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "Recorder":
        """Begin a new session (new uuid, segment 0). Returns once capture is running."""
        with self._lock:
            if self._running:
                return self
            self._reset_run_state()
            self._stop.clear()
            self.config.output_dir.mkdir(parents=True, exist_ok=True)
            self._timeline.session_id = new_session_id()
            self.hold.scan(exclude_session=self._timeline.session_id)
            focus = self._focus_arg or _default_focus(self.config.display)
            focus.start()
            self._gate.label = self.allowlist.label(focus.current())
            namer = KeyNamer(self.config.display or os.environ.get("DISPLAY")) \
                if focus.platform == "linux" else KeyNamer(None)
            grabber = self._grabber_factory().open()
            self._devices = _Devices(focus, namer, grabber, fit_size(*grabber.size, *self.config.max_size),
                                     SuspendDetector(self.clock, self.config.suspend_threshold))
            self._gate.last_input = self.clock.monotonic()
            self._running = True
            self._open_segment()
        self._encoder.start()
        self._capture_thread = threading.Thread(target=self._capture_loop, name="crowd-capture", daemon=True)
        self._capture_thread.start()
        if self._input_factory is not None:
            source = self._input_factory(self._on_input)
        else:
            from crowd.capture.input import PynputInput   # pynput needs $DISPLAY at import

            source = PynputInput(self._on_input, self.config.display, self.clock.monotonic)
        self._dev.input = source
        source.start()
        self._notify_state()
        return self

    def stop(self) -> list[Segment]:
        """Finish the live segment and stop; returns the segments closed by this Recorder."""
        with self._lock:
            if not self._running:
                return list(self.segments)
            self._running = False
            self._release_held_inputs()
        dev = self._dev
        try:
            if dev.input is not None:
                dev.input.stop()
        except Exception:  # noqa: BLE001 - a dead listener must not block stopping
            log.exception("stopping input listeners")
        self._stop.set()
        self._wake.set()
        self._encoder.join(timeout=60)
        if self._capture_thread is not None:
            self._capture_thread.join(timeout=60)
            self._capture_thread = None
        dev.focus.close()
        dev.namer.close()
        self._notify_state()
        return list(self.segments)

    @property
    def running(self) -> bool:
        return self._running

    def panic(self) -> list[Path]:
        """Delete the last ``panic_seconds`` (10 min): the live segment and every held one.

        Everything written in that window goes, wherever it sits: segments still in a local
        hold and segments already handed to the upload queue (their files stay on disk until
        uploaded). ``on_segments_deleted`` is then always called, even with nothing deleted
        here: the upload side must shred its held bundles of the window (their tars are
        copies). Recording restarts with a new session if it was running.
        """
        was_running = self._running
        self.stop()
        deleted = self.hold.purge()
        deleted += purge_recent(self.config.output_dir, self.config.panic_seconds)
        self.segments = [s for s in self.segments if s.video_path.exists() or s.keylog_path.exists()]
        if self.on_segments_deleted is not None:
            self.on_segments_deleted(deleted)
        if was_running:
            self.start()
        return deleted

    def timestamp_us(self, mono: float) -> tuple[int, int]:
        """``(segment index, keylog timestamp)`` that a monotonic time maps to right now.

        For scripts that drive the screen (tests, synthetic data) and want to know where an
        action they performed lands on the video clock of the live segment.
        """
        with self._lock:
            live = self._timeline.live
            if live is None:
                raise RuntimeError("not recording")
            return live.index, int((self._timeline.vt(mono) - live.start_vt) * 1_000_000)

    # ------------------------------------------------------------------ segments (under the lock)
    def _write(self, ts: int, events: Iterable[kl.Event]) -> None:
        """Append entries to the live segment's keylog (dropped when there is none)."""
        live = self._timeline.live
        if live is None:
            return
        for event in events:
            live.keylog.append(ts, event)
            self._events += 1

    def _open_segment(self) -> None:
        """Start the next segment now: Metadata and ContextChanged at t=0."""
        dev = self._dev
        live = self._timeline.open_next()
        self._write(0, [segment_metadata(dev.grabber, dev.out_size, dev.focus.platform, self.allowlist.capture_mode),
                        kl.ContextChanged(self._gate.label)])
        self._encoder.open(live, dev.out_size)

    def _close_segment(self) -> None:
        live = self._timeline.close()
        if live is not None:
            self._encoder.close(live)

    def _new_segment(self) -> None:
        self._close_segment()
        self._open_segment()

    def _segment_closed(self, seg: Segment) -> None:
        """On the encoder thread, once a segment's files are complete."""
        self.segments.append(seg)
        self.hold.add(seg)
        self.hold.release_due()   # at once when hold_seconds is 0 (the default)

    def _pause(self, mono: float) -> None:
        self._timeline.pause(mono)
        self._release_held_inputs()
        log.info("idle for %.0f s: paused", self.config.idle_seconds)
        self._notify_state()

    def _resume(self, mono: float) -> None:
        if self._timeline.resume(mono):   # a suspend happened during the pause
            self._new_segment()
        self._wake.set()
        self._notify_state()

    # ------------------------------------------------------------------ context and input
    def _update_context(self, focus: FocusInfo | None, mono: float | None = None) -> str:
        """Apply the focus sample; write ContextChanged (and releases) on a change."""
        label = self.allowlist.label(focus)
        switch = self._gate.switch(label)
        if switch is None:
            return label
        if switch.left_capture:
            self._holdback.block_at(self._timeline.vt(mono))
        self._write(self._timeline.ts_us(mono), switch.events)
        self._notify_state()
        return label

    def _release_held_inputs(self) -> None:
        """Synthesise releases for keys/buttons held when input stops being recorded."""
        self._write(self._timeline.ts_us(), self._gate.release_all())

    def _on_input(self, ev: RawInput) -> None:
        try:
            self._handle_input(ev)
        except Exception:  # noqa: BLE001 - an exception would kill the pynput listener
            log.exception("input event %s", ev.kind)

    def _handle_input(self, ev: RawInput) -> None:
        dev = self._dev
        code_name = dev.namer.name(ev.key) if ev.kind in KEY_KINDS else None
        # keys and buttons are gated by a fresh focus reading; moves by the cached one
        focus = dev.focus.current() if ev.kind == "move" else dev.focus.query_now()
        with self._lock:
            if not self._running or self._timeline.live is None:
                return
            self._update_context(focus, ev.t)
            region = dev.grabber.region
            event = self._gate.accept(ev, code_name, (region.left, region.top) if region is not None else (0, 0))
            if not self._gate.captured:
                return
            if self._timeline.paused:
                self._resume(ev.t)
            if event is not None:
                self._write(self._timeline.ts_us(ev.t), [event])

    # ------------------------------------------------------------------ capture thread
    def _capture_loop(self) -> None:
        cfg = self.config
        last_flush = self.clock.monotonic()
        try:
            while not self._stop.is_set():
                mono = self.clock.monotonic()
                with self._lock:
                    plan = self._timeline.plan(mono, suspended=self._dev.suspend.check() is not None,
                                               last_input=self._gate.last_input)
                    if plan.step in (Step.NEW_SEGMENT, Step.PAUSE, Step.SUSPEND_NOTED):
                        self._holdback.release(everything=True)
                        if plan.step is Step.NEW_SEGMENT:
                            self._new_segment()
                        elif plan.step is Step.PAUSE:
                            self._pause(mono)
                        if plan.suspended:
                            log.info("suspend detected: new segment")
                        continue
                if mono - last_flush >= cfg.flush_interval:
                    last_flush = mono
                    self._encoder.flush_keylog()
                    self.hold.release_due()
                if plan.wait > 0:
                    self._wake.wait(min(plan.wait, 0.25))
                    self._wake.clear()
                    continue
                self._capture_one()
            with self._lock:
                self._holdback.release(everything=True)
                self._close_segment()
        except Exception as exc:  # noqa: BLE001 - report, stop cleanly, never hang the encoder
            log.exception("capture loop failed")
            self._alert(f"capture stopped: {exc}")
            with self._lock:
                self._running = False
                self._close_segment()
        finally:
            self._encoder.stop()
            try:
                self._dev.grabber.close()
            except Exception:  # noqa: BLE001 - closing a broken grabber: nothing left to save
                pass

    def _capture_one(self) -> None:
        """Grab (or blank) the frame for the current slot."""
        dev = self._dev
        with self._lock:
            live = self._timeline.live
            assert live is not None
            label = self._update_context(dev.focus.current())
        frame = None
        black = True
        vt = self._timeline.vt()
        if Allowlist.is_captured(label):
            frame = dev.grabber.grab()
            # the picture is from somewhere in [before, after]; a stalled thread can make the
            # grab span a slot boundary, so the midpoint decides the slot
            vt = (vt + self._timeline.vt()) / 2
            black = is_black(frame)
        with self._lock:
            # focus may have left while grabbing: never keep such a frame
            if self._gate.label != label or self._timeline.live is not live:
                frame, black = None, True
            slot = max(self._timeline.slot + 1, int((vt - live.start_vt) * self.config.fps))
            self._timeline.slot = slot
            self._holdback.add(Grabbed(slot, vt, frame, black))
            self._check_black(label, black)
            self._holdback.release()

    def _check_black(self, label: str, black: bool) -> None:
        """Black pictures from an allowed app while the user is active: alert and reopen."""
        verdict = self._black.check(self.clock.monotonic(), self._gate.last_input,
                                    Allowlist.is_captured(label), black)
        if verdict is Verdict.TRIPPED:
            self._alert("screen capture shows only black while you are working: restarting capture")
            dev = self._dev
            try:
                dev.grabber.close()
                dev.grabber = self._grabber_factory().open()
            except Exception as exc:  # noqa: BLE001
                self._alert(f"could not reopen screen capture: {exc}")
        if verdict is not Verdict.NONE:
            self._notify_state()

    def _alert(self, message: str) -> None:
        log.warning(message)
        self.alerts.append(message)
        if self.on_alert is not None:
            try:
                self.on_alert(message)
            except Exception:  # noqa: BLE001
                log.exception("alert callback")

    # ------------------------------------------------------------------ status
    def status(self) -> RecorderStatus:
        with self._lock:
            tl, progress = self._timeline, self._encoder.progress
            if not self._running:
                state = "stopped"
            elif tl.paused:
                state = "paused"
            else:
                state = "recording"
            fresh = self.clock.monotonic() - progress.content_written_at <= fresh_window(self.config.fps)
            tray, detail = tray_colour(state, self._gate.label, fresh, self._black.alert)
            return RecorderStatus(state, tray, self._gate.label, tl.session_id, tl.index,
                                  progress.frames, progress.dropped, self._events, self._black.alert,
                                  tl.slot, detail)

    def _notify_state(self) -> None:
        if self.on_state is not None:
            try:
                self.on_state(self.status())
            except Exception:  # noqa: BLE001
                log.exception("state callback")

    def wait_for(self, predicate: Callable[[RecorderStatus], bool], timeout: float = 30.0) -> RecorderStatus:
        """Poll the status until ``predicate`` holds; raises TimeoutError with the last status.

        A poll, not an event: predicates may look at anything (the upload queue, callbacks'
        lists), not only at changes the recorder could announce.
        """
        deadline = time.monotonic() + timeout
        while True:
            st = self.status()
            if predicate(st):
                return st
            if time.monotonic() > deadline:
                raise TimeoutError(f"recorder status never matched: {st}")
            time.sleep(0.01)

    def wait_context(self, label: str, timeout: float = 30.0) -> RecorderStatus:
        """Wait until the recorder's context label is ``label`` (an app id or a sentinel)."""
        return self.wait_for(lambda st: st.context == label, timeout)


def _default_focus(display: str | None) -> FocusSource:
    from crowd.capture.focus import open_focus_source   # platform backends import lazily

    return open_focus_source(display)
