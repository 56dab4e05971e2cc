"""Inside the test's namespace (namespace.py): start a two-node Ray cluster (a head and a
second node, one CPU each), optionally the embedded S3 store with the recordings uploaded as
bundles, run one crowd job on the cluster, optionally kill a Ray worker while it runs a task,
and print what happened as one JSON line.

Run only by tests/scale (``python -m tests.scale.driver SPEC.json``); never outside a private
network namespace: Ray would listen on every interface.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

HEAD_PORT = 6390          # a private namespace has no other listeners: a fixed port is free
NODE_TIMEOUT_S = 120.0
TASK_TITLE = "ray::Map("  # Ray's process title while a worker runs one of our map tasks


def ray_bin() -> str:
    return str(Path(sys.executable).parent / "ray")


def start_cluster(temp_dir: str) -> str:
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats", f"--temp-dir={temp_dir}"]
    address = f"127.0.0.1:{HEAD_PORT}"
    # A token of this cluster's own: by default Ray shares ~/.ray/auth_token between every
    # cluster of the user, which another Ray started on this machine rewrites (seen: the
    # second node refused with InvalidAuthToken while a benchmark started its own Ray)
    os.environ.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
                       "RAY_USAGE_STATS_ENABLED": "0"})
    for args in (["--head", f"--port={HEAD_PORT}", "--include-dashboard=false"], [f"--address={address}"]):
        done = subprocess.run([ray_bin(), "start", *args, *common], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"ray start {args[0]} failed ({done.returncode}):\n{done.stdout[-4000:]}\n"
                               f"{done.stderr[-4000:]}")
    import ray

    ray.init(address=address, log_to_driver=False)
    deadline = time.monotonic() + NODE_TIMEOUT_S
    while sum(1 for n in ray.nodes() if n["Alive"]) < 2:   # the second node registers asynchronously
        if time.monotonic() > deadline:
            raise RuntimeError("the second Ray node did not join")
        time.sleep(0.05)
    return address


def upload(sources: list[str], folder: Path) -> tuple[Any, str]:
    """The embedded store with the recordings uploaded as bundles under the keys crowd ingest
    hands out, each session in two bundles (an editor session's segments, then its
    snapshots; a desktop session's first segment, then the rest): a task must gather a
    session from several bundles. Returns (store, s3 URL)."""
    from crowd.transfer.bundle import desktop_candidates, editor_candidate, write_bundle
    from crowd.transfer.seaweed import EmbeddedStore
    from crowd.transfer.store import bundle_key, s3_client

    store = EmbeddedStore(folder / "store", bucket="crowd").start()
    settings = store.settings
    client = s3_client(settings)
    bundles = []
    for src in sources:
        if any(Path(src).glob("recording_*.mp4")):
            for cand in desktop_candidates(Path(src), final=True):
                bundles.append((cand, [cand.files[:2], cand.files[2:]]))
        else:
            cand = editor_candidate(Path(src), final=True)
            bundles.append((cand, [[f for f in cand.files if f.suffix == ".crowd"],
                                   [f for f in cand.files if f.suffix != ".crowd"]]))
    for cand, parts in bundles:
        for n, files in enumerate(p for p in parts if p):
            tar = folder / f"{cand.session_id}-{n}.tar"
            _, sha = write_bundle(tar, cand, files, user_id="alice", bundle_id=f"b{n}")
            client.put_object(Bucket=settings.bucket, Key=bundle_key(settings, "alice", cand.kind, cand.session_id, sha),
                              Body=tar.read_bytes())
    os.environ.update({"CROWD_S3_ENDPOINT": settings.endpoint, "AWS_ACCESS_KEY_ID": settings.access_key,
                       "AWS_SECRET_ACCESS_KEY": settings.secret_key})
    return store, f"s3://{settings.bucket}/{settings.prefix}"


class Killer(threading.Thread):
    """SIGKILLs the first Ray worker seen running one of our tasks (mid-job, by design)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.killed: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for p in psutil.process_iter(["cmdline"]):
                title = " ".join(p.info["cmdline"] or [])
                if title.startswith(TASK_TITLE):
                    try:
                        os.kill(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        continue
                    self.killed.append(title.strip())
                    return
            time.sleep(0.01)   # polling the process table: there is no event for "a task began"


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    work = Path(spec["workdir"])
    store = None
    sources = spec["sources"]
    temp_dir = spec["ray_tmp"]   # made and removed by namespace.py, outside the namespace
    if spec.get("local_ray"):   # the command line's default: it starts a Ray of its own
        os.environ.update({"RAY_USAGE_STATS_ENABLED": "0", "RAY_TMPDIR": temp_dir, "RAY_AUTH_MODE": "token",
                           "RAY_AUTH_TOKEN": secrets.token_hex(32)})   # see start_cluster
        done = subprocess.run([str(Path(sys.executable).parent / "crowd"), "dataset", *sources, "-o", spec["out"],
                               "--kind", "trajectories", "--ray", "local", "--num-cpus", "2"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"crowd dataset failed ({done.returncode}): {done.stderr[-4000:]}")
        print(json.dumps({"stdout": done.stdout}))
        return 0
    t0 = time.monotonic()
    address = start_cluster(temp_dir)
    report: dict[str, Any] = {"cluster_s": round(time.monotonic() - t0, 1)}
    if spec.get("s3"):
        store, url = upload(sources, work)
        sources = [url] if spec["job"] == "dataset" else url
    killer = Killer()
    if spec.get("kill"):
        killer.start()
    t0 = time.monotonic()
    if spec["job"] == "dataset" and spec.get("cli"):   # the command line, as a researcher runs it
        done = subprocess.run([str(Path(sys.executable).parent / "crowd"), "dataset", *sources, "-o", spec["out"],
                               "--ray", address, "--val-fraction", str(spec.get("val_fraction", 0.1))],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"crowd dataset failed ({done.returncode}): {done.stderr[-4000:]}")
        report["stdout"] = done.stdout
    elif spec["job"] == "dataset":
        from crowd.serializer.dataset.sharded import run_dataset

        result = run_dataset(sources, spec["out"], ray_address=address,
                             val_fraction=spec.get("val_fraction", 0.1))
        report["rows"] = result.rows
    elif spec["job"] == "label":
        from crowd.idm.sharded import run_label

        source = sources if isinstance(sources, str) else sources[0]
        labelled = run_label(spec["model"], source, spec["out"], ray_address=address, max_new_tokens=16)
        report.update(keylogs=labelled.keylogs, failed=labelled.failed)
    else:
        from crowd.idm.options import PrepareOptions
        from crowd.idm.sharded import run_prepare

        source = sources if isinstance(sources, str) else sources[0]
        result = run_prepare(source, spec["out"], PrepareOptions(**spec.get("options", {})), ray_address=address)
        report["clips"] = result.clips
    killer.done.set()
    import ray

    report.update(job_s=round(time.monotonic() - t0, 1), killed=killer.killed,
                  nodes=sum(1 for n in ray.nodes() if n["Alive"]))
    ray.shutdown()
    if store is not None:
        store.stop(kill=True)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
