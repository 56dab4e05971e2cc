"""Windows focus: ``GetForegroundWindow`` -> process id -> executable name.

Uses ctypes (user32/kernel32), resolved only when the backend runs on Windows. A zero
foreground window (lock screen, UAC secure desktop, a switch in progress) or an unreadable
process means unknown focus. Parsing is unit-tested on recorded query outputs.
"""
from __future__ import annotations

import ntpath
from typing import Any

from crowd.capture.focus.base import FocusInfo, PollingFocusSource


def parse_windows(sample: dict[str, Any] | None) -> FocusInfo | None:
    """``{hwnd, pid, exe, title}`` -> FocusInfo with app id the lower-case exe file name."""
    if not sample or not sample.get("hwnd") or not sample.get("exe"):
        return None
    exe = ntpath.basename(str(sample["exe"]))
    app_id = exe.lower()
    stem = app_id[:-4] if app_id.endswith(".exe") else app_id
    pid = sample.get("pid")
    return FocusInfo(app_id=app_id, pid=int(pid) if pid else None,
                     aliases=tuple(a for a in (stem,) if a != app_id), title=sample.get("title"))


def query_windows() -> dict[str, Any] | None:  # pragma: no cover - runs on Windows only
    import ctypes
    from ctypes import wintypes

    user32 = ctypes.windll.user32  # type: ignore[attr-defined]
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    hwnd = user32.GetForegroundWindow()
    if not hwnd:
        return {"hwnd": 0}
    pid = wintypes.DWORD()
    user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
    handle = kernel32.OpenProcess(0x1000, False, pid.value)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return {"hwnd": hwnd, "pid": pid.value, "exe": None}
    try:
        buf = ctypes.create_unicode_buffer(32768)
        size = wintypes.DWORD(len(buf))
        ok = kernel32.QueryFullProcessImageNameW(handle, 0, buf, ctypes.byref(size))
        exe = buf.value if ok else None
    finally:
        kernel32.CloseHandle(handle)
    title = ctypes.create_unicode_buffer(512)
    user32.GetWindowTextW(hwnd, title, 512)
    return {"hwnd": hwnd, "pid": pid.value, "exe": exe, "title": title.value}


class WindowsFocusSource(PollingFocusSource):
    platform = "windows"

    def __init__(self, query=query_windows, interval: float = 0.1) -> None:
        super().__init__(query, parse_windows, interval)
