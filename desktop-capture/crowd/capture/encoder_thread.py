"""The encoder thread: the only place that touches the video container and the keylog files.

The capture and input threads only queue messages (open, frame, flush, close, stop), so
PyAV encoding, keylog flushes and closing a segment never delay a grab or an input callback;
like asciinema's recorder, writing happens off the hot path. The queue is unbounded so a
control message never blocks a thread that holds the recorder's lock; frames are bounded by
hand: with ``queue_limit`` frames waiting a new frame is skipped, and the encoder fills its
slot by repeating the previous picture (counted as dropped).

It also notes when a frame with content was last written: the tray is green only then.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crowd.capture.clock import Clock
from crowd.capture.encoder import SegmentEncoder, VideoSettings
from crowd.capture.segments import LiveSegment
from crowd.format.desktop.layout import Segment

log = logging.getLogger("crowd.capture")


@dataclass
class EncoderProgress:
    """Written by the encoder thread only; read by status."""
    frames: int = 0                   # frames written in this run (repeats included)
    dropped: int = 0                  # slots filled by repeating (the grab was late or skipped)
    content_written_at: float = 0.0   # monotonic time of the last non-black frame (0: black)


@dataclass(frozen=True)
class _Open:
    live: LiveSegment
    size: tuple[int, int]


@dataclass(frozen=True)
class _Frame:
    slot: int
    picture: Any | None
    black: bool


@dataclass(frozen=True)
class _Flush:
    pass


@dataclass(frozen=True)
class _Close:
    live: LiveSegment


@dataclass(frozen=True)
class _Stop:
    pass


class EncoderThread:
    def __init__(self, video: VideoSettings, clock: Clock, queue_limit: int,
                 on_closed: Callable[[Segment], None], on_error: Callable[[str], None]) -> None:
        self.video = video
        self.clock = clock
        self.queue_limit = queue_limit
        self.on_closed = on_closed
        self.on_error = on_error
        self.progress = EncoderProgress()
        self._queue: queue.Queue[_Open | _Frame | _Flush | _Close | _Stop] = queue.Queue()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ producers' side
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="crowd-encoder", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def open(self, live: LiveSegment, size: tuple[int, int]) -> None:
        """Encode the next frames into ``live``'s video at ``size`` (output pixels)."""
        self._queue.put(_Open(live, size))

    def frame(self, slot: int, picture: Any | None, black: bool) -> None:
        """Queue a picture (None: black) for ``slot``; skipped when the encoder is behind."""
        if self._queue.qsize() >= self.queue_limit:
            return   # the slot is filled by a repeat (counted there)
        self._queue.put(_Frame(slot, picture, black))

    def flush_keylog(self) -> None:
        self._queue.put(_Flush())

    def close(self, live: LiveSegment) -> None:
        """Finish ``live``'s files; ``on_closed`` then gets the segment."""
        self._queue.put(_Close(live))

    def stop(self) -> None:
        """Finish after everything queued so far."""
        self._queue.put(_Stop())

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        enc: SegmentEncoder | None = None
        live: LiveSegment | None = None
        while True:
            msg = self._queue.get()
            try:
                if isinstance(msg, _Open):
                    live = msg.live
                    enc = SegmentEncoder(live.video, *msg.size, self.video)
                elif isinstance(msg, _Frame) and enc is not None:
                    repeated = enc.write(msg.picture, msg.slot)
                    self.progress.frames += repeated + 1
                    self.progress.dropped += repeated
                    self.progress.content_written_at = 0.0 if msg.black else self.clock.monotonic()
                elif isinstance(msg, _Flush) and live is not None:
                    live.keylog.flush()
                elif isinstance(msg, _Close):
                    if enc is not None and live is msg.live:
                        enc.close()
                        enc, live = None, None
                    msg.live.keylog.close()
                    self.on_closed(msg.live.closed())
                elif isinstance(msg, _Stop):
                    if enc is not None:
                        enc.close()
                    return
            except Exception as exc:  # noqa: BLE001 - keep draining so the capture side never blocks
                log.exception("encoder: %s", type(msg).__name__)
                self.on_error(f"video encoder error: {exc}")
