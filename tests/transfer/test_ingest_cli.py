"""``crowd ingest`` as a user runs it: the embedded store started from the command, uploads
from ``crowd upload run``, ``crowd ingest --list``, and no store left behind when the
command is killed (SIGTERM stops it; SIGKILL takes the store with it)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import psutil

from tests.helpers.waiting import wait_for
from tests.transfer.transfer_helpers import TOKEN, make_recording

CROWD = [sys.executable, "-m", "crowd.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _weeds(parent: psutil.Process) -> list[psutil.Process]:
    return [c for c in parent.children(recursive=True) if c.name() == "weed"]


def _start_ingest(store, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([*CROWD, "ingest", "--store", str(store), "--port", str(port),
                             "--token", TOKEN], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()        # printed once the store is ready and the port is bound
    assert line.startswith("crowd ingest on"), (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc


def test_ingest_command_end_to_end(tmp_path):
    port = _free_port()
    proc = _start_ingest(tmp_path / "store", port)
    try:
        (weed,) = _weeds(psutil.Process(proc.pid))
        assert all(c.laddr.ip == "127.0.0.1" for c in weed.net_connections(kind="inet") if c.status == "LISTEN")
        env = {**os.environ, "CROWD_HOME": str(tmp_path / "home")}
        for i in range(3):
            make_recording(tmp_path / "home" / "recordings", f"sess{i}", 2, size=5_000)

        def upload(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([*CROWD, "upload", *args], env=env, capture_output=True, text=True, timeout=120)

        assert upload("config", "--endpoint", f"http://127.0.0.1:{port}/v1/presign", "--token", TOKEN,
                      "--hold", "0").returncode == 0
        assert upload("consent", "grant").returncode == 0
        r = upload("run", "--final", "--wait", "60")
        assert r.returncode == 0, r.stderr
        listed = subprocess.run([*CROWD, "ingest", "--list", "--port", str(port), "--token", TOKEN],
                                capture_output=True, text=True, timeout=60)
        assert listed.returncode == 0, listed.stderr
        keys = [line.split("\t")[0] for line in listed.stdout.splitlines()]
        assert sorted(k.split("/")[3] for k in keys) == ["sess0", "sess1", "sess2"]
        assert (tmp_path / "store" / "s3.json").stat().st_mode & 0o077 == 0
        proc.send_signal(signal.SIGTERM)            # stops the store too
        assert proc.wait(timeout=60) == 0
        assert not weed.is_running() or weed.status() == psutil.STATUS_ZOMBIE
        # SIGKILL: the store goes with it (PR_SET_PDEATHSIG)
        proc = _start_ingest(tmp_path / "store2", _free_port())
        (weed,) = _weeds(psutil.Process(proc.pid))
        proc.kill()
        proc.wait()
        wait_for(lambda: not weed.is_running() or weed.status() == psutil.STATUS_ZOMBIE, timeout=60,
                 what="the store to exit with the killed ingest")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
