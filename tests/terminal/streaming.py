"""``crowd term`` streaming to a real stdio sidecar: the sidecar start (recording, with its
websocket token file written for ``crowd term`` to find) and the check that the sidecar's
terminal model has every byte the program wrote, shared by the streaming tests."""
from __future__ import annotations

from pathlib import Path

from crowd.server.client import SidecarClient
from tests.helpers.sidecar import start_recording_sidecar
from tests.terminal.term_oracle import PtyProgram


def streaming_sidecar(home: Path, ws_dir: Path) -> SidecarClient:
    """A recording sidecar on ``ws_dir`` whose token file ``crowd term`` can read."""
    client = start_recording_sidecar(home, [ws_dir])
    try:
        client.wait_for((home / "sidecar-ws.json").exists, 30, "the token file")
    except BaseException:
        client.close()
        raise
    return client


def absorbed(client: SidecarClient, prog: PtyProgram) -> bool:
    """The sidecar's model has every byte the program wrote so far (reads the PTY first)."""
    prog.read_available(0.02)
    terminals = client.status().get("terminals") or {}
    return [t["outputBytes"] for t in terminals.values()] == [len(prog.output)]


def kill_both(prog: PtyProgram | None, client: SidecarClient) -> None:
    """Teardown for a test's ``finally``: the program (if it started and still runs) and the
    sidecar (if the test did not already kill it)."""
    if prog is not None and not prog.exited:
        prog.kill()
    if client.alive:
        client.kill()
