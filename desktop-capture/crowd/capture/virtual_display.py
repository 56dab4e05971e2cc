"""A real virtual X screen (Xvfb) with a window manager, for tests, benchmarks and data generation.

The recorder's focus tracking needs ``_NET_ACTIVE_WINDOW``, which only a window manager
maintains, so openbox is started alongside Xvfb. Xvfb picks a free display number itself
(``-displayfd``), which lets many tests and engineers run screens side by side without
racing for ``:99``. Everything started here is stopped by :meth:`VirtualDisplay.stop`
(process groups, by pid).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path


class VirtualDisplayError(RuntimeError):
    pass


def missing_tools(with_wm: bool = True) -> list[str]:
    """Executables this module needs that are not installed (scripts/setup.sh installs them)."""
    need = ["Xvfb", "xdotool"] + (["openbox"] if with_wm else [])
    return [t for t in need if shutil.which(t) is None]


class VirtualDisplay:
    """``with VirtualDisplay(1280, 720) as vd: ... vd.display == ':N'``."""

    def __init__(self, width: int = 1280, height: int = 720, depth: int = 24,
                 with_wm: bool = True, start_timeout: float = 30.0) -> None:
        self.width, self.height, self.depth = width, height, depth
        self.with_wm = with_wm
        self.start_timeout = start_timeout
        self.display: str = ""
        self._xvfb: subprocess.Popen | None = None
        self._wm: subprocess.Popen | None = None
        self._tmp = tempfile.mkdtemp(prefix="crowd-xvfb-")

    @property
    def env(self) -> dict[str, str]:
        """Environment for child processes that should draw on this screen."""
        env = dict(os.environ)
        env["DISPLAY"] = self.display
        return env

    def start(self) -> "VirtualDisplay":
        missing = missing_tools(self.with_wm)
        if missing:
            raise VirtualDisplayError(f"missing {', '.join(missing)} (run scripts/setup.sh)")
        rfd, wfd = os.pipe()
        self._xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(wfd), "-screen", "0",
             f"{self.width}x{self.height}x{self.depth}", "-nolisten", "tcp", "-br", "-noreset"],
            pass_fds=(wfd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        os.close(wfd)
        number = b""
        deadline = time.monotonic() + self.start_timeout
        try:
            while not number.endswith(b"\n"):
                if time.monotonic() > deadline or self._xvfb.poll() is not None:
                    raise VirtualDisplayError("Xvfb did not start")
                chunk = os.read(rfd, 16)
                if not chunk:
                    raise VirtualDisplayError("Xvfb exited before reporting its display")
                number += chunk
        except BaseException:
            os.close(rfd)
            self.stop()
            raise
        os.close(rfd)
        self.display = f":{number.decode().strip()}"
        if self.with_wm:
            self._start_wm()
        return self

    def _start_wm(self) -> None:
        cfg = Path(self._tmp) / "xdg"
        cfg.mkdir(exist_ok=True)
        env = self.env | {"XDG_CONFIG_HOME": str(cfg), "HOME": self._tmp}
        self._wm = subprocess.Popen(["openbox", "--sm-disable"], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
        # openbox is ready once it has set _NET_SUPPORTING_WM_CHECK on the root window
        from Xlib import display as xdisplay

        d = xdisplay.Display(self.display)
        try:
            atom = d.intern_atom("_NET_SUPPORTING_WM_CHECK")
            deadline = time.monotonic() + self.start_timeout
            while d.screen().root.get_full_property(atom, 0) is None:
                if time.monotonic() > deadline or self._wm.poll() is not None:
                    raise VirtualDisplayError("openbox did not start")
                time.sleep(0.05)
        finally:
            d.close()

    def stop(self) -> None:
        for proc in (self._wm, self._xvfb):
            if proc is None or proc.poll() is not None:
                continue
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self._wm = self._xvfb = None
        shutil.rmtree(self._tmp, ignore_errors=True)

    def xdotool(self, *args: str, timeout: float = 30.0) -> str:
        """Run xdotool on this screen and return its stdout."""
        out = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True,
                             timeout=timeout)
        if out.returncode != 0:
            raise VirtualDisplayError(f"xdotool {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def __enter__(self) -> "VirtualDisplay":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
