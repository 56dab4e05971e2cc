"""pynput behind one small adapter: the only module of desktop-capture that imports it.

WHY: stopping the recorder must end input capture at once, and pynput's public
``Listener.stop()`` does not on X11. Its X listener blocks in XRecord on one connection and
``stop()`` queues RecordDisableContext on that same connection, so the request only goes out
when the next input event arrives: on a quiet screen the listener thread lingers until
``join`` gives up (5 s per listener). Sending the same request on the listener's second
connection (the usual XRecord idiom) ends the blocking read at once, but those connections
(``_display_stop``, ``_context``) are pynput internals whose layout may change with any
release. So everything that depends on a release is here, next to the range it was written
for, and checked against the installed version (``importlib.metadata``):

- inside ``[SUPPORTED_MIN, SUPPORTED_BELOW)``: the prompt stop on the X11 backend;
- outside it (or no version found): one warning per start, and only the public ``stop()``,
  slower but correct.

The layout was read in pynput 1.7.6 and 1.8.2 (``ListenerMixin._run`` in
``pynput/_util/xorg.py``) and the prompt stop tested with 1.8.2. pynput imports its backend
from ``$DISPLAY`` and fails without one, so it is imported only when listeners open.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version as dist_version
from typing import Any

log = logging.getLogger("crowd.capture")

SUPPORTED_MIN = (1, 7)      # pyproject: pynput>=1.7
SUPPORTED_BELOW = (1, 9)    # internals read in 1.7.6 and 1.8.2
XORG_MODULE_SUFFIX = "._xorg"   # where pynput defines its X11 listener classes
JOIN_TIMEOUT_S = 5.0


def parse_version(text: str) -> tuple[int, int]:
    """``(major, minor)`` of a version string: "1.8.2" -> (1, 8), "2.0rc1" -> (2, 0)."""
    match = re.match(r"\s*(\d+)(?:\.(\d+))?", text)
    if match is None:
        raise ValueError(f"not a version: {text!r}")
    return int(match.group(1)), int(match.group(2) or 0)


def installed_version() -> str | None:
    try:
        return dist_version("pynput")
    except PackageNotFoundError:
        return None


def internals_supported(text: str | None) -> bool:
    """Whether pynput ``text`` is in the range the prompt stop was written for; warns if not."""
    found: tuple[int, int] | None = None
    if text is not None:
        try:
            found = parse_version(text)
        except ValueError:
            found = None
    if found is not None and SUPPORTED_MIN <= found < SUPPORTED_BELOW:
        return True
    log.warning("pynput %s is outside the range the recorder was written for (>= %s, < %s): stopping "
                "input capture uses pynput's public stop(), which on X11 can take until the next "
                "input event", text or "(version unknown)", ".".join(map(str, SUPPORTED_MIN)),
                ".".join(map(str, SUPPORTED_BELOW)))
    return False


def button_name(button: Any) -> str:
    """A pynput mouse button as the keylog names it ("Left", "Right", "Middle", ...)."""
    name = getattr(button, "name", str(button))
    return {"left": "Left", "right": "Right", "middle": "Middle"}.get(name, name.capitalize())


@dataclass(frozen=True)
class Callbacks:
    """What the listeners call, on pynput's threads; keys arrive as pynput key objects."""
    key_press: Callable[[Any], None]
    key_release: Callable[[Any], None]
    move: Callable[[float, float], None]
    click: Callable[[float, float, str, bool], None]   # x, y, button name, pressed
    scroll: Callable[[float, float, int, int], None]   # x, y, dx, dy


class Listeners:
    """pynput's keyboard and mouse listeners, started together and stopped promptly."""

    def __init__(self, callbacks: Callbacks, version: str | None = None) -> None:
        """``version``: the pynput version to judge (the installed one when None)."""
        self.callbacks = callbacks
        self.prompt_stop = internals_supported(installed_version() if version is None else version)
        self._listeners: list[Any] = []

    def start(self) -> None:
        """Start both listeners; returns once they receive input (``$DISPLAY`` set on X11)."""
        from pynput import keyboard, mouse

        cb = self.callbacks
        kb = keyboard.Listener(on_press=lambda key, *_: cb.key_press(key),
                               on_release=lambda key, *_: cb.key_release(key))
        ms = mouse.Listener(
            on_move=lambda x, y, *_: cb.move(x, y),
            on_click=lambda x, y, b, p, *_: cb.click(x, y, button_name(b), p),
            on_scroll=lambda x, y, dx, dy, *_: cb.scroll(x, y, int(dx), int(dy)))
        self._listeners = [kb, ms]
        for lst in self._listeners:
            lst.start()
        for lst in self._listeners:
            lst.wait()

    def stop(self) -> None:
        for lst in self._listeners:
            lst.stop()
            if self.prompt_stop:
                _end_xrecord_now(lst)
        for lst in self._listeners:
            lst.join(timeout=JOIN_TIMEOUT_S)
        self._listeners = []


def _end_xrecord_now(listener: Any) -> None:
    """Send RecordDisableContext on the X listener's second connection so its read returns.

    Release-specific internals (``_display_stop``, ``_context``), used only for versions in
    the supported range and only on the X11 backend; other backends stop promptly already.
    """
    if not type(listener).__module__.endswith(XORG_MODULE_SUFFIX):
        return
    try:
        dpy, ctx = listener._display_stop, listener._context  # noqa: SLF001 - see module docstring
        dpy.record_disable_context(ctx)
        dpy.flush()
    except Exception:  # noqa: BLE001 - never started, or already closed: it is stopping anyway
        pass
