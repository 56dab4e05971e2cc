"""A real system-tray host (trayer) on a virtual screen, and a look at what it shows.

trayer owns ``_NET_SYSTEM_TRAY_S0`` and embeds icons (XEMBED) in a 32 px strip at the top
right of the screen; what an icon draws is then visible in a screenshot of that strip.
"""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest


def need_trayer() -> None:
    if shutil.which("trayer") is None:
        pytest.skip("needs trayer (installed by scripts/setup.sh)")


def start_trayer(env: dict[str, str]) -> subprocess.Popen:
    """trayer docked at the top edge of the screen in ``env["DISPLAY"]``; the caller kills it."""
    return subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                             "--height", "32", "--SetDockType", "true"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextmanager
def trayer(env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """:func:`start_trayer`, killed on exit."""
    proc = start_trayer(env)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


def tray_colour_visible(display: str, colour: tuple[int, int, int]) -> bool:
    """Is the colour on screen in the top strip where trayer docks icons?"""
    import mss

    with mss.MSS(display=display) as sct:
        mon = sct.monitors[1]
        shot = sct.grab({"left": 0, "top": 0, "width": mon["width"], "height": 40})
    a = np.frombuffer(shot.raw, np.uint8).reshape(shot.height, shot.width, 4)[..., 2::-1].astype(int)
    return bool((np.abs(a - np.array(colour)).max(axis=2) <= 12).sum() >= 20)
