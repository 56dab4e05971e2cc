"""Key naming in crowd-cast's vocabulary (``KeyA``, ``Digit5``, ``ShiftLeft``, ``UpArrow``, ...).

A key event is named by the *physical key*, not the character it typed: pressing Shift+1
is ``ShiftLeft`` then ``Digit1`` (not ``!``), and the release of that key carries the same
name even if Shift was let go first. pynput reports characters (``'!'`` on press, ``'1'`` on
release), so on X11 the keysym is mapped to its keycode and the keycode back to its unshifted
keysym, which names the key. Without an X display (macOS, Windows) the character is mapped
through a US layout table instead.
"""
from __future__ import annotations

import threading
from typing import Any

# X11 keysym (unshifted) -> crowd-cast name, for keys that are not letters or digits.
_KEYSYM_NAMES: dict[int, str] = {
    0xFFE1: "ShiftLeft", 0xFFE2: "ShiftRight", 0xFFE3: "ControlLeft", 0xFFE4: "ControlRight",
    0xFFE9: "Alt", 0xFFEA: "AltGr", 0xFE03: "AltGr", 0xFFE7: "MetaLeft", 0xFFE8: "MetaRight",
    0xFFEB: "MetaLeft", 0xFFEC: "MetaRight", 0xFFE5: "CapsLock",
    0xFF0D: "Return", 0xFF1B: "Escape", 0xFF08: "Backspace", 0xFF09: "Tab", 0x20: "Space",
    0xFE20: "Tab",  # ISO_Left_Tab (Shift+Tab)
    0xFF52: "UpArrow", 0xFF54: "DownArrow", 0xFF51: "LeftArrow", 0xFF53: "RightArrow",
    0xFFFF: "Delete", 0xFF50: "Home", 0xFF57: "End", 0xFF55: "PageUp", 0xFF56: "PageDown",
    0xFF63: "Insert", 0xFF61: "PrintScreen", 0xFF14: "ScrollLock", 0xFF13: "Pause",
    0xFF7F: "NumLock", 0xFF67: "Menu",
    0x2D: "Minus", 0x3D: "Equal", 0x5B: "LeftBracket", 0x5D: "RightBracket", 0x3B: "SemiColon",
    0x27: "Quote", 0x5C: "BackSlash", 0x2C: "Comma", 0x2E: "Dot", 0x2F: "Slash", 0x60: "BackQuote",
    0x3C: "IntlBackslash",
    0xFF8D: "KpReturn", 0xFFAD: "KpMinus", 0xFFAB: "KpPlus", 0xFFAA: "KpMultiply",
    0xFFAF: "KpDivide", 0xFF9F: "KpDelete", 0xFFAE: "KpDelete",
}
for _i in range(10):
    _KEYSYM_NAMES[0xFFB0 + _i] = f"Kp{_i}"
for _i in range(1, 25):
    _KEYSYM_NAMES[0xFFBE + _i - 1] = f"F{_i}"

# US layout: shifted character -> the key that types it (used without an X keymap).
_SHIFTED = {"!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8",
            "(": "9", ")": "0", "_": "-", "+": "=", "{": "[", "}": "]", ":": ";", '"': "'",
            "|": "\\", "<": ",", ">": ".", "?": "/", "~": "`"}

# pynput Key enum member name -> crowd-cast name (platform independent).
PYNPUT_SPECIAL = {
    "shift": "ShiftLeft", "shift_l": "ShiftLeft", "shift_r": "ShiftRight",
    "ctrl": "ControlLeft", "ctrl_l": "ControlLeft", "ctrl_r": "ControlRight",
    "alt": "Alt", "alt_l": "Alt", "alt_r": "AltGr", "alt_gr": "AltGr",
    "cmd": "MetaLeft", "cmd_l": "MetaLeft", "cmd_r": "MetaRight",
    "enter": "Return", "esc": "Escape", "backspace": "Backspace", "tab": "Tab", "space": "Space",
    "up": "UpArrow", "down": "DownArrow", "left": "LeftArrow", "right": "RightArrow",
    "delete": "Delete", "home": "Home", "end": "End", "page_up": "PageUp", "page_down": "PageDown",
    "insert": "Insert", "print_screen": "PrintScreen", "scroll_lock": "ScrollLock",
    "pause": "Pause", "num_lock": "NumLock", "caps_lock": "CapsLock", "menu": "Menu",
    **{f"f{i}": f"F{i}" for i in range(1, 25)},
}


def name_for_keysym(keysym: int) -> str:
    """crowd-cast name of an *unshifted* X11 keysym; ``Unknown`` if it has none."""
    if 0x61 <= keysym <= 0x7A:
        return "Key" + chr(keysym).upper()
    if 0x41 <= keysym <= 0x5A:
        return "Key" + chr(keysym)
    if 0x30 <= keysym <= 0x39:
        return "Digit" + chr(keysym)
    return _KEYSYM_NAMES.get(keysym, "Unknown")


def name_for_char(char: str) -> str:
    """crowd-cast name of the key that types ``char`` on a US layout (fallback path)."""
    c = _SHIFTED.get(char, char)
    if len(c) != 1:
        return "Unknown"
    return name_for_keysym(ord(c.lower()) if c.isalpha() else ord(c))


class KeyNamer:
    """Turns pynput key objects into ``(code, name)``.

    On X11 ``code`` is the X keycode (the physical key) and the name comes from that key's
    unshifted keysym; elsewhere ``code`` is pynput's virtual-key code. One instance owns its
    X connection; calls are serialised by a lock because listeners run on their own threads.
    """

    def __init__(self, display: str | None = None) -> None:
        self._lock = threading.Lock()
        self._x = None
        if display is not None:
            from Xlib import display as xdisplay

            self._x = xdisplay.Display(display)

    def close(self) -> None:
        if self._x is not None:
            self._x.close()
            self._x = None

    def _keysym_of(self, key: Any) -> int | None:
        value = getattr(key, "value", key)  # Key enum -> its KeyCode
        vk = getattr(value, "vk", None)
        if vk is not None:
            return int(vk)
        char = getattr(value, "char", None)
        if char:
            return ord(char) if len(char) == 1 else None
        return None

    def name(self, key: Any) -> tuple[int, str]:
        enum_name = getattr(key, "name", None)  # pynput.keyboard.Key members have a name
        keysym = self._keysym_of(key)
        if self._x is not None and keysym is not None:
            with self._lock:
                code = self._x.keysym_to_keycode(keysym)
                base = self._x.keycode_to_keysym(code, 0) if code else 0
            if code:
                name = name_for_keysym(base)
                if name == "Unknown" and enum_name in PYNPUT_SPECIAL:
                    name = PYNPUT_SPECIAL[enum_name]
                return int(code), name
        if enum_name in PYNPUT_SPECIAL:
            return int(keysym or 0), PYNPUT_SPECIAL[enum_name]
        char = getattr(getattr(key, "value", key), "char", None)
        if char:
            return int(keysym or 0), name_for_char(char)
        return int(keysym or 0), "Unknown"
