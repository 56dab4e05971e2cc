"""Uploading queued bundles into an S3-compatible bucket through presigned URLs.

For each due bundle: ``POST <endpoint> {userId, kind, sessionId, fileName, size, sha256,
md5}`` (bearer token) to ``crowd ingest`` answers ``{uploadUrl, headers, key}``:
a URL the store itself checks (SigV4, signed by boto3 on the ingest side), for a
content-addressed key, with ``Content-MD5``, ``x-amz-checksum-sha256`` and
``If-None-Match: *`` signed into it. Then ``PUT uploadUrl`` with exactly those headers.

A bundle counts as stored (marked done, then its local files deleted) only when the store
confirms its bytes: a 2xx answer echoing our ``x-amz-checksum-sha256`` or an ``ETag`` equal
to our MD5; or a 412 (the key, which is the sha256, is already there: an earlier attempt
whose answer was lost). A 2xx without either confirmation is a failure (issue 13: such an
answer used to let local data go). Before sending, the tar is hashed again: a bundle whose
bytes no longer match the queue's sha256 is not sent.

Failures (refused connection, timeout, 5xx, 4xx, short write, checksum mismatch) schedule a
retry with exponential backoff and jitter: ``delay = d/2 + uniform(0, d/2)`` with
``d = min(max_s, base_s * 2**attempts)``. At most ``concurrency`` uploads run at once.
Nothing is sent without consent or while paused. Answers are read up to ``MAX_ANSWER``.
"""
from __future__ import annotations

import hashlib
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
from crowd.transfer.store import hex_to_b64

log = logging.getLogger(__name__)
PROTOCOL_VERSION = "crowd-2"
MAX_ANSWER = 256 * 1024


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
    report_backlog: bool = False       # tell ingest the queue's counts after each run


def backoff_delay(attempts: int, base_s: float, max_s: float, rng: random.Random) -> float:
    d = min(max_s, base_s * (2 ** min(attempts, 40)))
    return d / 2 + rng.uniform(0, d / 2)


def _digests(bundle: Bundle) -> tuple[str, str]:
    """(sha256, md5) of the bundle's tar as it is on disk now."""
    sha, md5 = hashlib.sha256(), hashlib.md5()  # noqa: S324 - MD5 is what Content-MD5 names
    try:
        with open(bundle.path, "rb") as fh:
            while block := fh.read(1 << 20):
                sha.update(block)
                md5.update(block)
    except FileNotFoundError as exc:
        raise UploadError(f"bundle file missing: {exc}") from exc
    return sha.hexdigest(), md5.hexdigest()


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
        sha256, md5 = _digests(bundle)
        if sha256 != bundle.sha256:
            raise UploadError(f"bundle {bundle.file_name} changed on disk (sha256 {sha256}, queued {bundle.sha256})")
        url, headers = self._presign(bundle, md5)
        self._put(url, headers, bundle, md5)

    def _presign(self, bundle: Bundle, md5: str) -> tuple[str, dict[str, str]]:
        body = json.dumps({"version": PROTOCOL_VERSION, "userId": self.queue.user_id(), "kind": bundle.kind,
                           "sessionId": bundle.session_id, "fileName": bundle.file_name, "size": bundle.size,
                           "sha256": bundle.sha256, "md5": md5}).encode()
        status, data = self._request("POST", self.config.endpoint, body, self._json_headers(body))
        if status != 200:
            raise UploadError(f"presign answered {status}: {data[:200]!r}")
        try:
            answer = json.loads(data)
            url, headers = answer["uploadUrl"], answer["headers"]
        except (ValueError, KeyError, TypeError) as exc:
            raise UploadError(f"presign answer without uploadUrl/headers: {data[:200]!r}") from exc
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise UploadError(f"bad uploadUrl {url!r}")
        if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                    for k, v in headers.items()):
            raise UploadError("bad headers in the presign answer")
        return url, headers

    def _json_headers(self, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        return headers

    def report_backlog(self) -> None:
        """Tell ``crowd ingest`` what is held and waiting here (for its dashboard)."""
        counts = self.queue.counts(self.clock())
        body = json.dumps({"userId": self.queue.user_id(), "held": counts["held"],
                           "waiting": counts["waiting"]}).encode()
        endpoint = self.config.endpoint.rsplit("/", 1)[0] + "/backlog"
        try:
            self._request("POST", endpoint, body, self._json_headers(body))
        except UploadError as exc:
            log.info("backlog report failed: %s", exc)

    def _put(self, url: str, headers: dict[str, str], bundle: Bundle, md5: str) -> None:
        conn, path = _connection(url, self.config.timeout_s)
        try:
            conn.putrequest("PUT", path, skip_accept_encoding=True)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.putheader("Content-Length", str(bundle.size))
            conn.endheaders()
            with open(bundle.path, "rb") as fh:
                while True:
                    block = fh.read(1 << 20)
                    if not block:
                        break
                    conn.send(block)
            resp = conn.getresponse()
            data = resp.read(MAX_ANSWER)
        except FileNotFoundError as exc:
            raise UploadError(f"bundle file missing: {exc}") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise UploadError(f"PUT failed: {exc!r}") from exc
        finally:
            conn.close()
        if resp.status == 412:
            # If-None-Match: * on a content-addressed key: these very bytes are stored already
            self.bytes_sent += bundle.size
            return
        if not 200 <= resp.status < 300:
            raise UploadError(f"PUT answered {resp.status}: {data[:200]!r}")
        echoed = resp.getheader("x-amz-checksum-sha256")
        etag = (resp.getheader("ETag") or "").strip('"').lower()
        if echoed is not None and echoed != hex_to_b64(bundle.sha256):
            raise UploadError(f"store answered checksum {echoed}, expected {hex_to_b64(bundle.sha256)}")
        if echoed is None and etag != md5:
            raise UploadError(f"store answered {resp.status} without confirming the checksum "
                              f"(no x-amz-checksum-sha256, ETag {etag!r}); local data is kept")
        self.bytes_sent += bundle.size

    def _request(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        conn, path = _connection(url, self.config.timeout_s)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read(MAX_ANSWER)
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
        if not self.queue.mark_done(bundle.id, now=self.clock()):
            log.warning("bundle %s was purged while it uploaded; nothing of it is kept here", bundle.file_name)
            return False
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
        if self.config.report_backlog and self.allowed():
            self.report_backlog()
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
