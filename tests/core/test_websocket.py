"""`crowd sidecar --ws`: loopback only, token file 0600, connections without the token refused."""
from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus


def test_websocket_requires_the_token(tmp_path: Path) -> None:
    token_file = tmp_path / "home" / "sidecar-ws.json"
    proc = subprocess.Popen([sys.executable, "-m", "crowd.server", "--ws", "--port", "0", "--token-file", str(token_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "CROWD_HOME": str(tmp_path / "home")})
    try:
        announced = json.loads(proc.stdout.readline())
        info = json.loads(token_file.read_text())
        assert info["port"] == announced["port"] and len(info["token"]) == 64
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700

        async def exchange() -> dict:
            for bad in ("", "?token=wrong"):
                with pytest.raises(InvalidStatus) as err:
                    async with connect(f"ws://127.0.0.1:{info['port']}/{bad}"):
                        pass
                assert err.value.response.status_code == 401
            headers = {"Authorization": f"Bearer {info['token']}"}
            async with connect(f"ws://127.0.0.1:{info['port']}/", additional_headers=headers) as ws:
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "crowd/status"}))
                return json.loads(await ws.recv())

        reply = asyncio.run(asyncio.wait_for(exchange(), 60))
        assert reply["result"] == {"state": "uninitialized"}
    finally:
        proc.terminate()
        proc.wait(30)
    assert not token_file.exists(), "the token file is removed when the sidecar exits"
    assert "refused a WebSocket connection without the sidecar token" in proc.stderr.read()
