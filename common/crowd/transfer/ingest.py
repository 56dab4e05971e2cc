"""``crowd ingest``: the receiving side of the presigned-URL upload protocol, on loopback.

- ``POST /v1/presign`` (bearer token) with ``{fileName, version, userId[, size, sha256]}``
  answers ``{uploadUrl}``: a URL signed with HMAC over user, file and expiry, so the PUT
  needs no token (as with an object store's presigned URL).
- ``PUT /v1/put/<userId>/<fileName>?exp=..&sig=..`` streams the body to a temporary file,
  hashing it; a short body (dropped connection), a size over the limit or a sha256 that
  differs from ``X-Crowd-Sha256`` is discarded. A complete body is fsynced and renamed to
  ``<root>/<userId>/<fileName>`` and appended to ``<root>/index.jsonl``; the answer echoes
  the sha256. The same name with the same sha256 again answers 200 without storing a
  second copy, which makes client retries idempotent (exactly-once arrival).
- ``GET /v1/list`` (bearer token): what arrived. ``GET /healthz``.
Only loopback addresses can be bound: exposing it is a reverse proxy's job.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
SAFE_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{3,63}$")
DEFAULT_MAX_BYTES = 2 * 1024 ** 3


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_or_create_secret(path: Path) -> bytes:
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        key = secrets.token_bytes(32)
        path.write_text(key.hex())
        os.chmod(path, 0o600)
        return key


class IngestStore:
    """The folder uploads land in, with its append-only index."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.incoming = self.root / ".incoming"
        self.incoming.mkdir(exist_ok=True)
        for stale in self.incoming.iterdir():   # partial bodies of a previous run
            stale.unlink(missing_ok=True)
        self.index_path = self.root / "index.jsonl"
        self._lock = threading.Lock()

    def final_path(self, user: str, name: str) -> Path:
        return self.root / user / name

    def listing(self) -> list[dict[str, Any]]:
        if not self.index_path.exists():
            return []
        out = []
        for line in self.index_path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a torn last line after a crash
        return out

    def commit(self, tmp: Path, user: str, name: str, size: int, digest: str) -> tuple[int, dict[str, Any]]:
        """Move a complete body into place; (status, answer)."""
        with self._lock:
            final = self.final_path(user, name)
            if final.exists():
                tmp.unlink(missing_ok=True)
                existing = hashlib.sha256(final.read_bytes()).hexdigest()
                if existing == digest:
                    return 200, {"sha256": digest, "size": size, "duplicate": True}
                return 409, {"error": "a different file with this name exists"}
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)
            entry = {"userId": user, "fileName": name, "size": size, "sha256": digest, "received": time.time()}
            with open(self.index_path, "a") as fh:
                fh.write(json.dumps(entry) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            return 201, {"sha256": digest, "size": size, "duplicate": False}


class IngestServer:
    """A threaded HTTP server; ``start()`` runs it in the background, ``serve_forever()`` blocks."""

    def __init__(self, root: Path | str, *, token: str, host: str = "127.0.0.1", port: int = 0,
                 max_bytes: int = DEFAULT_MAX_BYTES, url_ttl_s: float = 3600.0) -> None:
        if not _is_loopback(host):
            raise ValueError(f"crowd ingest binds loopback addresses only, not {host!r}")
        if not token:
            raise ValueError("an ingest token is required")
        self.store = IngestStore(root)
        self.token = token
        self.max_bytes = max_bytes
        self.url_ttl_s = url_ttl_s
        self.key = load_or_create_secret(self.store.root / ".ingest-key")
        self.httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.httpd.server_address[0]}:{self.port}"

    def sign(self, user: str, name: str, exp: int) -> str:
        return hmac.new(self.key, f"{user}/{name}/{exp}".encode(), hashlib.sha256).hexdigest()

    def start(self) -> "IngestServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="crowd-ingest", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _make_handler(server: IngestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "crowd-ingest"

        def log_message(self, fmt: str, *args: Any) -> None:  # quiet; the index is the log
            pass

        def _answer(self, status: int, body: dict[str, Any] | list[Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True

        def _authorized(self) -> bool:
            given = self.headers.get("Authorization", "")
            return hmac.compare_digest(given.encode(), f"Bearer {server.token}".encode())

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            path = urlsplit(self.path).path
            if path == "/healthz":
                return self._answer(200, {"ok": True})
            if path == "/v1/list":
                if not self._authorized():
                    return self._answer(401, {"error": "bad or missing token"})
                return self._answer(200, server.store.listing())
            return self._answer(404, {"error": "not found"})

        def do_POST(self) -> None:  # noqa: N802
            if urlsplit(self.path).path not in ("/v1/presign", "/"):
                return self._answer(404, {"error": "not found"})
            if not self._authorized():
                return self._answer(401, {"error": "bad or missing token"})
            try:
                length = int(self.headers.get("Content-Length", "0"))
                if length > 65536:
                    return self._answer(413, {"error": "request too large"})
                req = json.loads(self.rfile.read(length) or b"{}")
                name, user, version = req["fileName"], req["userId"], req["version"]
            except (ValueError, KeyError, TypeError):
                return self._answer(400, {"error": "expected JSON {fileName, version, userId}"})
            if not (isinstance(name, str) and SAFE_NAME.match(name) and ".." not in name):
                return self._answer(400, {"error": "bad fileName"})
            if not (isinstance(user, str) and SAFE_USER.match(user)) or not isinstance(version, str):
                return self._answer(400, {"error": "bad userId or version"})
            size = req.get("size")
            if isinstance(size, int) and size > server.max_bytes:
                return self._answer(413, {"error": f"file larger than {server.max_bytes} bytes"})
            exp = int(time.time() + server.url_ttl_s)
            host = self.headers.get("Host") or f"127.0.0.1:{server.port}"
            url = (f"http://{host}/v1/put/{quote(user)}/{quote(name)}"
                   f"?exp={exp}&sig={server.sign(user, name, exp)}")
            return self._answer(200, {"uploadUrl": url})

        def do_PUT(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            segs = parts.path.split("/")
            if len(segs) != 5 or segs[1:3] != ["v1", "put"]:
                return self._answer(404, {"error": "not found"})
            user, name = segs[3], segs[4]
            q = parse_qs(parts.query)
            try:
                exp = int(q["exp"][0])
                sig = q["sig"][0]
            except (KeyError, ValueError, IndexError):
                return self._answer(403, {"error": "unsigned upload URL"})
            if (not hmac.compare_digest(sig, server.sign(user, name, exp)) or exp < time.time()
                    or not SAFE_NAME.match(name) or not SAFE_USER.match(user)):
                return self._answer(403, {"error": "bad or expired signature"})
            length_header = self.headers.get("Content-Length")
            if length_header is None:
                return self._answer(411, {"error": "Content-Length required"})
            length = int(length_header)
            if length > server.max_bytes:
                return self._answer(413, {"error": f"file larger than {server.max_bytes} bytes"})
            expected = (self.headers.get("X-Crowd-Sha256") or "").lower() or None
            tmp = server.store.incoming / f"{secrets.token_hex(8)}.part"
            h = hashlib.sha256()
            got = 0
            try:
                with open(tmp, "wb") as fh:
                    while got < length:
                        block = self.rfile.read(min(1 << 20, length - got))
                        if not block:
                            break
                        fh.write(block)
                        h.update(block)
                        got += len(block)
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError:
                tmp.unlink(missing_ok=True)
                self.close_connection = True
                return None
            if got < length:
                tmp.unlink(missing_ok=True)   # the connection dropped mid-body: keep nothing
                self.close_connection = True
                return None
            digest = h.hexdigest()
            if expected is not None and expected != digest:
                tmp.unlink(missing_ok=True)
                return self._answer(400, {"error": "sha256 mismatch", "sha256": digest})
            status, body = server.store.commit(tmp, user, name, length, digest)
            return self._answer(status, body)

    return Handler
