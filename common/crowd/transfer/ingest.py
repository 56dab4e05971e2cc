"""``crowd ingest``: what a bucket cannot do by itself, on loopback, in front of an S3 store.

- ``POST /v1/presign`` (bearer token) with ``{userId, kind, sessionId, fileName, size,
  sha256, md5}`` answers ``{uploadUrl, headers, key}``: a presigned PUT
  (boto3, SigV4) for the content-addressed key ``bundles/<contributor>/<kind>/<session>/
  <sha256>.tar`` with the checksum headers and ``If-None-Match: *`` signed into it. The
  bytes go straight to the store, which checks them (crowd.transfer.store). A ``tokens``
  map authenticates contributors: the token names the contributor, whatever the body says;
  with one shared ``token`` the body's ``userId`` is the contributor.
- ``POST /v1/backlog`` (bearer token) ``{userId, held, waiting}``: a contributor's queue,
  written into the bucket as ``status/<contributor>.json`` (the dashboard's upload backlog);
  kept apart from presigning so that a store that is down never slows a presign.
- ``GET /v1/list`` (bearer token): the bucket's bundles, through the S3 API.
- ``GET /dashboard`` and ``GET /v1/stats`` (token as bearer or ``?token=``): the collection
  dashboard (crowd.transfer.dashboard). ``GET /healthz``.

Nothing is stored by this process: no PUT, no files (the object store does exactly-once and
integrity). Bounded on purpose (issue 13 item 10): a request body needs a plain decimal
``Content-Length`` of at most 64 KiB and is read to that length only; each connection has a
socket timeout (a client that stops sending loses its thread after ``request_timeout_s``);
at most ``max_connections`` are served at once, the next is answered 503 at once and closed.
Only loopback addresses can be bound: exposing it is a reverse proxy's job.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crowd.transfer.store import (
    MD5_HEX,
    SAFE_PART,
    SHA256_HEX,
    StoreSettings,
    bundle_key,
    list_objects,
    presign_put,
    s3_client,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2 * 1024 ** 3
MAX_REQUEST_BODY = 64 * 1024
SAFE_FILE_NAME = SAFE_PART


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _BoundedServer(ThreadingHTTPServer):
    """A thread per connection, but at most ``max_connections`` of them."""
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], max_connections: int) -> None:
        self.slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            try:
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                                b"Content-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class IngestServer:
    """``start()`` runs it in the background, ``serve_forever()`` blocks, ``stop()``."""

    def __init__(self, store: StoreSettings, *, token: str | None = None, tokens: dict[str, str] | None = None,
                 host: str = "127.0.0.1", port: int = 0, max_bytes: int = DEFAULT_MAX_BYTES,
                 url_ttl_s: float = 3600.0, max_connections: int = 64, request_timeout_s: float = 15.0) -> None:
        if not _is_loopback(host):
            raise ValueError(f"crowd ingest binds loopback addresses only, not {host!r}")
        if not token and not tokens:
            raise ValueError("an ingest token (or a tokens map) is required")
        if tokens and not all(isinstance(v, str) and SAFE_PART.match(v) for v in tokens.values()):
            raise ValueError("every contributor name in the tokens map must be a plain name")
        self.store = store
        self.token = token or None
        self.tokens = dict(tokens or {})
        self.max_bytes = max_bytes
        self.url_ttl_s = url_ttl_s
        self.s3 = s3_client(store)
        self.presigner = s3_client(store, public=True)
        self._stats_cache: dict[str, Any] = {}
        handler = _make_handler(self)
        handler.timeout = request_timeout_s
        self.httpd = _BoundedServer((host, port), handler, max_connections)
        self.host, self.port = self.httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def contributor(self, authorization: str) -> tuple[bool, str | None]:
        """(authenticated, the contributor the token names or None for the shared token)."""
        given = authorization.encode()
        for token, name in self.tokens.items():
            if hmac.compare_digest(given, f"Bearer {token}".encode()):
                return True, name
        if self.token and hmac.compare_digest(given, f"Bearer {self.token}".encode()):
            return True, None
        return False, None

    def presign(self, req: dict[str, Any], contributor: str | None) -> dict[str, Any]:
        user = contributor or req.get("userId")
        kind, session, sha, md5, size = (req.get(k) for k in ("kind", "sessionId", "sha256", "md5", "size"))
        if not isinstance(user, str) or not SAFE_PART.match(user):
            raise BadRequest(400, "bad userId")
        if not isinstance(session, str) or not SAFE_PART.match(session) or kind not in ("editor", "desktop"):
            raise BadRequest(400, "bad kind or sessionId")
        if not (isinstance(sha, str) and SHA256_HEX.match(sha) and isinstance(md5, str) and MD5_HEX.match(md5)):
            raise BadRequest(400, "sha256 and md5 (lowercase hex) are required")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise BadRequest(400, "size must be a non-negative integer")
        if size > self.max_bytes:
            raise BadRequest(413, f"file larger than {self.max_bytes} bytes")
        key = bundle_key(self.store, user, kind, session, sha)
        url, headers = presign_put(self.presigner, self.store, key, sha256=sha, md5=md5, ttl_s=int(self.url_ttl_s))
        return {"uploadUrl": url, "headers": headers, "key": key}

    def record_backlog(self, user: str, counts: dict[str, Any]) -> None:
        clean = {k: counts[k] for k in ("held", "waiting")
                 if isinstance(counts.get(k), int) and not isinstance(counts.get(k), bool) and counts[k] >= 0}
        body = json.dumps({"contributor": user, **clean, "reported": time.time()}).encode()
        self.s3.put_object(Bucket=self.store.bucket, Key=f"{self.store.status_prefix}/{user}.json", Body=body,
                           ContentType="application/json")

    def listing(self) -> list[dict[str, Any]]:
        return list_objects(self.s3, self.store.bucket, self.store.prefix + "/")

    def stats(self) -> dict[str, Any]:
        from crowd.transfer.dashboard import collect_stats  # noqa: PLC0415

        return collect_stats(self.s3, self.store, cache=self._stats_cache)

    def start(self) -> "IngestServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="crowd-ingest", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)


def read_json_body(headers: Any, rfile: Any, limit: int = MAX_REQUEST_BODY) -> Any:
    """The request's JSON body, read to its declared length only; BadRequest otherwise."""
    raw = headers.get("Content-Length")
    if raw is None:
        raise BadRequest(411, "Content-Length required")
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit():
        raise BadRequest(400, "Content-Length must be a non-negative decimal integer")
    if len(raw) > 12 or int(raw) > limit:
        raise BadRequest(413, f"request body over {limit} bytes")
    data = rfile.read(int(raw))
    if len(data) < int(raw):
        raise BadRequest(400, "request body cut short")
    try:
        return json.loads(data or b"{}")
    except ValueError as exc:
        raise BadRequest(400, "expected a JSON body") from exc


def _make_handler(server: IngestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "crowd-ingest/2"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: Any) -> None:  # quiet: one line per request is noise
            return

        def _answer(self, status: int, payload: Any, content_type: str = "application/json") -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True

        def _auth(self, allow_query: bool = False) -> tuple[bool, str | None]:
            given = self.headers.get("Authorization", "")
            if not given and allow_query:
                values = parse_qs(urlsplit(self.path).query).get("token")
                given = f"Bearer {values[0]}" if values else ""
            return server.contributor(given)

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            path = urlsplit(self.path).path
            if path == "/healthz":
                return self._answer(200, {"ok": True})
            if path not in ("/v1/list", "/v1/stats", "/dashboard"):
                return self._answer(404, {"error": "not found"})
            ok, contributor = self._auth(allow_query=path != "/v1/list")
            if not ok or contributor is not None:     # contributors upload; the researcher looks
                return self._answer(401, {"error": "bad or missing token"})
            try:
                if path == "/v1/list":
                    return self._answer(200, server.listing())
                stats = server.stats()
                if path == "/v1/stats":
                    return self._answer(200, stats)
                from crowd.transfer.dashboard_page import render_dashboard  # noqa: PLC0415

                return self._answer(200, render_dashboard(stats).encode(), "text/html; charset=utf-8")
            except Exception as exc:  # noqa: BLE001 - the store is down or answered oddly
                log.warning("store request failed: %r", exc)
                return self._answer(502, {"error": f"object store: {type(exc).__name__}"})

        def do_POST(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            if path not in ("/v1/presign", "/v1/backlog"):
                return self._answer(404, {"error": "not found"})
            ok, contributor = self._auth()
            if not ok:
                return self._answer(401, {"error": "bad or missing token"})
            try:
                req = read_json_body(self.headers, self.rfile)
                if not isinstance(req, dict):
                    raise BadRequest(400, "expected a JSON object")
                if path == "/v1/presign":
                    return self._answer(200, server.presign(req, contributor))
                user = contributor or req.get("userId")
                if not isinstance(user, str) or not SAFE_PART.match(user):
                    raise BadRequest(400, "bad userId")
                server.record_backlog(user, req)
                return self._answer(200, {"ok": True})
            except BadRequest as exc:
                return self._answer(exc.status, {"error": str(exc)})
            except Exception as exc:  # noqa: BLE001
                log.warning("store request failed: %r", exc)
                return self._answer(502, {"error": f"object store: {type(exc).__name__}"})

        def do_PUT(self) -> None:  # noqa: N802 - bytes go to the object store, never here
            return self._answer(405, {"error": "upload to the presigned URL"})

    return Handler
