"""Input gating: which key and mouse events reach the keylog, and the releases owed.

Input counts only while an allowed app has focus (the recorder gates keys and buttons by a
fresh focus read, moves by the cached one). When focus leaves an allowed app, every key and
button still held gets a synthesised release at the switch time, right before
``ContextChanged``: a reader never sees a key stuck down across a span it cannot see.

:class:`InputGate` turns focus labels and raw input into keylog events and keeps what that
needs (the label, held keys and buttons, the pointer position, the last recorded input); the
recorder stamps and writes them. Not thread-safe: the recorder calls it under its lock from
the pynput threads and the capture thread.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from crowd.capture.focus import Allowlist
from crowd.capture.input import RawInput
from crowd.format.desktop import keylog as kl

KEY_KINDS = ("key_press", "key_release")


@dataclass(frozen=True)
class Switch:
    """A focus change: the entries to write at its time, and whether recording stopped."""
    events: list[kl.Event]
    left_capture: bool


@dataclass
class InputGate:
    label: str = kl.UNKNOWN                       # app id, UNCAPTURED or UNKNOWN
    held_keys: dict[int, str] = field(default_factory=dict)   # code -> name, press order
    held_buttons: set[str] = field(default_factory=set)
    last_pos: tuple[float, float] | None = None   # pointer, for MouseMove deltas
    move_from: tuple[float, float] | None = None  # the pointer before the latest move
    last_input: float = 0.0                       # monotonic time of the last recorded input

    @property
    def captured(self) -> bool:
        return Allowlist.is_captured(self.label)

    def switch(self, label: str) -> Switch | None:
        """Apply a focus label; None when it did not change."""
        if label == self.label:
            return None
        leaving = self.captured and not Allowlist.is_captured(label)
        events = self.release_all() if leaving else []
        self.label = label
        return Switch([*events, kl.ContextChanged(label)], leaving)

    def release_all(self) -> list[kl.Event]:
        """Releases for everything held (keys in press order, then buttons); forgets them."""
        events: list[kl.Event] = [kl.KeyRelease(code, name) for code, name in self.held_keys.items()]
        events += [kl.MouseRelease(button, 0.0, 0.0) for button in sorted(self.held_buttons)]
        self.held_keys.clear()
        self.held_buttons.clear()
        return events

    def accept(self, ev: RawInput, code_name: tuple[int, str] | None,
               origin: tuple[float, float]) -> kl.Event | None:
        """The keylog event for ``ev`` under the current label (None: nothing to write).

        ``code_name`` is the key's (code, name) for key events; ``origin`` the top-left of the
        captured region, so pointer positions are in source pixels. Moves update the pointer
        even when not recorded, so the first recorded move has the right delta.
        """
        if ev.kind == "move":
            self.move_from, self.last_pos = self.last_pos, (ev.x, ev.y)
        if not self.captured:
            return None
        self.last_input = ev.t
        if code_name is not None:
            code, name = code_name
            if ev.kind == "key_press":
                self.held_keys[code] = name
                return kl.KeyPress(code, name)
            self.held_keys.pop(code, None)
            return kl.KeyRelease(code, name)
        if ev.kind == "move":
            prev = self.move_from
            return None if prev is None else kl.MouseMove(float(ev.x - prev[0]), float(ev.y - prev[1]))
        x, y = float(ev.x - origin[0]), float(ev.y - origin[1])
        if ev.kind == "click":
            if ev.pressed:
                self.held_buttons.add(ev.button)
                return kl.MousePress(ev.button, x, y)
            self.held_buttons.discard(ev.button)
            return kl.MouseRelease(ev.button, x, y)
        if ev.kind == "scroll":
            return kl.MouseScroll(ev.dx, ev.dy, x, y)
        return None
