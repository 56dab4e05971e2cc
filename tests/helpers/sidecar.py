"""Start a real ``crowd sidecar`` subprocess (``SidecarClient``, its JSON-RPC pipe) and wait until
it records: what the ``start_sidecar`` fixture (tests/conftest.py) and the tests that manage
the sidecar's lifetime themselves (terminal streaming, kill -9) share."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from crowd.server.client import SidecarClient


def start_recording_sidecar(home: Path, folders: list[Path], consent: bool | None = True,
                            settings: dict[str, Any] | None = None, env: dict[str, str] | None = None,
                            **kwargs: Any) -> SidecarClient:
    """A sidecar with ``CROWD_HOME=home`` initialized on ``folders``; with consent it is
    recording when this returns. ``kwargs`` go to ``SidecarClient`` (e.g. ``command``)."""
    client = SidecarClient(env={"CROWD_HOME": str(home), **(env or {})}, **kwargs)
    try:
        client.initialize(folders, consent=consent, settings=settings)
        if consent:
            client.wait_for(lambda: client.status()["state"] == "recording", 30, "recording")
    except BaseException:
        if client.alive:
            client.close()
        raise
    return client
