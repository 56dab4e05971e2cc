"""Fixtures for the sidecar tests: every test talks to a real ``crowd sidecar`` subprocess
over a real JSON-RPC pipe (``crowd.server.client.SidecarClient``), never to handlers."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crowd.format import read_recording
from crowd.server.client import SidecarClient
from crowd.server.workspace.folders import path_to_uri


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "crowd-home"
    path.mkdir()
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def main():\n    return 1\n")
    (root / "README.md").write_text("# demo\n")
    return root


@pytest.fixture
def start_sidecar(home: Path) -> Iterator[Callable[..., SidecarClient]]:
    clients: list[SidecarClient] = []

    def start(folders: list[Path], consent: bool | None = True, settings: dict[str, Any] | None = None,
              env: dict[str, str] | None = None, **kwargs: Any) -> SidecarClient:
        client = SidecarClient(env={"CROWD_HOME": str(home), **(env or {})}, **kwargs)
        clients.append(client)
        client.initialize(folders, consent=consent, settings=settings)
        if consent:
            client.wait_for(lambda: client.status()["state"] == "recording", 30, "recording")
        return client

    yield start
    for client in clients:
        if client.alive:
            client.close()
