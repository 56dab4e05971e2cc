"""Run a driver inside a private network and PID namespace, with a real two-node Ray cluster.

Why a namespace: on these machines ``ray start`` listens on every interface even when told
127.0.0.1 (reference/scale.md); inside ``unshare -n`` the only interface is a loopback we
bring up, so no test traffic can leave the machine. The PID namespace (``-p -f
--mount-proc``) makes cleanup exact: when the namespace's first process ends, the kernel
kills every Ray process started in it, and ``psutil`` inside sees only those processes
(the fault test kills one of them, never anyone else's Ray).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest

UNSHARE = ["unshare", "-n", "-p", "-f", "--mount-proc"]


@lru_cache(maxsize=1)
def namespace_unavailable() -> str | None:
    """Why a private namespace cannot be made here, or None."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare/ip not installed (util-linux, iproute2)"
    probe = subprocess.run([*UNSHARE, "bash", "-c", "ip link set lo up"], capture_output=True, text=True,
                           timeout=60)
    if probe.returncode != 0:
        return f"cannot create a private network namespace: {probe.stderr.strip()[:200]}"
    return None


def run_driver(spec: dict, workdir: Path, timeout_s: float = 240) -> dict:
    """``python -m tests.scale.driver SPEC`` inside the namespace; its last stdout line is JSON."""
    reason = namespace_unavailable()
    if reason:
        pytest.skip(reason)
    # Ray's session folder: short (its socket paths live in it), and removed only once the
    # namespace is gone, so no Ray process still writes into it
    ray_tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    spec_path = workdir / "spec.json"
    spec_path.write_text(json.dumps({**spec, "ray_tmp": ray_tmp}))
    repo = Path(__file__).resolve().parents[2]
    script = f"ip link set lo up && {sys.executable} -m tests.scale.driver {spec_path}"
    try:
        proc = subprocess.run([*UNSHARE, "bash", "-c", script], capture_output=True, text=True, cwd=repo,
                              timeout=timeout_s)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    if proc.returncode != 0:
        raise AssertionError(f"driver failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
