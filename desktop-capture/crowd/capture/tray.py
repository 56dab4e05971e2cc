"""The tray icon (pystray): recording state at a glance and the recorder's menu.

Colours follow crowd-cast: green only while frames with content are being written, orange
while recording but blocked (an app outside the allowlist has focus, focus is unknown, or the
capture shows only black), grey when stopped or idle. On Linux the icon is our own XEMBED
icon (crowd.capture.tray_x11: one thread owns its X connection; pystray's X backend shares
one between threads and could lose the request that ends its loop, so Quit hung), docked
into any system tray (trayer on a virtual screen), carrying on without one. Elsewhere pystray
draws it (imported when the tray is built). The menu is ours (:class:`MenuEntry`), so that
scripted clicks and tests see the same items on every platform.
"""
from __future__ import annotations

import logging
import sys
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


class MenuEntry:
    """One menu item: a label (or a function giving it), what it does, and whether it is
    enabled or checked now (functions, asked whenever the menu is shown)."""

    def __init__(self, label: str | Callable[[], str], action: Callable[[], Any] | None = None, *,
                 enabled: Callable[[], bool] | None = None, checked: Callable[[], bool] | None = None) -> None:
        self.label, self.action = label, action
        self.enabled_when, self.checked_when = enabled, checked

    @property
    def text(self) -> str:
        return self.label() if callable(self.label) else self.label

    @property
    def enabled(self) -> bool:
        return self.action is not None and (self.enabled_when is None or self.enabled_when())

    @property
    def checked(self) -> bool | None:
        return None if self.checked_when is None else self.checked_when()

    def __call__(self) -> None:
        if self.action is not None:
            self.action()


class PystrayIcon:
    """pystray's icon (macOS, Windows) behind the interface of X11TrayIcon."""

    def __init__(self, name: str, image: Any, title: str, menu: list[MenuEntry]) -> None:
        import pystray  # noqa: PLC0415

        items = [pystray.MenuItem(lambda _i, e=e: e.text, lambda _icon, _item, e=e: e(),
                                  enabled=lambda _i, e=e: e.enabled,
                                  checked=None if e.checked_when is None else (lambda _i, e=e: bool(e.checked)))
                 for e in menu]
        self.icon = pystray.Icon(name, image, title, menu=pystray.Menu(*items))
        self._stop_lock = threading.Lock()
        self._stopped = False

    def set_image(self, image: Any) -> None:
        self.icon.icon = image
        self.icon.update_menu()

    def set_title(self, title: str) -> None:
        self.icon.title = title

    def notify(self, message: str) -> bool:
        if not self.icon.HAS_NOTIFICATION:
            return False
        self.icon.notify(message, "crowd-cast")
        return True

    def run(self) -> None:
        def _setup(icon: Any) -> None:
            icon.visible = True
        self.icon.run(setup=_setup)

    def stop(self) -> None:
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        self.icon.stop()


class Tray:
    def __init__(self, actions: TrayActions, name: str = "crowd-cast") -> None:
        self.actions = actions
        self.state = "grey"
        self._state_lock = threading.Lock()   # the icon shows the state last recorded here
        self._stop = threading.Event()
        self.menu = self._menu()
        image, title = icon_image("grey"), "crowd-cast: idle"
        if sys.platform.startswith("linux"):
            from crowd.capture.tray_x11 import X11TrayIcon  # noqa: PLC0415

            self.icon: X11TrayIcon | PystrayIcon = X11TrayIcon(name, image, title)
        else:
            self.icon = PystrayIcon(name, image, title, self.menu)

    def _menu(self) -> list[MenuEntry]:
        a = self.actions
        return [
            MenuEntry(lambda: a.status_line()),
            MenuEntry("Start recording", a.start, enabled=lambda: not a.is_running()),
            MenuEntry("Stop recording", a.stop, enabled=a.is_running),
            MenuEntry("Delete last 10 minutes", a.panic),
            MenuEntry("Pause uploads", a.toggle_uploads, checked=a.uploads_paused),
            MenuEntry("Quit", self._quit),
        ]

    def item(self, label: str) -> MenuEntry:
        """The menu item whose text starts with ``label`` (for scripted use and tests)."""
        for it in self.menu:
            if it.text.startswith(label):
                return it
        raise KeyError(label)

    def click(self, label: str) -> None:
        """Activate a menu item as if the user picked it."""
        self.item(label)()

    def _quit(self) -> None:
        try:
            self.actions.quit()
        finally:
            self.stop()

    def set_state(self, state: str, detail: str = "") -> None:
        """Show ``green``/``orange``/``grey``; cheap when nothing changed; any thread."""
        with self._state_lock:
            if state == self.state:
                return
            self.state = state
            self.icon.set_image(icon_image(state))
            self.icon.set_title(f"crowd-cast: {detail or state}")

    def notify(self, message: str) -> None:
        """A desktop notification where the backend has them, else the log."""
        try:
            if self.icon.notify(message):
                return
        except Exception:  # noqa: BLE001 - a notification must not break recording
            log.debug("notification failed", exc_info=True)
        log.warning("%s", message)

    def run(self, setup: Callable[["Tray"], None] | None = None) -> None:
        """Blocks until :meth:`stop` (pystray wants the main thread on macOS). ``setup`` runs
        first, on this thread. If the icon fails, recording goes on without it until stop."""
        if setup is not None:
            setup(self)
        try:
            self.icon.run()
        except Exception:  # noqa: BLE001 - no icon is no reason to stop recording
            log.exception("the tray icon failed; recording continues without it")
            self._stop.wait()

    def stop(self) -> None:
        """End :meth:`run`; any thread, any number of times, before or during run."""
        self._stop.set()
        self.icon.stop()
