"""Stand-ins shaped like pynput's Key/KeyCode, for naming tests on platforms' non-X path.

pynput itself cannot be imported without a display; the namer only reads ``name``,
``value``, ``vk`` and ``char``, which these provide.
"""
from __future__ import annotations


class KeyCode:
    def __init__(self, char: str | None = None, vk: int | None = None) -> None:
        self.char, self.vk = char, vk


class Key:
    def __init__(self, name: str, vk: int) -> None:
        self.name = name
        self.value = KeyCode(None, vk)
