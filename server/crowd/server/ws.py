"""The sidecar's loopback WebSocket: ``crowd sidecar --ws``, and the side door of every stdio
sidecar through which ``crowd term`` streams into the editor's session.

Any local process can connect to a loopback port, so the port alone is no protection: the
sidecar draws a random 256-bit token, writes it with the port to a file only the user can
read (``$CROWD_HOME/sidecar-ws.json``, mode 0600) and refuses every connection that does
not present it (``Authorization: Bearer <token>`` or ``?token=``) before reading a byte of
JSON-RPC. It binds 127.0.0.1 only.

Every connection gets a JSON-RPC protocol object of its own (pygls' ``run_websocket`` shares
the server's single protocol, so each new connection would take over the writer and the
editor's replies would go to whichever client connected last). All connections are served
on the sidecar's one asyncio loop, so handlers never run concurrently. Only the connection
that sent ``initialize`` (over stdio: none, the editor is on stdio) may ``shutdown``/``exit``
the sidecar; the others (``crowd term``) send events and ask for the status.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import secrets
from collections.abc import Generator
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from crowd.home import private_dir, sidecar_token_file
from crowd.server.framing import MAX_MESSAGE, parse_message

log = logging.getLogger("crowd.sidecar.ws")

HOST = "127.0.0.1"


def default_token_file() -> Path:
    return sidecar_token_file()


def presented_token(path: str, headers: Any) -> str | None:
    auth = headers.get("Authorization") or ""
    if auth.startswith("Bearer "):
        return auth[len("Bearer "):].strip()
    values = parse_qs(urlparse(path).query).get("token")
    return values[0] if values else None


def write_token_file(path: Path, port: int, token: str) -> None:
    # a folder the user named (--token-file, maybe /tmp with mode 1777) keeps its mode; only a
    # folder made here is made private. The file itself is 0600 and created, never followed.
    if not path.parent.exists():
        private_dir(path.parent)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"port": port, "token": token, "pid": os.getpid()}, fh)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def remove_token_file(token_file: Path) -> None:
    """Delete the token file if this process wrote it (another sidecar may own it now)."""
    try:
        data = json.loads(token_file.read_text())
        if data.get("pid") == os.getpid():
            token_file.unlink()
    except (OSError, ValueError):
        pass


def token_file_taken(path: Path) -> bool:
    """True when ``path`` names another live process (another editor window's sidecar)."""
    try:
        pid = int(json.loads(path.read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class NotTheEditor(JsonRpcException):
    CODE = -32600
    MESSAGE = "only the connection that initialized the sidecar may shut it down"


class ConnectionProtocol(LanguageServerProtocol):
    """The server's features behind a protocol object owned by one WebSocket connection."""

    def __init__(self, server: Any, template: LanguageServerProtocol) -> None:
        super().__init__(server, template._converter)
        self.fm.features.update(template.fm.features)
        self.fm.feature_options.update(template.fm.feature_options)
        self.fm.commands.update(template.fm.commands)
        self.editor = False       # this connection sent initialize: it is the editor

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, types.InitializeResult]:
        result = yield from super().lsp_initialize(params)
        self.editor = True
        return result

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        if not self.editor:
            raise NotTheEditor()
        return (yield from super().lsp_shutdown(*args))

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        if not self.editor:
            log.warning("ignored 'exit' from a WebSocket client that is not the editor")
            return None
        return (yield from super().lsp_exit(*args))


class WebSocketEndpoint:
    """The token-protected loopback listener; one ``ConnectionProtocol`` per connection."""

    def __init__(self, server: Any, port: int = 0, token_file: Path | None = None) -> None:
        self.server = server
        self.port = port
        self.token_file = token_file or default_token_file()
        self.token = secrets.token_hex(32)
        self.connections: set[ConnectionProtocol] = set()
        self._ws_server: Any = None

    def _process_request(self, connection: Any, request: Any) -> Any:
        given = presented_token(request.path, request.headers)
        if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
            log.warning("refused a WebSocket connection without the sidecar token")
            return connection.respond(HTTPStatus.UNAUTHORIZED, "crowd sidecar: token required\n")
        return None

    async def start(self) -> int:
        """Listen, then write the token file; returns the port."""
        from websockets.asyncio.server import serve  # noqa: PLC0415 - websockets only when serving

        self._ws_server = await serve(self._connection, HOST, self.port, process_request=self._process_request,
                                      max_size=MAX_MESSAGE)
        self.port = self._ws_server.sockets[0].getsockname()[1]
        write_token_file(self.token_file, self.port, self.token)
        log.info("listening on ws://%s:%d (token in %s)", HOST, self.port, self.token_file)
        return self.port

    async def stop(self) -> None:
        remove_token_file(self.token_file)
        if self._ws_server is not None:
            self._ws_server.close()
            try:
                await asyncio.wait_for(self._ws_server.wait_closed(), 5)
            except (asyncio.TimeoutError, OSError):
                pass

    def editors(self) -> list[ConnectionProtocol]:
        return [c for c in self.connections if c.editor]

    async def _connection(self, websocket: Any) -> None:
        from pygls.io_ import WebSocketWriter  # noqa: PLC0415
        from websockets.exceptions import ConnectionClosed  # noqa: PLC0415

        protocol = ConnectionProtocol(self.server, self.server.protocol)
        protocol.set_writer(WebSocketWriter(websocket), include_headers=False)
        self.connections.add(protocol)
        log.info("client connected (%d connection(s))", len(self.connections))
        try:
            while True:
                try:
                    data = await websocket.recv(decode=False)
                except ConnectionClosed:
                    break
                try:
                    protocol.handle_message(parse_message(data, protocol.structure_message))
                except Exception as exc:  # noqa: BLE001 - malformed input must not end the connection
                    log.exception("unable to handle a WebSocket message")
                    self.server.report_server_error(exc, JsonRpcException)
        finally:
            self.connections.discard(protocol)
            log.info("client disconnected")


def serve_websocket(server: Any, port: int, token_file: Path | None = None) -> None:
    """``crowd sidecar --ws``: serve ``server`` (a CrowdServer) on ws://127.0.0.1:port until killed."""
    endpoint = WebSocketEndpoint(server, port, token_file)
    server.endpoint = endpoint

    async def main() -> None:
        actual = await endpoint.start()
        print(json.dumps({"port": actual, "tokenFile": str(endpoint.token_file)}), flush=True)
        try:
            await asyncio.Future()      # until killed or an editor connection sends 'exit'
        finally:
            await endpoint.stop()

    try:
        asyncio.run(main())
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        remove_token_file(endpoint.token_file)
