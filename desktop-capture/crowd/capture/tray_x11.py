"""A system-tray icon for X11 (XEMBED system tray protocol) whose X connection one thread owns.

Why not pystray's X backend: it shares one python-xlib connection between its event loop
and every thread that changes the icon or stops it (those threads send a ClientMessage and
flush). python-xlib's threaded ``flush()`` returns at once when another thread is mid-send,
and that thread, when it finishes, does not send what was queued after it looked; the
loop thread meanwhile waits in ``select()`` with no timeout. Measured on a virtual screen
(2 shared cores, two busy loops running): the loop answering each message with its own
request + flush, as pystray's stop does (destroy the window, flush), left 3 of 300 answers
unsent until some later flush; two threads each sending one message + flush left 9 of 200
rounds with a message unsent (0 of 200 with one sender). For Quit the unsent request is the
window's destruction, whose DestroyNotify was to end the loop: ``crowd cast record`` never
returned (the tray test, once in 3 fresh-clone runs under load).

Here only the loop thread ever touches the connection. Other threads store what they want
(image, title, stop) under a lock and wake the loop through a pipe; the loop flushes before
every wait, and waits on the X socket and the pipe together, so nothing queued is left
behind and no wake-up is lost.
"""
from __future__ import annotations

import logging
import os
import select
import threading
import time
from typing import Any

log = logging.getLogger("crowd.capture.tray")

SYSTEM_TRAY_REQUEST_DOCK = 0
XEMBED_MAPPED = 1
# A tray host that has just taken the selection can drop a dock request (trayer under load:
# asked, then no event at all for 30 s in 2 of 6 runs); the request is repeated until the
# host reparents the window, at these intervals. Once embedded, nothing repeats.
FIRST_RETRY_S = 1.0
MAX_RETRY_S = 30.0


class X11TrayIcon:
    """``icon = X11TrayIcon("crowd-cast", image, "title"); icon.run()`` (blocks until
    :meth:`stop`); :meth:`set_image`, :meth:`set_title` and :meth:`stop` may be called from
    any thread. Docks into the tray host when there is one and whenever one appears."""

    def __init__(self, name: str, image: Any, title: str, display: str | None = None) -> None:
        import Xlib.display  # noqa: PLC0415 - needs an X server; imported when the tray is built

        self.name = name
        self._lock = threading.Lock()
        self._image, self._title = image, title
        self._image_changed = self._title_changed = False
        self._stopping = self._closed = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        # opened here so that a missing X server is an error at construction; from now on
        # only the thread in run() uses it (the thread start orders the two)
        self._d = Xlib.display.Display(display)
        self._d.set_error_handler(self._x_error)
        screen = self._d.screen()
        self._root = screen.root
        self._depth = screen.root_depth
        self._tray_atom = self._d.intern_atom(f"_NET_SYSTEM_TRAY_S{self._d.get_default_screen()}")
        self._opcode = self._d.intern_atom("_NET_SYSTEM_TRAY_OPCODE")
        self._manager_atom = self._d.intern_atom("MANAGER")
        self._xembed_info = self._d.intern_atom("_XEMBED_INFO")
        self._window: Any = None
        self._gc: Any = None
        self._size = (1, 1)
        self._manager: Any = None
        self._retry_s = FIRST_RETRY_S
        self._retry_at = 0.0
        self.docked = threading.Event()   # set while a tray host embeds the window

    # -- any thread ----------------------------------------------------------------------
    def set_image(self, image: Any) -> None:
        with self._lock:
            self._image, self._image_changed = image, True
        self._wake()

    def set_title(self, title: str) -> None:
        with self._lock:
            self._title, self._title_changed = title, True
        self._wake()

    def notify(self, message: str) -> bool:
        """The XEMBED tray has no notifications: False, the caller logs the message."""
        return False

    def stop(self) -> None:
        """Ask the loop to end; :meth:`run` returns once the window is gone."""
        with self._lock:
            self._stopping = True
        self._wake()

    def _wake(self) -> None:
        with self._lock:   # not after _close: the descriptor number may belong to another file then
            if self._closed:
                return
            try:
                os.write(self._wake_w, b"w")
            except BlockingIOError:
                pass   # the pipe is full: the loop wakes anyway

    # -- the loop thread -----------------------------------------------------------------
    def run(self) -> None:
        """The event loop; returns after :meth:`stop` (also when stop came before run)."""
        import Xlib.X  # noqa: PLC0415
        import Xlib.error  # noqa: PLC0415

        try:
            self._root.change_attributes(event_mask=Xlib.X.StructureNotifyMask)  # MANAGER broadcasts
            self._create_window()
            self._dock()
            while True:
                with self._lock:
                    stopping = self._stopping
                    image = self._image if self._image_changed else None
                    title = self._title if self._title_changed else None
                    self._image_changed = self._title_changed = False
                if stopping:
                    break
                if title is not None:
                    self._window.set_wm_name(title)
                if image is not None:
                    self._draw()
                while self._d.pending_events():
                    try:
                        self._handle(self._d.next_event())
                    except Xlib.error.XError:
                        log.warning("tray icon: an X request failed", exc_info=True)
                self._d.flush()
                waiting_for_host = self._manager is not None and not self.docked.is_set()
                timeout = max(0.0, self._retry_at - time.monotonic()) if waiting_for_host else None
                readable, _, _ = select.select([self._d.fileno(), self._wake_r], [], [], timeout)
                if self._wake_r in readable:
                    os.read(self._wake_r, 4096)
                if waiting_for_host and not self.docked.is_set() and time.monotonic() >= self._retry_at:
                    # the host has not embedded us: a host still starting drops the request
                    self._dock(self._retry_s * 2)
        finally:
            self._close()

    def _create_window(self) -> None:
        import Xlib.X  # noqa: PLC0415
        import Xlib.Xutil  # noqa: PLC0415

        self._window = self._root.create_window(
            -1, -1, 24, 24, 0, self._depth,
            event_mask=Xlib.X.ExposureMask | Xlib.X.StructureNotifyMask,
            window_class=Xlib.X.InputOutput)
        self._window.set_wm_class(f"{self.name}SystemTrayIcon", self.name)
        with self._lock:
            title = self._title
        self._window.set_wm_name(title)
        self._window.set_wm_normal_hints(flags=Xlib.Xutil.PPosition | Xlib.Xutil.PSize | Xlib.Xutil.PMinSize,
                                         min_width=24, min_height=24)
        self._window.change_property(self._xembed_info, self._xembed_info, 32, [0, XEMBED_MAPPED])
        self._gc = self._window.create_gc()
        self._size = (24, 24)

    def _dock(self, retry_s: float = FIRST_RETRY_S) -> None:
        """Ask the tray host (the owner of ``_NET_SYSTEM_TRAY_S<screen>``) to embed the window;
        asked again after ``retry_s`` (doubling, at most MAX_RETRY_S) until it has."""
        import Xlib.X  # noqa: PLC0415
        import Xlib.protocol.event  # noqa: PLC0415

        self._retry_s = min(retry_s, MAX_RETRY_S)
        self._retry_at = time.monotonic() + self._retry_s
        owner = self._d.get_selection_owner(self._tray_atom)
        if not owner:   # X.NONE: no tray host now; its MANAGER broadcast will bring us back
            self._manager = None
            return
        owner.change_attributes(event_mask=Xlib.X.StructureNotifyMask)   # to see it go
        owner.send_event(Xlib.protocol.event.ClientMessage(
            window=owner, client_type=self._opcode,
            data=(32, [Xlib.X.CurrentTime, SYSTEM_TRAY_REQUEST_DOCK, self._window.id, 0, 0])),
            event_mask=Xlib.X.NoEventMask)
        self._manager = owner
        log.debug("tray icon: asked %#x to embed %#x", owner.id, self._window.id)

    def _handle(self, ev: Any) -> None:
        import Xlib.X  # noqa: PLC0415

        if ev.type not in (Xlib.X.ClientMessage, Xlib.X.DestroyNotify, Xlib.X.ConfigureNotify, Xlib.X.Expose,
                           Xlib.X.ReparentNotify):
            return
        window_id = ev.window.id
        log.debug("tray icon: X event %s on %#x", ev.type, window_id)
        if ev.type == Xlib.X.ClientMessage and ev.client_type == self._manager_atom:
            if ev.data[1][1] == self._tray_atom:   # a tray host took the selection
                self._dock()
        elif ev.type == Xlib.X.DestroyNotify:
            if self._manager is not None and window_id == self._manager.id:
                self._dock()                        # the host went: the next one, if any
            elif window_id == self._window.id:
                self.docked.clear()
                self._create_window()               # destroyed by someone else: come back
                self._dock()
        elif ev.type == Xlib.X.ReparentNotify and window_id == self._window.id:
            if ev.parent.id == self._root.id:       # the host let go (or died: its save-set)
                self.docked.clear()
            else:
                self.docked.set()                   # embedded
        elif ev.type == Xlib.X.ConfigureNotify and window_id == self._window.id:
            if (ev.width, ev.height) != self._size:
                self._size = (ev.width, ev.height)
                self._draw()
        elif ev.type == Xlib.X.Expose and window_id == self._window.id and ev.count == 0:
            self._draw()

    def _draw(self) -> None:
        from PIL import Image  # noqa: PLC0415

        with self._lock:
            image = self._image
        w, h = self._size
        scaled = image.convert("RGBA").resize((w, h), Image.LANCZOS)
        frame = Image.new("RGB", (w, h))          # black where the image is transparent
        frame.paste(scaled, (0, 0), scaled)
        self._window.put_pil_image(self._gc, 0, 0, frame)

    def _close(self) -> None:
        try:
            if self._window is not None:
                self._window.destroy()
            self._d.close()   # flushes first
        except Exception:  # noqa: BLE001 - the server may be gone already
            log.debug("closing the tray's X connection", exc_info=True)
        self.docked.clear()
        with self._lock:
            self._closed = True
            os.close(self._wake_r)
            os.close(self._wake_w)

    @staticmethod
    def _x_error(err: Any, request: Any) -> None:
        log.warning("tray icon: X error %s", err)
