"""Uploads through real faults on loopback: every bundle arrives exactly once, and nothing is
deleted locally before the server confirmed it."""
from __future__ import annotations

import hashlib
import json
import random
import tarfile
import time
import urllib.request
from pathlib import Path

from tests.transfer.transfer_helpers import TOKEN, editor_bundle
from tests.transfer.faultproxy import FaultProxy

from crowd.transfer.client import Uploader, UploaderConfig
from crowd.transfer.ingest import IngestServer


def _fast(endpoint: str, **kw) -> UploaderConfig:
    return UploaderConfig(endpoint=endpoint, token=TOKEN, concurrency=3, backoff_base_s=0.02,
                          backoff_max_s=0.2, timeout_s=kw.pop("timeout_s", 5.0), **kw)


def _listing(server_root: Path) -> list[dict]:
    index = server_root / "index.jsonl"
    return [json.loads(l) for l in index.read_text().splitlines()] if index.exists() else []


def _check_arrived_once(server_root: Path, bundles) -> None:
    entries = _listing(server_root)
    names = [e["fileName"] for e in entries]
    assert len(names) == len(set(names)), f"a bundle arrived twice: {names}"
    assert sorted(names) == sorted(b.file_name for b in bundles)
    for b in bundles:
        stored = next(server_root.glob(f"*/{b.file_name}"))
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == b.sha256
        with tarfile.open(stored) as tar:   # the bundle is a readable tar with its manifest
            assert any(m.name.endswith("manifest.json") for m in tar.getmembers())


def test_every_fault_then_exactly_once(tmp_path, queue, ingest):
    bundles = [editor_bundle(queue, tmp_path / "rec", f"s{i}", segments=2) for i in range(10)]
    sources = {b.id: [Path(s) for s in b.sources] for b in bundles}
    proxy = FaultProxy(ingest.port)
    proxy.script(("POST", "refuse"), ("POST", "503"), ("PUT", "503"), ("PUT", "drop_put"),
                 ("PUT", "corrupt_put"), ("POST", "slow:0.3"), ("PUT", "slow:0.3"),
                 ("PUT", "drop_put"), ("PUT", "corrupt_put"))
    server_root = ingest.store.root
    premature = []

    def before_delete(bundle):
        # the server must hold the exact bytes before a single local file goes
        stored = list(server_root.glob(f"*/{bundle.file_name}"))
        if not stored or hashlib.sha256(stored[0].read_bytes()).hexdigest() != bundle.sha256:
            premature.append(bundle.file_name)
        assert all(p.exists() for p in sources[bundle.id])

    up = Uploader(queue, _fast(f"http://127.0.0.1:{proxy.port}/v1/presign"), rng=random.Random(1),
                  before_delete=before_delete)
    try:
        result = up.run_until_idle(deadline_s=120)
    finally:
        up.stop()
        proxy.stop()
    assert proxy.pending() == 0, "not every scripted fault was exercised"
    assert result["waiting"] == 0 and result["uploaded"] == 10
    assert up.failures >= 7
    assert not premature
    _check_arrived_once(server_root, bundles)
    for b in bundles:
        assert not b.path.exists()
        assert not any(p.exists() for p in sources[b.id])


def test_refused_then_server_restart(tmp_path, queue):
    """Nothing listens at first; then the server comes up, goes down mid-run and back."""
    root = tmp_path / "ingest"
    bundles = [editor_bundle(queue, tmp_path / "rec", f"r{i}") for i in range(6)]
    first = IngestServer(root, token=TOKEN).start()
    port = first.port
    first.stop()                          # now the port refuses connections
    up = Uploader(queue, _fast(f"http://127.0.0.1:{port}/v1/presign"), rng=random.Random(2))
    try:
        r = up.run_until_idle()
        assert r["uploaded"] == 0 and up.failures >= 1
        server = IngestServer(root, token=TOKEN, port=port).start()
        proxy = FaultProxy(server.port)
        # a restart in the middle: stop after the first arrivals, start again on the same port
        up.config.endpoint = f"http://127.0.0.1:{proxy.port}/v1/presign"
        up.config.concurrency = 1
        proxy.script(("PUT", "slow:0.2"))
        deadline = time.monotonic() + 60
        while len(_listing(root)) < 1 and time.monotonic() < deadline:
            up.pump()   # keep scheduling: earlier failures left short backoffs
            up._wake.wait(0.05)
        assert _listing(root), "no upload arrived while the server was up"
        server.stop()
        failures_before = up.failures
        up.run_until_idle()
        assert up.failures > failures_before   # uploads failed while it was down
        server = IngestServer(root, token=TOKEN, port=port).start()
        r = up.run_until_idle(deadline_s=60)
        server.stop()
        proxy.stop()
    finally:
        up.stop()
    assert r["waiting"] == 0
    _check_arrived_once(root, bundles)


def test_queue_survives_restart_and_resends_nothing_twice(tmp_path, ingest):
    from crowd.transfer.queue import UploadQueue

    qdir = tmp_path / "q"
    q = UploadQueue(qdir, hold_s=0)
    q.set("consent", "granted")
    bundles = [editor_bundle(q, tmp_path / "rec", f"k{i}") for i in range(4)]
    user = q.user_id()
    # a crash after the server confirmed but before local deletion: done but files present
    up = Uploader(q, _fast(f"{ingest.url}/v1/presign", delete_after_upload=False))
    up.run_until_idle()
    up.stop()
    assert all(b.path.exists() for b in bundles)
    q.close()
    q2 = UploadQueue(qdir)
    assert q2.recovered["finished_deletes"] == 4
    assert q2.user_id() == user and q2.consent
    assert not any(b.path.exists() for b in bundles)
    _check_arrived_once(ingest.store.root, bundles)
    # a new bundle after the restart goes up once, the old ones are not sent again
    more = editor_bundle(q2, tmp_path / "rec", "late")
    up2 = Uploader(q2, _fast(f"{ingest.url}/v1/presign"))
    up2.run_until_idle()
    up2.stop()
    _check_arrived_once(ingest.store.root, bundles + [more])


def test_consent_and_pause_gate_uploads(tmp_path, queue, ingest):
    b = editor_bundle(queue, tmp_path / "rec", "c1")
    queue.set("consent", "revoked")
    up = Uploader(queue, _fast(f"{ingest.url}/v1/presign"))
    assert up.run_until_idle()["uploaded"] == 0
    queue.set("consent", "granted")
    queue.set("paused", "1")
    assert up.run_until_idle()["uploaded"] == 0
    assert _listing(ingest.store.root) == []
    queue.set("paused", "0")
    assert up.run_until_idle()["uploaded"] == 1
    up.stop()
    _check_arrived_once(ingest.store.root, [b])


def test_ingest_auth_limits_and_listing(tmp_path):
    server = IngestServer(tmp_path / "in", token=TOKEN, max_bytes=1000).start()
    try:
        def post(body, token=TOKEN):
            req = urllib.request.Request(f"{server.url}/v1/presign", data=json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {token}"}, method="POST")
            try:
                with urllib.request.urlopen(req) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())

        ok = {"fileName": "a.tar", "version": "crowd-1", "userId": "user-1234"}
        assert post(ok, token="wrong")[0] == 401
        assert post({**ok, "fileName": "../x"})[0] == 400
        assert post({**ok, "size": 5000})[0] == 413
        status, answer = post(ok)
        assert status == 200
        url = answer["uploadUrl"]

        def put(u, data):
            req = urllib.request.Request(u, data=data, method="PUT")
            try:
                with urllib.request.urlopen(req) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code

        assert put(url.replace("sig=", "sig=0"), b"x") == 403
        assert put(url, b"y" * 2000) == 413
        assert put(url, b"hello") == 201
        assert put(url, b"hello") == 200         # idempotent retry
        assert put(url, b"other") == 409
        req = urllib.request.Request(f"{server.url}/v1/list", headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(req) as r:
            listing = json.loads(r.read())
        assert [(e["userId"], e["fileName"], e["size"]) for e in listing] == [("user-1234", "a.tar", 5)]
    finally:
        server.stop()
    import pytest
    with pytest.raises(ValueError):
        IngestServer(tmp_path / "x", token=TOKEN, host="0.0.0.0")
