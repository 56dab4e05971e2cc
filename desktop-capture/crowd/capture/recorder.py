"""The desktop recorder: screen video plus keylog, in crowd-cast's segments and wire format.

Usage from code (what tests and the IDM's synthetic data generator do)::

    rec = Recorder(RecorderConfig(output_dir=out, display=":5", fps=10, apps=["Allowed"]))
    rec.start()
    rec.wait_context("Allowed", timeout=10)   # focus reached an allowed app
    ...                                        # drive the screen (xdotool, a person)
    segments = rec.stop()                      # closed segments, oldest first

Threads and the timeline:
- The *capture* thread wakes at every frame slot k/fps of the video clock, reads the focus
  label, grabs the screen (or uses black when the label is not an allowed app) and queues
  the picture with its slot. The slot comes from the clock at grab time, so a late grab
  takes a later slot and the encoder repeats the previous picture for the missed ones:
  frame k is always the screen at ~k/fps.
- Input callbacks (pynput threads) stamp each event with the same video clock, so
  ``timestamp_us`` maps to frame ``floor(t * fps / 1e6)``; they are dropped unless the focused
  app is allowed. Leaving an allowed app synthesises releases for held keys/buttons.
- The *encoder* thread owns the PyAV container and the keylog file writes, keeping disk and
  codec work off the input path. It also marks when frames with content were last written,
  which is what the tray's green means.
- Frames are held back ``guard_seconds`` before encoding; when focus leaves the allowlist,
  pending frames grabbed just before the switch are blanked too, because a window manager
  raises the new window slightly before it announces the focus change.

Idle: no input in an allowed app for ``idle_seconds`` pauses (no frames); the first such input
resumes, shifting the time origin by the pause. A detected suspend closes the segment and
starts the next. Segments rotate every ``segment_seconds`` of video time.
"""
from __future__ import annotations

import collections
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from crowd.format.desktop import keylog as kl
from crowd.capture.clock import Clock, SuspendDetector
from crowd.capture.encoder import SegmentEncoder, VideoSettings, fit_size
from crowd.capture.focus import Allowlist, FocusInfo, FocusSource
from crowd.capture.grab import ScreenGrabber, is_black
from crowd.capture.hold import DeletedCallback, SegmentCallback, SegmentHold
from crowd.capture.input import RawInput
from crowd.capture.keynames import KeyNamer
from crowd.format.desktop.layout import Segment, new_session_id, segment_paths

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


@dataclass
class RecorderStatus:
    state: str                 # stopped | recording | paused
    tray: str                  # green | orange | grey
    context: str               # app id, UNCAPTURED or UNKNOWN
    session_id: str | None
    segment_index: int
    frames: int                # frames written in this run (repeats included)
    dropped: int               # frame slots filled by repeating (the grab was late)
    events: int                # keylog entries written in this run
    black_alert: bool
    slot: int = -1             # last frame slot captured in the live segment
    detail: str = ""


@dataclass
class _Live:
    """The segment being written: shared by capture, input and encoder threads."""
    session_id: str
    index: int
    start_vt: float
    video: Path
    keylog: kl.KeylogWriter


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
        self._threads: list[threading.Thread] = []
        self._reset_run_state()

    # ------------------------------------------------------------------ lifecycle
    def _reset_run_state(self) -> None:
        self._session_id: str | None = None
        self._seg_index = -1
        self._live: _Live | None = None
        self._origin_shift = 0.0
        self._paused = False
        self._paused_at = 0.0
        self._label = kl.UNKNOWN
        self._block_vt: float | None = None
        self._held_keys: dict[int, str] = {}
        self._held_buttons: set[str] = set()
        self._last_pos: tuple[float, float] | None = None
        self._last_input = 0.0
        self._frames = 0
        self._dropped = 0
        self._events = 0
        self._content_written_at = 0.0
        self._black_since: float | None = None
        self._black_alert = False
        self._rotate_reason: str | None = None
        self._slot = -1
        # unbounded so control messages never block under the lock; frames are bounded by hand
        self._queue: queue.Queue = queue.Queue()
        self._queue_limit = max(4, int(self.config.fps * self.config.queue_seconds))

    def start(self) -> "Recorder":
        """Begin a new session (new uuid, segment 0). Returns once capture is running."""
        with self._lock:
            if self._running:
                return self
            self._reset_run_state()
            self._stop.clear()
            self.config.output_dir.mkdir(parents=True, exist_ok=True)
            self._session_id = new_session_id()
            self.hold.scan(exclude_session=self._session_id)
            self._focus = self._focus_arg or _default_focus(self.config.display)
            self._focus.start()
            self._label = self.allowlist.label(self._focus.current())
            self._namer = KeyNamer(self.config.display or os.environ.get("DISPLAY")) \
                if self._focus.platform == "linux" else KeyNamer(None)
            self._grabber = self._grabber_factory().open()
            src_w, src_h = self._grabber.size
            self._out_size = fit_size(src_w, src_h, *self.config.max_size)
            self._suspend = SuspendDetector(self.clock, self.config.suspend_threshold)
            self._last_input = self.clock.monotonic()
            self._running = True
            self._open_segment()
        enc = threading.Thread(target=self._encoder_loop, name="crowd-encoder", daemon=True)
        cap = threading.Thread(target=self._capture_loop, name="crowd-capture", daemon=True)
        self._threads = [enc, cap]
        enc.start()
        cap.start()
        if self._input_factory is not None:
            self._input = self._input_factory(self._on_input)
        else:
            from crowd.capture.input import PynputInput

            self._input = PynputInput(self._on_input, self.config.display, self.clock.monotonic)
        self._input.start()
        self._notify_state()
        return self

    def stop(self) -> list[Segment]:
        """Finish the live segment and stop; returns the segments closed by this Recorder."""
        with self._lock:
            if not self._running:
                return list(self.segments)
            self._running = False
            self._release_held_inputs()
        try:
            self._input.stop()
        except Exception:  # noqa: BLE001 - a dead listener must not block stopping
            log.exception("stopping input listeners")
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout=60)
        self._threads = []
        self._focus.close()
        self._namer.close()
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
        from crowd.capture.hold import purge_recent

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

    # ------------------------------------------------------------------ clocks
    def _vt(self, mono: float | None = None) -> float:
        """Video-clock seconds: monotonic minus idle pauses."""
        return (self.clock.monotonic() if mono is None else mono) - self._origin_shift

    def _ts_us(self, mono: float | None = None) -> int:
        live = self._live
        if live is None:
            return 0
        return max(0, int((self._vt(mono) - live.start_vt) * 1_000_000))

    def timestamp_us(self, mono: float) -> tuple[int, int]:
        """``(segment index, keylog timestamp)`` that a monotonic time maps to right now.

        For scripts that drive the screen (tests, synthetic data) and want to know where an
        action they performed lands on the video clock of the live segment.
        """
        with self._lock:
            live = self._live
            if live is None:
                raise RuntimeError("not recording")
            return live.index, int((self._vt(mono) - live.start_vt) * 1_000_000)

    # ------------------------------------------------------------------ segments
    def _open_segment(self) -> None:
        """Start the next segment now: Metadata and ContextChanged at t=0."""
        assert self._session_id is not None
        self._seg_index += 1
        video, keylog_path = segment_paths(self.config.output_dir, self._session_id, self._seg_index)
        writer = kl.KeylogWriter(keylog_path)
        self._live = _Live(self._session_id, self._seg_index, self._vt(), video, writer)
        self._slot = -1
        writer.append(0, self._metadata())
        writer.append(0, kl.ContextChanged(self._label))
        self._events += 2
        self._queue.put(("open", self._live))

    def _close_segment(self) -> None:
        live = self._live
        if live is None:
            return
        self._live = None
        self._queue.put(("close", live))

    def _metadata(self) -> kl.Metadata:
        g = self._grabber
        src_w, src_h = g.size
        out_w, out_h = self._out_size
        screen = g.monitors[0] if g.monitors else g.region
        assert screen is not None and g.region is not None
        return kl.Metadata(
            screen.width, screen.height, screen.width / screen.height,
            out_w, out_h, out_w / out_h, src_w, src_h, src_w / src_h,
            datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            g.region.as_wire(), [m.as_wire() for m in g.monitors[1:]] or [g.region.as_wire()],
            self._focus.platform, self.allowlist.capture_mode)

    # ------------------------------------------------------------------ context
    def _update_context(self, focus: FocusInfo | None, mono: float | None = None) -> str:
        """Apply the focus sample; write ContextChanged (and releases) on a change."""
        label = self.allowlist.label(focus)
        if label == self._label:
            return label
        was_captured = Allowlist.is_captured(self._label)
        ts = self._ts_us(mono)
        live = self._live
        if was_captured and not Allowlist.is_captured(label):
            self._release_held_inputs(ts)
            self._block_vt = self._vt(mono)
        self._label = label
        if live is not None:
            live.keylog.append(ts, kl.ContextChanged(label))
            self._events += 1
        self._notify_state()
        return label

    def _release_held_inputs(self, ts: int | None = None) -> None:
        """Synthesise releases for keys/buttons held when input stops being recorded."""
        live = self._live
        if live is None:
            self._held_keys.clear()
            self._held_buttons.clear()
            return
        ts = self._ts_us() if ts is None else ts
        for code, name in list(self._held_keys.items()):
            live.keylog.append(ts, kl.KeyRelease(code, name))
            self._events += 1
        for button in sorted(self._held_buttons):
            live.keylog.append(ts, kl.MouseRelease(button, 0.0, 0.0))
            self._events += 1
        self._held_keys.clear()
        self._held_buttons.clear()

    # ------------------------------------------------------------------ input
    def _on_input(self, ev: RawInput) -> None:
        try:
            self._handle_input(ev)
        except Exception:  # noqa: BLE001 - an exception would kill the pynput listener
            log.exception("input event %s", ev.kind)

    def _handle_input(self, ev: RawInput) -> None:
        code_name = self._namer.name(ev.key) if ev.kind in ("key_press", "key_release") else None
        # keys and buttons are gated by a fresh focus reading; moves by the cached one
        focus = self._focus.current() if ev.kind == "move" else self._focus.query_now()
        with self._lock:
            if not self._running or self._live is None:
                return
            label = self._update_context(focus, ev.t)
            if ev.kind == "move":
                prev, self._last_pos = self._last_pos, (ev.x, ev.y)
            if not Allowlist.is_captured(label):
                return
            self._last_input = ev.t
            if self._paused:
                self._resume(ev.t)
            live = self._live
            if live is None:
                return
            ts = self._ts_us(ev.t)
            event: kl.Event | None = None
            if code_name is not None:
                code, name = code_name
                if ev.kind == "key_press":
                    self._held_keys[code] = name
                    event = kl.KeyPress(code, name)
                else:
                    self._held_keys.pop(code, None)
                    event = kl.KeyRelease(code, name)
            elif ev.kind == "move":
                if prev is not None:
                    event = kl.MouseMove(float(ev.x - prev[0]), float(ev.y - prev[1]))
            elif ev.kind == "click":
                x, y = self._region_xy(ev.x, ev.y)
                if ev.pressed:
                    self._held_buttons.add(ev.button)
                    event = kl.MousePress(ev.button, x, y)
                else:
                    self._held_buttons.discard(ev.button)
                    event = kl.MouseRelease(ev.button, x, y)
            elif ev.kind == "scroll":
                x, y = self._region_xy(ev.x, ev.y)
                event = kl.MouseScroll(ev.dx, ev.dy, x, y)
            if event is not None:
                live.keylog.append(ts, event)
                self._events += 1

    def _region_xy(self, x: float, y: float) -> tuple[float, float]:
        r = self._grabber.region
        return (float(x - r.left), float(y - r.top)) if r is not None else (float(x), float(y))

    # ------------------------------------------------------------------ idle
    def _pause(self, mono: float) -> None:
        self._paused = True
        self._paused_at = mono
        self._release_held_inputs()
        log.info("idle for %.0f s: paused", self.config.idle_seconds)
        self._notify_state()

    def _resume(self, mono: float) -> None:
        self._origin_shift += mono - self._paused_at
        self._paused = False
        if self._rotate_reason:  # a suspend happened during the pause
            self._close_segment()
            self._open_segment()
            self._rotate_reason = None
        self._wake.set()
        self._notify_state()

    # ------------------------------------------------------------------ capture thread
    def _capture_loop(self) -> None:
        cfg = self.config
        fps = cfg.fps
        guard_frames = max(1, int(cfg.guard_seconds * fps + 0.999))
        pending: collections.deque = collections.deque()  # (slot, vt, frame|None, black)
        slot = -1
        last_flush = self.clock.monotonic()
        try:
            while not self._stop.is_set():
                mono = self.clock.monotonic()
                with self._lock:
                    if self._suspend.check() is not None:
                        self._flush_pending(pending, everything=True)
                        if self._paused:
                            self._rotate_reason = "suspend"
                        else:
                            self._close_segment()
                            self._open_segment()
                            slot = -1
                        log.info("suspend detected: new segment")
                        continue
                    if self._paused:
                        wait = 0.25
                    else:
                        live = self._live
                        assert live is not None
                        rel = self._vt(mono) - live.start_vt
                        if rel >= cfg.segment_seconds:
                            self._flush_pending(pending, everything=True)
                            self._close_segment()
                            self._open_segment()
                            slot = -1
                            continue
                        if mono - self._last_input >= cfg.idle_seconds:
                            self._flush_pending(pending, everything=True)
                            self._pause(mono)
                            continue
                        wait = (slot + 1) / fps - rel
                if mono - last_flush >= cfg.flush_interval:
                    last_flush = mono
                    self._queue.put(("flush", None))
                    self.hold.release_due()
                if wait > 0:
                    self._wake.wait(min(wait, 0.25))
                    self._wake.clear()
                    continue
                slot = self._capture_one(slot, pending, guard_frames)
            with self._lock:
                self._flush_pending(pending, everything=True)
                self._close_segment()
        except Exception as exc:  # noqa: BLE001 - report, stop cleanly, never hang the encoder
            log.exception("capture loop failed")
            self._alert(f"capture stopped: {exc}")
            with self._lock:
                self._running = False
                self._close_segment()
        finally:
            self._queue.put(("stop", None))
            try:
                self._grabber.close()
            except Exception:  # noqa: BLE001
                pass

    def _capture_one(self, slot: int, pending: collections.deque, guard_frames: int) -> int:
        """Grab (or blank) the frame for the current slot; returns the slot used."""
        with self._lock:
            live = self._live
            assert live is not None
            label = self._update_context(self._focus.current())
        frame = None
        black = True
        vt = self._vt()
        if Allowlist.is_captured(label):
            frame = self._grabber.grab()
            # the picture is from somewhere in [before, after]; a stalled thread can make the
            # grab span a slot boundary, so the midpoint decides the slot
            vt = (vt + self._vt()) / 2
            black = is_black(frame)
        with self._lock:
            # focus may have left while grabbing: never keep such a frame
            if self._label != label or self._live is not live:
                frame, black = None, True
            new_slot = max(slot + 1, int((vt - live.start_vt) * self.config.fps))
            pending.append((new_slot, vt, frame, black))
            self._slot = new_slot
            self._black_guard(label, black)
            self._flush_pending(pending, keep=guard_frames)
        return new_slot

    def _flush_pending(self, pending: collections.deque, keep: int = 0, everything: bool = False) -> None:
        """Send held-back frames to the encoder, blanking those near a switch away."""
        block = self._block_vt
        guard = self.config.guard_seconds
        while pending and (everything or len(pending) > keep):
            s, vt, frame, black = pending.popleft()
            if frame is not None and block is not None and block - guard <= vt <= block:
                frame, black = None, True
            if self._queue.qsize() >= self._queue_limit:
                continue  # encoder behind: the slot is filled by a repeat (counted there)
            self._queue.put(("frame", (s, frame, black)))

    def _black_guard(self, label: str, black: bool) -> None:
        """Black pictures from an allowed app while the user is active: alert and reopen."""
        now = self.clock.monotonic()
        user_active = now - self._last_input <= self.config.active_seconds
        if not Allowlist.is_captured(label) or not black or not user_active:
            if not black:
                self._black_since = None
                if self._black_alert:
                    self._black_alert = False
                    self._notify_state()
            return
        if self._black_since is None:
            self._black_since = now
            return
        if now - self._black_since >= self.config.black_guard_seconds:
            self._black_since = now  # next attempt after another full interval
            self._black_alert = True
            self._alert("screen capture shows only black while you are working: restarting capture")
            try:
                self._grabber.close()
                self._grabber = self._grabber_factory().open()
            except Exception as exc:  # noqa: BLE001
                self._alert(f"could not reopen screen capture: {exc}")
            self._notify_state()

    def _alert(self, message: str) -> None:
        log.warning(message)
        self.alerts.append(message)
        if self.on_alert is not None:
            try:
                self.on_alert(message)
            except Exception:  # noqa: BLE001
                log.exception("alert callback")

    # ------------------------------------------------------------------ encoder thread
    def _encoder_loop(self) -> None:
        enc: SegmentEncoder | None = None
        live: _Live | None = None
        while True:
            kind, item = self._queue.get()
            try:
                if kind == "open":
                    live = item
                    enc = SegmentEncoder(live.video, *self._out_size, self.config.video)
                elif kind == "frame" and enc is not None:
                    s, frame, black = item
                    repeated = enc.write(frame, s)
                    self._frames += repeated + 1
                    self._dropped += repeated
                    if not black:
                        self._content_written_at = self.clock.monotonic()
                    else:
                        self._content_written_at = 0.0
                elif kind == "flush" and live is not None:
                    live.keylog.flush()
                elif kind == "close" and item is not None:
                    closing: _Live = item
                    if enc is not None and live is closing:
                        enc.close()
                        enc, live = None, None
                    closing.keylog.close()
                    seg = Segment(closing.session_id, closing.index, self.config.output_dir,
                                  closing.video if closing.video.exists() else None, closing.keylog.path)
                    self.segments.append(seg)
                    self.hold.add(seg)
                    self.hold.release_due()   # at once when hold_seconds is 0 (the default)
                elif kind == "stop":
                    if enc is not None:
                        enc.close()
                    return
            except Exception as exc:  # noqa: BLE001 - keep draining so the capture side never blocks
                log.exception("encoder: %s", kind)
                self._alert(f"video encoder error: {exc}")

    # ------------------------------------------------------------------ status
    def status(self) -> RecorderStatus:
        with self._lock:
            if not self._running:
                state = "stopped"
            elif self._paused:
                state = "paused"
            else:
                state = "recording"
            fresh = self.clock.monotonic() - self._content_written_at <= max(2.0, 3.0 / self.config.fps)
            if state != "recording":
                tray = "grey"
            elif Allowlist.is_captured(self._label) and fresh and not self._black_alert:
                tray = "green"
            else:
                tray = "orange"
            detail = {"green": f"recording {self._label}", "grey": state,
                      "orange": "black frames: capture restarting" if self._black_alert
                      else f"blocked ({self._label})"}[tray]
            return RecorderStatus(state, tray, self._label, self._session_id, self._seg_index,
                                  self._frames, self._dropped, self._events, self._black_alert,
                                  self._slot, detail)

    def _notify_state(self) -> None:
        if self.on_state is not None:
            try:
                self.on_state(self.status())
            except Exception:  # noqa: BLE001
                log.exception("state callback")

    def wait_for(self, predicate: Callable[[RecorderStatus], bool], timeout: float = 30.0) -> RecorderStatus:
        """Poll the status until ``predicate`` holds; raises TimeoutError with the last status."""
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
    from crowd.capture.focus import open_focus_source

    return open_focus_source(display)
