"""Fixtures: the real sidecar subprocess over its JSON-RPC pipe (as in tests/core)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


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
    return root


@pytest.fixture
def start_sidecar(home: Path) -> Iterator[Callable[..., Any]]:
    from crowd.server.client import SidecarClient

    clients: list[Any] = []

    def start(folders: list[Path], consent: bool | None = True, settings: dict[str, Any] | None = None) -> Any:
        client = SidecarClient(env={"CROWD_HOME": str(home)})
        clients.append(client)
        client.initialize(folders, consent=consent, settings=settings)
        if consent:
            client.wait_for(lambda: client.status()["state"] == "recording", 30, "recording")
        return client

    yield start
    for client in clients:
        if client.alive:
            client.close()
