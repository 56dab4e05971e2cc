"""Fixtures every test folder may use: a CROWD_HOME, a small workspace and real sidecars that are
closed after the test. Folder conftests hold only what is specific to their folder."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crowd.server.client import SidecarClient
from tests.helpers.disk import DEMO_WORKSPACE, write_tree
from tests.helpers.sidecar import start_recording_sidecar


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "crowd-home"
    path.mkdir()
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "ws", DEMO_WORKSPACE)


@pytest.fixture
def start_sidecar(home: Path) -> Iterator[Callable[..., SidecarClient]]:
    """``start(folders, consent=True, settings=None, env=None, **client_kwargs)``: a recording
    sidecar on ``home``; every one started is closed when the test ends."""
    clients: list[SidecarClient] = []

    def start(folders: list[Path], consent: bool | None = True, settings: dict[str, Any] | None = None,
              env: dict[str, str] | None = None, **kwargs: Any) -> SidecarClient:
        client = start_recording_sidecar(home, folders, consent, settings, env, **kwargs)
        clients.append(client)
        return client

    yield start
    for client in clients:
        if client.alive:
            client.close()
