"""X11 focus through python-xlib: ``_NET_ACTIVE_WINDOW`` -> WM_CLASS and ``_NET_WM_PID``.

``_NET_ACTIVE_WINDOW`` is maintained by the window manager (EWMH); without one the property
is absent and focus is unknown, so nothing is recorded. A watcher thread with its own X
connection listens for PropertyNotify on the root window and re-reads the focus when it
changes (and every ``refresh`` seconds as a safety net), so ``current()`` is a cached read
that input callbacks can call per event.
"""
from __future__ import annotations

import select
import threading
import time
from typing import Any

from crowd.capture.focus.base import FocusInfo, FocusSource


def parse_x11(sample: dict[str, Any] | None) -> FocusInfo | None:
    """FocusInfo from a raw X11 sample ``{active, wm_class, pid, title}``; None = unknown.

    ``wm_class`` is ``(instance, class)``; the class is the app id (e.g. ``XTerm``,
    ``firefox``, ``Code``) and the instance an alias.
    """
    if not sample or not sample.get("active"):
        return None
    wm_class = sample.get("wm_class")
    if not wm_class or len(wm_class) != 2 or not (wm_class[1] or wm_class[0]):
        return None
    instance, klass = wm_class
    pid = sample.get("pid")
    return FocusInfo(app_id=klass or instance, pid=int(pid) if pid else None,
                     aliases=tuple(a for a in (instance,) if a and a != klass),
                     title=sample.get("title"))


def query_x11(dpy: Any) -> dict[str, Any] | None:
    """Read the raw focus sample from an open python-xlib Display (None: no WM support)."""
    from Xlib import X, error

    root = dpy.screen().root
    active_atom = dpy.intern_atom("_NET_ACTIVE_WINDOW")
    prop = root.get_full_property(active_atom, X.AnyPropertyType)
    if prop is None or not len(prop.value):
        return None
    wid = int(prop.value[0])
    if not wid:
        return {"active": 0}
    win = dpy.create_resource_object("window", wid)
    try:
        wm_class = win.get_wm_class()
        pid_prop = win.get_full_property(dpy.intern_atom("_NET_WM_PID"), X.AnyPropertyType)
        name = win.get_wm_name()
    except (error.BadWindow, error.BadDrawable):
        return {"active": wid, "wm_class": None}
    pid = int(pid_prop.value[0]) if pid_prop is not None and len(pid_prop.value) else None
    return {"active": wid, "wm_class": list(wm_class) if wm_class else None, "pid": pid,
            "title": name if isinstance(name, str) else None}


class X11FocusSource(FocusSource):
    platform = "linux"

    def __init__(self, display: str | None = None, refresh: float = 0.5) -> None:
        self.display_name = display
        self.refresh = refresh
        self._value: FocusInfo | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._dpy: Any = None
        self._qdpy: Any = None           # second connection for synchronous queries
        self._qlock = threading.Lock()
        self._stamp = 0.0                # when the cached value's read started
        self.changes = 0  # how many times the focused app changed (for tests and status)

    def start(self) -> None:
        from Xlib import X, display as xdisplay

        self._dpy = xdisplay.Display(self.display_name)
        self._qdpy = xdisplay.Display(self.display_name)
        self._dpy.screen().root.change_attributes(event_mask=X.PropertyChangeMask)
        self._active_atom = self._dpy.intern_atom("_NET_ACTIVE_WINDOW")
        self._read()
        self._thread = threading.Thread(target=self._run, name="crowd-focus-x11", daemon=True)
        self._thread.start()

    def _read(self, dpy: Any = None) -> FocusInfo | None:
        started = time.monotonic()
        try:
            value = parse_x11(query_x11(dpy or self._dpy))
        except Exception:  # noqa: BLE001 - any X failure means focus is unknown: fail closed
            value = None
        with self._lock:
            if started >= self._stamp:  # never let a slower, older read overwrite a newer one
                if value != self._value:
                    self.changes += 1
                self._value, self._stamp = value, started
        return value

    def query_now(self) -> FocusInfo | None:
        """A synchronous read (one X round trip, ~0.3 ms), also refreshing the cache.

        Used for key and button events so that typing right after a focus switch is gated
        by the focus at that moment rather than by the watcher's last notification.
        """
        with self._qlock:
            if self._qdpy is None:
                return None
            return self._read(self._qdpy)

    def _run(self) -> None:
        from Xlib import X

        fd = self._dpy.fileno()
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([fd], [], [], self.refresh)
                changed = not ready
                while self._dpy.pending_events():
                    ev = self._dpy.next_event()
                    if ev.type == X.PropertyNotify and ev.atom == self._active_atom:
                        changed = True
                if changed:
                    self._read()
            except Exception:  # noqa: BLE001 - lost X connection: unknown focus from now on
                with self._lock:
                    self._value = None
                return

    def current(self) -> FocusInfo | None:
        with self._lock:
            return self._value

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._qlock:
            for dpy in (self._dpy, self._qdpy):
                if dpy is not None:
                    try:
                        dpy.close()
                    except Exception:  # noqa: BLE001
                        pass
            self._dpy = self._qdpy = None


def list_windows(display: str | None = None) -> list[FocusInfo]:
    """Every managed top-level window's app (``_NET_CLIENT_LIST``), for the setup picker."""
    from Xlib import X, display as xdisplay

    dpy = xdisplay.Display(display)
    try:
        root = dpy.screen().root
        prop = root.get_full_property(dpy.intern_atom("_NET_CLIENT_LIST"), X.AnyPropertyType)
        out: list[FocusInfo] = []
        for wid in (prop.value if prop is not None else []):
            win = dpy.create_resource_object("window", int(wid))
            try:
                wm_class = win.get_wm_class()
                pid_prop = win.get_full_property(dpy.intern_atom("_NET_WM_PID"), X.AnyPropertyType)
                name = win.get_wm_name()
            except Exception:  # noqa: BLE001 - window vanished while listing
                continue
            info = parse_x11({"active": wid, "wm_class": wm_class,
                              "pid": pid_prop.value[0] if pid_prop is not None else None,
                              "title": name if isinstance(name, str) else None})
            if info is not None:
                out.append(info)
        return out
    finally:
        dpy.close()
