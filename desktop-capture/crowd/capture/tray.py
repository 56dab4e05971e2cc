"""The tray icon (pystray): recording state at a glance and the recorder's menu.

Colours follow crowd-cast: green only while frames with content are being written, orange
while recording but blocked (an app outside the allowlist has focus, focus is unknown, or the
capture shows only black), grey when stopped or idle. pystray is imported when the tray is
built (its X backend needs a display); on Linux it docks into any system tray (trayer on a
virtual screen) and carries on without one.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("crowd.capture.tray")

COLOURS: dict[str, tuple[int, int, int]] = {
    "green": (46, 170, 70),
    "orange": (240, 140, 20),
    "grey": (140, 140, 140),
}


def icon_image(state: str, size: int = 64) -> Any:
    """A filled circle in the state's colour on a transparent square (Pillow image)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    pad = size // 8
    draw.ellipse((pad, pad, size - pad, size - pad), fill=COLOURS.get(state, COLOURS["grey"]) + (255,))
    return img


class TrayActions:
    """What the menu calls; the controller in ``crowd cast record`` provides these."""

    def __init__(self, start: Callable[[], None], stop: Callable[[], None], panic: Callable[[], Any],
                 toggle_uploads: Callable[[], bool], quit: Callable[[], None],
                 status_line: Callable[[], str], is_running: Callable[[], bool],
                 uploads_paused: Callable[[], bool]) -> None:
        self.start, self.stop, self.panic = start, stop, panic
        self.toggle_uploads, self.quit = toggle_uploads, quit
        self.status_line, self.is_running, self.uploads_paused = status_line, is_running, uploads_paused


class Tray:
    def __init__(self, actions: TrayActions, name: str = "crowd-cast") -> None:
        if os.name == "posix" and "PYSTRAY_BACKEND" not in os.environ and os.uname().sysname == "Linux":
            os.environ["PYSTRAY_BACKEND"] = "xorg"  # no GTK/AppIndicator dependency
        import pystray

        self._pystray = pystray
        self.actions = actions
        self.state = "grey"
        self._stop_lock = threading.Lock()
        self._stopped = False
        self.icon = pystray.Icon(name, icon_image("grey"), "crowd-cast: idle", menu=self._menu())

    def _menu(self) -> Any:
        p, a = self._pystray, self.actions
        return p.Menu(
            p.MenuItem(lambda _item: a.status_line(), None, enabled=False),
            p.MenuItem("Start recording", lambda: a.start(), enabled=lambda _i: not a.is_running()),
            p.MenuItem("Stop recording", lambda: a.stop(), enabled=lambda _i: a.is_running()),
            p.MenuItem("Delete last 10 minutes", lambda: a.panic()),
            p.MenuItem("Pause uploads", lambda: a.toggle_uploads(), checked=lambda _i: a.uploads_paused()),
            p.MenuItem("Quit", self._quit),
        )

    def item(self, label: str) -> Any:
        """The menu item whose text starts with ``label`` (for scripted use and tests)."""
        for it in self.icon.menu.items:
            if str(it.text).startswith(label):
                return it
        raise KeyError(label)

    def click(self, label: str) -> None:
        """Activate a menu item as if the user picked it."""
        self.item(label)(self.icon)

    def _quit(self) -> None:
        try:
            self.actions.quit()
        finally:
            self.stop()

    def set_state(self, state: str, detail: str = "") -> None:
        """Show ``green``/``orange``/``grey``; cheap when nothing changed."""
        if state == self.state:
            return
        self.state = state
        self.icon.icon = icon_image(state)
        self.icon.title = f"crowd-cast: {detail or state}"
        try:
            self.icon.update_menu()
        except Exception:  # noqa: BLE001 - not running yet / backend without menus
            pass

    def notify(self, message: str) -> None:
        """A desktop notification where the backend has them, else the log."""
        try:
            if getattr(self.icon, "HAS_NOTIFICATION", False):
                self.icon.notify(message, "crowd-cast")
                return
        except Exception:  # noqa: BLE001
            pass
        log.warning("%s", message)

    def run(self, setup: Callable[[Any], None] | None = None) -> None:
        """Blocks until Quit (pystray wants the main thread on macOS)."""
        def _setup(icon: Any) -> None:
            icon.visible = True
            if setup is not None:
                setup(icon)
        self.icon.run(setup=_setup)

    def stop(self) -> None:
        """Stop the icon's loop once: Quit and the controller's quit watcher both ask, from
        different threads, and a second destroy of the X window races the event loop."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        self.icon.stop()
