"""The set-up the bridge's code-server tests share: a code-server on a workspace with the
bridge installed through `crowd install-extension`, the machine's consent already given (so
no dialog), and the keystroke driver (editor-bridge/test/e2e/corpus.mjs) run against it."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from crowd.home import write_consent
from tests.bridge.codeserver import PLAYWRIGHT, ROOT, CodeServer, missing_preconditions

CORPUS = ROOT / "editor-bridge" / "test" / "e2e" / "corpus.mjs"
SETTINGS = {"workbench.startupEditor": "none", "files.autoSave": "off", "security.workspace.trust.enabled": False,
            "extensions.autoCheckUpdates": False, "git.enabled": False,
            "crowd.python": str(ROOT / ".venv" / "bin" / "python")}


def skip_unless_installed() -> None:
    missing = missing_preconditions()
    if missing:
        pytest.skip("needs what scripts/setup.sh installs; missing: " + ", ".join(missing))


def consented_server(base: Path, workspace: Path, settings: dict, log: Path) -> CodeServer:
    """A started code-server with the bridge installed and consent granted on its machine."""
    server = CodeServer.prepare(base, workspace, {**SETTINGS, **settings})
    installed = server.install_extension()
    assert installed.returncode == 0, installed.stderr
    write_consent("granted", server.base / "crowd-home")
    server.start(log)
    return server


def one_file_window(tmp_path: Path) -> tuple[CodeServer, Path]:
    """A consented code-server on a workspace holding ``a.py`` that records into
    ``tmp_path/recordings``: the server and that folder."""
    skip_unless_installed()
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text("x = 1\n")
    recordings = tmp_path / "recordings"
    server = consented_server(tmp_path / "cs", ws, {"crowd.exportPath": str(recordings)}, tmp_path / "code-server.log")
    return server, recordings


def drive(server: CodeServer, cases: list[dict], name: str, wait_for: str = "REC") -> str:
    """Type ``cases`` (corpus.mjs's format) into the window; its stdout (CASE/RELOADED lines)."""
    cfg = {"url": server.url, "playwright": str(PLAYWRIGHT), "chromium": shutil.which("chromium"),
           "waitFor": wait_for, "cases": cases, "failShot": str(ROOT / ".bench-out" / f"{name}_failure.png")}
    proc = subprocess.run(["node", str(CORPUS), json.dumps(cfg)], capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def recordings_in(folder: Path) -> list[Path]:
    """The recording folders (with at least one segment) under ``folder``."""
    return sorted(p for p in folder.glob("*") if p.is_dir() and list(p.glob("seg-*.crowd")))
