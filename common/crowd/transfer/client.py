"""Uploading queued bundles with the presigned-URL protocol.

For each due bundle: ``POST <endpoint> {fileName, version, userId, size, sha256}`` (bearer
token) answers ``{uploadUrl}``; then ``PUT uploadUrl`` with the bytes and an
``X-Crowd-Sha256`` header. Success is a 2xx answer whose JSON echoes the same sha256 (a
server that does not echo it, like a bare object store, is trusted on its 2xx). Only then is
the bundle marked done, and only after that mark is committed are local files deleted.

Failures (refused connection, timeout, 5xx, 4xx, short write, checksum mismatch) schedule a
retry with exponential backoff and jitter: ``delay = d/2 + uniform(0, d/2)`` with
``d = min(max_s, base_s * 2**attempts)``. At most ``concurrency`` uploads run at once.
Nothing is sent without consent or while paused.
"""
from __future__ import annotations

import http.client
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from crowd.transfer.queue import Bundle, UploadQueue

log = logging.getLogger(__name__)
PROTOCOL_VERSION = "crowd-1"


class UploadError(Exception):
    """One attempt failed; the bundle stays queued."""


@dataclass
class UploaderConfig:
    endpoint: str
    token: str = ""
    concurrency: int = 3
    backoff_base_s: float = 30.0
    backoff_max_s: float = 7200.0
    timeout_s: float = 60.0
    poll_s: float = 1.0
    delete_after_upload: bool = True


def backoff_delay(attempts: int, base_s: float, max_s: float, rng: random.Random) -> float:
    d = min(max_s, base_s * (2 ** min(attempts, 40)))
    return d / 2 + rng.uniform(0, d / 2)


def _connection(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return cls(parts.hostname, parts.port, timeout=timeout), path


class Uploader:
    """Drains an UploadQueue; ``run_until_idle`` for the CLI, ``start``/``stop`` as a service."""

    def __init__(self, queue: UploadQueue, config: UploaderConfig, *,
                 clock: Callable[[], float] = time.time, rng: random.Random | None = None,
                 before_delete: Callable[[Bundle], None] | None = None) -> None:
        self.queue = queue
        self.config = config
        self.clock = clock
        self.rng = rng or random.Random()
        self.before_delete = before_delete
        self._pool = ThreadPoolExecutor(max_workers=max(1, config.concurrency), thread_name_prefix="crowd-upload")
        self._inflight: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.uploaded = 0
        self.failures = 0
        self.bytes_sent = 0

    # -- one bundle ----------------------------------------------------------------------------
    def upload(self, bundle: Bundle) -> None:
        """One attempt; raises UploadError on any failure."""
        user_id = self.queue.user_id()
        url = self._presign(bundle, user_id)
        self._put(url, bundle)

    def _presign(self, bundle: Bundle, user_id: str) -> str:
        body = json.dumps({"fileName": bundle.file_name, "version": PROTOCOL_VERSION, "userId": user_id,
                           "size": bundle.size, "sha256": bundle.sha256}).encode()
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        status, data = self._request("POST", self.config.endpoint, body, headers)
        if status != 200:
            raise UploadError(f"presign answered {status}: {data[:200]!r}")
        try:
            url = json.loads(data)["uploadUrl"]
        except (ValueError, KeyError, TypeError) as exc:
            raise UploadError(f"presign answer without uploadUrl: {data[:200]!r}") from exc
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise UploadError(f"bad uploadUrl {url!r}")
        return url

    def _put(self, url: str, bundle: Bundle) -> None:
        conn, path = _connection(url, self.config.timeout_s)
        try:
            conn.putrequest("PUT", path)
            conn.putheader("Content-Type", "application/x-tar")
            conn.putheader("Content-Length", str(bundle.size))
            conn.putheader("X-Crowd-Sha256", bundle.sha256)
            conn.endheaders()
            with open(bundle.path, "rb") as fh:
                while True:
                    block = fh.read(1 << 20)
                    if not block:
                        break
                    conn.send(block)
            resp = conn.getresponse()
            data = resp.read()
        except FileNotFoundError as exc:
            raise UploadError(f"bundle file missing: {exc}") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise UploadError(f"PUT failed: {exc!r}") from exc
        finally:
            conn.close()
        if not 200 <= resp.status < 300:
            raise UploadError(f"PUT answered {resp.status}: {data[:200]!r}")
        try:
            echoed = json.loads(data).get("sha256") if data else None
        except (ValueError, AttributeError):
            echoed = None
        if echoed is not None and echoed != bundle.sha256:
            raise UploadError(f"server stored sha256 {echoed}, expected {bundle.sha256}")
        self.bytes_sent += bundle.size

    def _request(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        conn, path = _connection(url, self.config.timeout_s)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise UploadError(f"{method} {url} failed: {exc!r}") from exc
        finally:
            conn.close()

    def _attempt(self, bundle: Bundle) -> bool:
        try:
            self.upload(bundle)
        except UploadError as exc:
            self.failures += 1
            delay = backoff_delay(bundle.attempts, self.config.backoff_base_s, self.config.backoff_max_s, self.rng)
            self.queue.mark_failed(bundle.id, str(exc), self.clock() + delay)
            log.info("upload of %s failed (attempt %d, retry in %.1fs): %s", bundle.file_name,
                     bundle.attempts + 1, delay, exc)
            return False
        except Exception as exc:  # noqa: BLE001 - a bug must not kill the worker; retry later
            log.exception("unexpected upload error")
            self.queue.mark_failed(bundle.id, repr(exc), self.clock() + self.config.backoff_max_s)
            return False
        self.queue.mark_done(bundle.id, now=self.clock())
        if self.before_delete is not None:
            self.before_delete(bundle)
        if self.config.delete_after_upload:
            self.queue.delete_local(bundle)
        self.uploaded += 1
        return True

    # -- scheduling ----------------------------------------------------------------------------
    def allowed(self) -> bool:
        return self.queue.consent and not self.queue.paused

    def pump(self) -> int:
        """Submit due bundles up to the concurrency bound; returns how many were started."""
        if not self.allowed():
            return 0
        with self._lock:
            for bid in [b for b, f in self._inflight.items() if f.done()]:
                del self._inflight[bid]
            free = self.config.concurrency - len(self._inflight)
            if free <= 0:
                return 0
            due = self.queue.due(self.clock(), limit=free, exclude=self._inflight)
            for bundle in due:
                fut = self._pool.submit(self._attempt, bundle)
                fut.add_done_callback(lambda _f: self._wake.set())
                self._inflight[bundle.id] = fut
            return len(due)

    def busy(self) -> bool:
        with self._lock:
            return any(not f.done() for f in self._inflight.values())

    def run_until_idle(self, *, deadline_s: float | None = None) -> dict[str, int]:
        """Upload until no bundle is due or in flight (held or backed-off ones may remain).

        With ``deadline_s`` it keeps waiting through backoffs until every queued bundle past
        its hold is uploaded or the deadline passes.
        """
        end = None if deadline_s is None else time.monotonic() + deadline_s
        while True:
            self._wake.clear()
            started = self.pump()
            if not started and not self.busy():
                waiting = self.queue.counts(self.clock())["waiting"]
                if end is None or waiting == 0 or time.monotonic() >= end or not self.allowed():
                    break
                nxt = self.queue.next_wakeup()
                pause = 0.05 if nxt is None else max(0.005, min(1.0, nxt - self.clock()))
                self._wake.wait(min(pause, max(0.0, end - time.monotonic())))
                continue
            self._wake.wait(0.2)
        return {"uploaded": self.uploaded, "failures": self.failures, **self.queue.counts(self.clock())}

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="crowd-uploader", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.pump()
            except Exception:  # noqa: BLE001
                log.exception("upload scheduling failed")
            nxt = self.queue.next_wakeup()
            pause = self.config.poll_s if nxt is None else max(0.01, min(self.config.poll_s, nxt - self.clock()))
            self._wake.wait(pause)
            self._wake.clear()

    def kick(self) -> None:
        self._wake.set()

    def stop(self, wait: bool = True) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._pool.shutdown(wait=wait, cancel_futures=True)
