"""A real code-server with the real editor bridge and sidecar, driven by drive.mjs, for the
attribution measurements (measure.py) and tests/bridge/test_attribution_e2e.py.

The Python side writes files from other processes and reads the recording; the browser
side (drive.mjs) does what a user does. Every piece of state lives under ``base``.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crowd.format import read_recording
from tests.bridge.codeserver import PLAYWRIGHT, ROOT, CodeServer, missing_preconditions

DRIVER = Path(__file__).with_name("drive.mjs")

__all__ = ["EditorSession", "missing_preconditions"]


class EditorSession:
    """code-server + bridge + sidecar on ``workspace``; ``do`` runs one browser action."""

    def __init__(self, base: Path, workspace: Path, settings: dict[str, Any] | None = None) -> None:
        self.base = base
        self.workspace = workspace
        self.recordings = base / "recordings"
        all_settings = {
            "crowd.python": str(ROOT / ".venv" / "bin" / "python"),
            "crowd.exportPath": str(self.recordings),
            "workbench.startupEditor": "none", "files.autoSave": "off",
            "security.workspace.trust.enabled": False,
            "extensions.autoCheckUpdates": False, "git.enabled": False,
            "explorer.confirmDelete": True, "files.enableTrash": False,
            **(settings or {}),
        }
        self.server = CodeServer.prepare(base / "cs", workspace, all_settings)
        installed = self.server.install_extension()
        if installed.returncode != 0:
            raise RuntimeError(f"install-extension failed: {installed.stderr[-2000:]}")
        self.server.start(base / "code-server.log")
        cfg = {"url": self.server.url, "playwright": str(PLAYWRIGHT), "chromium": shutil.which("chromium"),
               "screenshot": str(base / "failure.png")}
        self._log = (base / "driver.log").open("wb")
        self.proc = subprocess.Popen(["node", str(DRIVER), json.dumps(cfg)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log, text=True)
        self._answers: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self._answer(180)   # the workbench is up
        self.session_dir: Path | None = None

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(("DONE ", "FAIL ")):
                with self._cond:
                    self._answers.append(line.rstrip())
                    self._cond.notify_all()
        with self._cond:
            self._answers.append("FAIL driver exited")
            self._cond.notify_all()

    def _answer(self, timeout: float) -> dict[str, Any]:
        with self._cond:
            if not self._cond.wait_for(lambda: self._answers, timeout):
                raise AssertionError(f"driver did not answer in {timeout} s")
            line = self._answers.pop(0)
        if line.startswith("FAIL"):
            raise AssertionError(f"driver: {line}; see {self.base / 'failure.png'}, {self.base / 'driver.log'}")
        return json.loads(line[5:])

    def do(self, action: str, timeout: float = 180, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"do": action, **args}) + "\n")
        self.proc.stdin.flush()
        return self._answer(timeout)

    def start_recording(self, timeout: float = 120) -> Path:
        self.do("consent")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [p for p in self.recordings.glob("*") if p.is_dir() and list(p.glob("seg-*.crowd"))]
            if found:
                self.session_dir = found[0]
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"no recording appeared in {self.recordings}")

    def events(self) -> list[dict[str, Any]]:
        assert self.session_dir is not None
        return read_recording(self.session_dir).events

    def wait_events(self, done: Callable[[list[dict[str, Any]]], Any], timeout: float = 60,
                    what: str = "events") -> Any:
        """Poll the recording until ``done(events)`` is truthy; returns that value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = done(self.events())
            if found:
                return found
            time.sleep(0.1)
        tail = [(e["t"], e.get("kind"), e.get("file"), e.get("source"), e.get("change")) for e in self.events()[-15:]]
        raise AssertionError(f"the recording never showed {what}; its last events: {tail}")

    def close(self) -> list[dict[str, Any]]:
        """Stop everything; the recording is then complete. Returns its events."""
        try:
            if self.proc.poll() is None and self.proc.stdin is not None:
                try:
                    self.proc.stdin.write('{"do": "quit"}\n')
                    self.proc.stdin.flush()
                    self.proc.wait(timeout=30)
                except (OSError, subprocess.TimeoutExpired):
                    self.proc.kill()
        finally:
            self.server.stop()
            self._log.close()
        return self.events() if self.session_dir is not None else []
