"""A real TCP proxy on loopback that injects network faults between the uploader and the
ingest server or the object store.

Not a mock: the uploader talks real HTTP over real sockets to the real ingest server and the
real S3 store (SeaweedFS); the proxy only misbehaves on purpose, one fault per connection from a script:
``refuse`` (accept and close at once), ``503`` (answer a canned 503 without forwarding),
``slow:<s>`` (hold the answer back), ``drop_put`` (forward half a PUT body, then cut both
sides), ``corrupt_put`` (flip one byte of a PUT body), ``drop_answer`` (forward the whole
request, then close without passing the answer on: stored, but the client never hears),
``ok_no_echo`` (answer 200 without forwarding, with no checksum echo), ``hold_body``
(forward half the body, set ``holding``, wait for ``release``, then send the rest).
``close_listener()`` makes the port refuse connections at the TCP level until
``open_listener()``.
"""
from __future__ import annotations

import socket
import threading
import time
from collections import deque


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("client closed before the request head")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


class FaultProxy:
    def __init__(self, upstream_port: int, port: int = 0) -> None:
        self.upstream_port = upstream_port
        self.faults: deque[tuple[str, str]] = deque()   # (method or "*", fault)
        self.applied: list[str] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.port = port
        self.holding = threading.Event()
        self.release = threading.Event()
        self.open_listener()

    def script(self, *items: tuple[str, str]) -> None:
        with self._lock:
            self.faults.extend(items)

    def pending(self) -> int:
        with self._lock:
            return len(self.faults)

    def open_listener(self) -> None:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self.port = s.getsockname()[1]
        self._listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def close_listener(self) -> None:
        s, self._listener = self._listener, None
        if s is not None:
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _take(self, method: str) -> str | None:
        with self._lock:
            if self.faults and self.faults[0][0] in ("*", method):
                fault = self.faults.popleft()[1]
                self.applied.append(f"{method}:{fault}")
                return fault
        return None

    def _handle(self, client: socket.socket) -> None:
        upstream = None
        try:
            head, rest = _read_head(client)
            method = head.split(b" ", 1)[0].decode()
            fault = self._take(method)
            if fault == "refuse":
                return
            if fault == "ok_no_echo":
                client.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            if fault == "503":
                client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy")
                return
            length = _content_length(head)
            body = rest
            while len(body) < length:
                chunk = client.recv(min(1 << 20, length - len(body)))
                if not chunk:
                    return
                body += chunk
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
            if fault == "drop_put":
                upstream.sendall(head + body[: len(body) // 2])
                upstream.shutdown(socket.SHUT_WR)
                time.sleep(0.05)
                return
            if fault == "hold_body":
                upstream.sendall(head + body[: len(body) // 2])
                self.holding.set()
                self.release.wait(60)
                upstream.sendall(body[len(body) // 2:])
                body = b""
                head = b""
            if fault == "corrupt_put" and body:
                i = len(body) // 3
                body = body[:i] + bytes([body[i] ^ 0xFF]) + body[i + 1:]
            if head or body:
                upstream.sendall(head + body)
            # one answer, framed by its Content-Length (the store keeps connections open)
            answer_head, answer = _read_head(upstream)
            want = _content_length(answer_head)
            while len(answer) < want:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                answer += chunk
            answer = answer_head + answer
            if fault == "drop_answer":
                return
            if fault and fault.startswith("slow:"):
                time.sleep(float(fault.split(":", 1)[1]))
            client.sendall(answer)
        except OSError:
            pass
        finally:
            client.close()
            if upstream is not None:
                upstream.close()

    def stop(self) -> None:
        self.close_listener()
