"""Keyboard and mouse hooks through pynput, delivered as small raw-input records.

pynput picks its X connection from ``$DISPLAY`` when a listener starts (and fails to import
without one), so it is imported here lazily and the display is put into the environment
first. The callbacks only stamp the monotonic time and hand the record on: naming keys,
focus gating and writing happen in the recorder.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RawInput:
    """``kind``: key_press, key_release, move, click, scroll. ``t``: monotonic seconds."""
    kind: str
    t: float
    key: Any = None
    x: float = 0.0
    y: float = 0.0
    button: str = ""
    pressed: bool = False
    dx: int = 0
    dy: int = 0


def button_name(button: Any) -> str:
    name = getattr(button, "name", str(button))
    return {"left": "Left", "right": "Right", "middle": "Middle"}.get(name, name.capitalize())


class PynputInput:
    """Starts pynput keyboard and mouse listeners that call ``handler(RawInput)``."""

    def __init__(self, handler: Callable[[RawInput], None], display: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.handler = handler
        self.display = display
        self.clock = clock
        self._listeners: list[Any] = []

    def start(self) -> None:
        if self.display:
            os.environ["DISPLAY"] = self.display  # pynput's X backend reads it when listening
        from pynput import keyboard, mouse

        h, now = self.handler, self.clock
        kb = keyboard.Listener(
            on_press=lambda key, *_: h(RawInput("key_press", now(), key=key)),
            on_release=lambda key, *_: h(RawInput("key_release", now(), key=key)))
        ms = mouse.Listener(
            on_move=lambda x, y, *_: h(RawInput("move", now(), x=x, y=y)),
            on_click=lambda x, y, b, p, *_: h(RawInput("click", now(), x=x, y=y, button=button_name(b), pressed=p)),
            on_scroll=lambda x, y, dx, dy, *_: h(RawInput("scroll", now(), x=x, y=y, dx=int(dx), dy=int(dy))))
        self._listeners = [kb, ms]
        for lst in self._listeners:
            lst.start()
        for lst in self._listeners:
            lst.wait()

    def stop(self) -> None:
        for lst in self._listeners:
            lst.stop()
            _unblock_xrecord(lst)
        for lst in self._listeners:
            lst.join(timeout=5)
        self._listeners = []


def _unblock_xrecord(listener: Any) -> None:
    """Make pynput's X listener return now instead of at the next input event.

    pynput's stop queues RecordDisableContext on the connection its own thread is blocked
    reading, so it is only sent when another event arrives. Sending the same request on the
    listener's second connection (the usual XRecord idiom) ends the blocking read at once.
    """
    dpy, ctx = getattr(listener, "_display_stop", None), getattr(listener, "_context", None)
    if dpy is None or ctx is None:
        return
    try:
        dpy.record_disable_context(ctx)
        dpy.flush()
    except Exception:  # noqa: BLE001 - already closed: the listener is stopping anyway
        pass
