"""Fixtures for desktop-capture tests: a real Xvfb + openbox screen and demo app windows."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crowd.capture.virtual_display import VirtualDisplay, missing_tools


@dataclass
class DemoApp:
    """A running demo_window: its X window id and the inputs it reported receiving."""
    proc: subprocess.Popen
    wid: str
    wm_class: str
    lines: list[str] = field(default_factory=list)

    def received(self, kind: str | None = None) -> list[list[str]]:
        rows = [ln.split() for ln in list(self.lines)]
        return [r for r in rows if kind is None or r[0] == kind]

    def wait_received(self, count: int, timeout: float = 20.0) -> list[list[str]]:
        deadline = time.monotonic() + timeout
        while len(self.lines) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.wm_class} got {len(self.lines)} inputs, expected {count}")
            time.sleep(0.01)
        return self.received()


class Screen:
    """One virtual screen shared by a test module, with helpers to open demo windows."""

    def __init__(self, vd: VirtualDisplay) -> None:
        self.vd = vd
        self.display = vd.display
        self.apps: list[DemoApp] = []

    def app(self, wm_class: str, geometry: str = "640x480+0+0", palette: str = "bright") -> DemoApp:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crowd.capture.demo_window", "--wm-class", wm_class,
             "--geometry", geometry, "--palette", palette],
            env=self.vd.env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        first = proc.stdout.readline().split()
        if not first or first[0] != "ready":
            proc.kill()
            raise RuntimeError(f"demo window {wm_class} did not start")
        app = DemoApp(proc, first[1], wm_class)
        threading.Thread(target=lambda: [app.lines.append(ln) for ln in proc.stdout], daemon=True).start()
        self.apps.append(app)
        return app

    def activate(self, app: DemoApp) -> None:
        self.vd.xdotool("windowactivate", "--sync", app.wid)

    def close_apps(self) -> None:
        for app in self.apps:
            app.proc.kill()
            app.proc.wait(5)
        self.apps.clear()

    def xdotool(self, *args: str) -> str:
        return self.vd.xdotool(*args)


def _require_x() -> None:
    missing = missing_tools()
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (installed by scripts/setup.sh)")


@pytest.fixture(scope="module")
def screen() -> Iterator[Screen]:
    _require_x()
    with VirtualDisplay(640, 480) as vd:
        s = Screen(vd)
        try:
            yield s
        finally:
            s.close_apps()


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    d = tmp_path / "recordings"
    d.mkdir()
    return d
