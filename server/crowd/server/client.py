"""A small synchronous JSON-RPC client that drives a real sidecar process over a pipe.

Used by ``crowd demo``, the tests and the benchmarks: it spawns ``crowd sidecar`` as a
subprocess and speaks LSP-framed JSON-RPC to it, exactly like an editor extension does.
It is thread-based rather than asyncio so scripted sessions read top to bottom, and it
can also send raw bytes (malformed input tests). The sidecar's stderr (its log) is kept
so callers can wait for a logged message.
"""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crowd.server.workspace.folders import path_to_uri


class RpcError(RuntimeError):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data


def sidecar_command(*extra: str) -> list[str]:
    return [sys.executable, "-m", "crowd.server", *extra]


class SidecarClient:
    """One sidecar subprocess and the client end of its stdio pipe."""

    def __init__(self, *, args: list[str] | None = None, env: dict[str, str] | None = None,
                 cwd: str | Path | None = None, echo_log: bool = False, command: list[str] | None = None,
                 **popen: Any) -> None:
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env.setdefault("PYTHONUNBUFFERED", "1")
        self.proc = subprocess.Popen(
            command or sidecar_command(*(args or [])), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=full_env, cwd=cwd, bufsize=0, **popen,
        )
        self.echo_log = echo_log
        self.log: list[str] = []
        self.notifications: list[tuple[str, Any]] = []
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[threading.Event, list[Any]]] = {}
        self._write_lock = threading.Lock()
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read_loop, name="sidecar-client-read", daemon=True)
        self._reader.start()
        self._log_reader = threading.Thread(target=self._read_log, name="sidecar-client-log", daemon=True)
        self._log_reader.start()

    # -- sending --------------------------------------------------------------------------
    def send_raw(self, data: bytes) -> None:
        with self._write_lock:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, separators=(",", ":")).encode("utf-8")
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: Any = None) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request_async(self, method: str, params: Any = None) -> Callable[[float], Any]:
        """Send a request now; returns ``wait(timeout)`` giving its result (or raising)."""
        msg_id = next(self._ids)
        done = threading.Event()
        slot: list[Any] = []
        self._pending[msg_id] = (done, slot)
        self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})

        def wait(timeout: float = 60.0) -> Any:
            if not done.wait(timeout):
                raise TimeoutError(f"no answer to {method} within {timeout} s (sidecar alive: {self.alive})")
            reply = slot[0]
            if "error" in reply and reply["error"] is not None:
                err = reply["error"]
                raise RpcError(err.get("code", 0), err.get("message", ""), err.get("data"))
            return reply.get("result")

        return wait

    def request(self, method: str, params: Any = None, timeout: float = 60.0) -> Any:
        return self.request_async(method, params)(timeout)

    # -- convenience ----------------------------------------------------------------------
    def initialize(self, folders: list[Path], *, consent: bool | None = True,
                   settings: dict[str, Any] | None = None, client: dict[str, Any] | None = None,
                   continue_session: str | None = None, timeout: float = 60.0) -> Any:
        params = {
            "processId": os.getpid(),
            "rootUri": path_to_uri(folders[0]) if folders else None,
            "capabilities": {},
            "workspaceFolders": [{"uri": path_to_uri(f), "name": Path(f).name} for f in folders],
            "initializationOptions": {"consent": consent, "settings": settings or {},
                                      "client": client or {"name": "crowd-scripted-client", "version": "1"}},
        }
        if continue_session is not None:
            params["initializationOptions"]["continueSession"] = continue_session
        result = self.request("initialize", params, timeout)
        self.notify("initialized", {})
        return result

    def events(self, events: list[dict[str, Any]], *, ack: bool = False, timeout: float = 60.0) -> Any:
        if ack:
            return self.request("crowd/events", {"events": events}, timeout)
        self.notify("crowd/events", {"events": events})
        return None

    def status(self) -> dict[str, Any]:
        return self.request("crowd/status")

    def wait_for_log(self, needle: str, timeout: float = 30.0) -> str:
        """The first log line containing ``needle`` (waits for it)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.log:
                    if needle in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"sidecar never logged {needle!r}; log tail: {self.log[-10:]}")
                self._cond.wait(left)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            time.sleep(0.02)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, timeout: float = 30.0) -> int:
        """Polite LSP shutdown/exit; kills the process if it does not exit in time."""
        if self.alive:
            try:
                self.request("shutdown", None, timeout)
                self.notify("exit", None)
            except (OSError, TimeoutError, RpcError):
                pass
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        self._log_reader.join(5)
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self.proc.kill()
        self.proc.wait()

    def __enter__(self) -> SidecarClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- reading --------------------------------------------------------------------------
    def _read_loop(self) -> None:
        stream = self.proc.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self._fail_pending()
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            if length is None:
                continue
            body = b""
            while len(body) < length:
                chunk = stream.read(length - len(body))
                if not chunk:
                    self._fail_pending()
                    return
                body += chunk
            message = json.loads(body)
            if "id" in message and ("result" in message or "error" in message):
                pending = self._pending.pop(message["id"], None)
                if pending is not None:
                    pending[1].append(message)
                    pending[0].set()
            elif "method" in message:
                with self._cond:
                    self.notifications.append((message["method"], message.get("params")))
                    self._cond.notify_all()
                if "id" in message:  # a server->client request: answer with null
                    self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})

    def _fail_pending(self) -> None:
        for msg_id, (done, slot) in list(self._pending.items()):
            slot.append({"error": {"code": -32099, "message": "sidecar closed the pipe"}})
            done.set()
            self._pending.pop(msg_id, None)

    def _read_log(self) -> None:
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if self.echo_log:
                print(line, file=sys.stderr, flush=True)
            with self._cond:
                self.log.append(line)
                self._cond.notify_all()
