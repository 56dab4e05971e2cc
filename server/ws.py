"""The sidecar over a loopback WebSocket, for clients that cannot spawn a process.

Any local process can connect to a loopback port, so the port alone is no protection: the
sidecar draws a random 256-bit token, writes it with the port to a file only the user can
read (``$CROWD_HOME/sidecar-ws.json``, mode 0600) and refuses every connection that does
not present it (``Authorization: Bearer <token>`` or ``?token=``) before reading a byte of
JSON-RPC. It binds 127.0.0.1 only.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import secrets
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from crowd.home import crowd_home, private_dir

log = logging.getLogger("crowd.sidecar.ws")

HOST = "127.0.0.1"


def default_token_file() -> Path:
    return crowd_home() / "sidecar-ws.json"


def presented_token(path: str, headers: Any) -> str | None:
    auth = headers.get("Authorization") or ""
    if auth.startswith("Bearer "):
        return auth[len("Bearer "):].strip()
    values = parse_qs(urlparse(path).query).get("token")
    return values[0] if values else None


def write_token_file(path: Path, port: int, token: str) -> None:
    private_dir(path.parent)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"port": port, "token": token, "pid": os.getpid()}, fh)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def serve_websocket(server: Any, port: int, token_file: Path | None = None) -> None:
    """Serve ``server`` (a CrowdServer) on ws://127.0.0.1:port until killed."""
    from pygls.io_ import run_websocket  # noqa: PLC0415
    from websockets.asyncio.server import serve  # noqa: PLC0415

    token = secrets.token_hex(32)
    token_file = token_file or default_token_file()

    def process_request(connection: Any, request: Any) -> Any:
        given = presented_token(request.path, request.headers)
        if given is None or not hmac.compare_digest(given.encode(), token.encode()):
            log.warning("refused a WebSocket connection without the sidecar token")
            return connection.respond(HTTPStatus.UNAUTHORIZED, "crowd sidecar: token required\n")
        return None

    async def connection(websocket: Any) -> None:
        log.info("client connected")
        await run_websocket(websocket=websocket, stop_event=threading.Event(), protocol=server.protocol,
                            logger=log, error_handler=server.report_server_error)
        log.info("client disconnected")

    async def main() -> None:
        async with serve(connection, HOST, port, process_request=process_request, max_size=64 * 1024 * 1024) as ws:
            actual = ws.sockets[0].getsockname()[1]
            write_token_file(token_file, actual, token)
            log.info("listening on ws://%s:%d (token in %s)", HOST, actual, token_file)
            print(json.dumps({"port": actual, "tokenFile": str(token_file)}), flush=True)
            await ws.serve_forever()

    try:
        asyncio.run(main())
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        remove_token_file(token_file)


def remove_token_file(token_file: Path) -> None:
    """Delete the token file if this process wrote it (another sidecar may own it now)."""
    try:
        data = json.loads(token_file.read_text())
        if data.get("pid") == os.getpid():
            token_file.unlink()
    except (OSError, ValueError):
        pass
