"""Keyboard and mouse hooks, delivered as small raw-input records.

pynput (behind ``crowd.capture.pynput_adapter``, the only module that knows its releases)
picks its X connection from ``$DISPLAY`` when a listener starts, so the display is put into
the environment first. The callbacks only stamp the monotonic time and hand the record on:
naming keys, focus gating and writing happen in the recorder.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crowd.capture.pynput_adapter import Callbacks, Listeners


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


class PynputInput:
    """Starts pynput keyboard and mouse listeners that call ``handler(RawInput)``."""

    def __init__(self, handler: Callable[[RawInput], None], display: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.handler = handler
        self.display = display
        self.clock = clock
        self._listeners: Listeners | None = None

    def start(self) -> None:
        if self.display:
            os.environ["DISPLAY"] = self.display  # pynput's X backend reads it when listening
        h, now = self.handler, self.clock
        self._listeners = Listeners(Callbacks(
            key_press=lambda key: h(RawInput("key_press", now(), key=key)),
            key_release=lambda key: h(RawInput("key_release", now(), key=key)),
            move=lambda x, y: h(RawInput("move", now(), x=x, y=y)),
            click=lambda x, y, button, pressed: h(RawInput("click", now(), x=x, y=y, button=button, pressed=pressed)),
            scroll=lambda x, y, dx, dy: h(RawInput("scroll", now(), x=x, y=y, dx=dx, dy=dy))))
        self._listeners.start()

    def stop(self) -> None:
        if self._listeners is not None:
            self._listeners.stop()
            self._listeners = None
