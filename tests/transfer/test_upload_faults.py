"""Uploads into a real S3 store (SeaweedFS) through real faults on loopback: every bundle
arrives exactly once, and nothing is deleted locally before the store confirmed its bytes."""
from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from crowd.transfer.client import Uploader, UploaderConfig
from crowd.transfer.ingest import IngestServer
from crowd.transfer.seaweed import EmbeddedStore
from crowd.transfer.store import StoreSettings, ensure_bucket, s3_client
from tests.transfer.faultproxy import FaultProxy
from tests.transfer.transfer_helpers import TOKEN, check_arrived_once, editor_bundle, stored


def _fast(endpoint: str, **kw) -> UploaderConfig:
    kw = {"concurrency": 3, "backoff_base_s": 0.02, "backoff_max_s": 0.2, "timeout_s": 5.0, **kw}
    return UploaderConfig(endpoint=endpoint, token=TOKEN, **kw)


def _behind_proxy(bucket: StoreSettings) -> tuple[FaultProxy, StoreSettings]:
    """A fault proxy in front of the store; upload URLs name the proxy."""
    proxy = FaultProxy(int(bucket.endpoint.rsplit(":", 1)[1]))
    return proxy, replace(bucket, public_endpoint=f"http://127.0.0.1:{proxy.port}")


def test_every_fault_then_exactly_once(tmp_path, queue, bucket):
    bundles = [editor_bundle(queue, tmp_path / "rec", f"s{i}", segments=2) for i in range(10)]
    sources = {b.id: [Path(s) for s in b.sources] for b in bundles}
    store_proxy, settings = _behind_proxy(bucket)
    ingest = IngestServer(settings, token=TOKEN).start()
    ingest_proxy = FaultProxy(ingest.port)
    ingest_proxy.script(("POST", "refuse"), ("POST", "503"), ("POST", "slow:0.3"))
    store_proxy.script(("PUT", "503"), ("PUT", "drop_put"), ("PUT", "corrupt_put"), ("PUT", "ok_no_echo"),
                       ("PUT", "drop_answer"), ("PUT", "slow:0.3"), ("PUT", "drop_put"), ("PUT", "corrupt_put"),
                       ("PUT", "drop_answer"), ("PUT", "ok_no_echo"))
    premature = []
    in_bucket = lambda: {o["sha256"] for o in stored(bucket)}  # noqa: E731

    def before_delete(bundle):
        # the store must hold the exact bytes before a single local file goes
        if bundle.sha256 not in in_bucket():
            premature.append(bundle.file_name)
        assert all(p.exists() for p in sources[bundle.id])

    up = Uploader(queue, _fast(f"http://127.0.0.1:{ingest_proxy.port}/v1/presign"), rng=random.Random(1),
                  before_delete=before_delete)
    try:
        result = up.run_until_idle(deadline_s=120)
    finally:
        up.stop()
        ingest.stop()
        ingest_proxy.stop()
        store_proxy.stop()
    assert ingest_proxy.pending() == 0 and store_proxy.pending() == 0, "not every scripted fault was exercised"
    assert result["waiting"] == 0 and result["uploaded"] == 10
    # every fault but the slow ones fails its attempt, unless it hit a retry of a bundle the
    # store already holds (a lost answer): that is a 412, which is success
    assert up.failures >= 8
    assert not premature
    check_arrived_once(bucket, bundles)
    for b in bundles:
        assert not b.path.exists()
        assert not any(p.exists() for p in sources[b.id])


def test_a_2xx_without_checksum_echo_keeps_local_data(tmp_path, queue, bucket):
    """Issue 13 item 10: an answer that does not confirm the bytes must not free the disk."""
    b = editor_bundle(queue, tmp_path / "rec", "echo")
    store_proxy, settings = _behind_proxy(bucket)
    ingest = IngestServer(settings, token=TOKEN).start()
    store_proxy.script(*[("PUT", "ok_no_echo")] * 3)
    up = Uploader(queue, _fast(f"{ingest.url}/v1/presign", concurrency=1))
    try:
        for _ in range(3):
            queue.mark_failed(b.id, "test", 0)       # due now, whatever the backoff said
            up.run_until_idle()
        assert store_proxy.pending() == 0
        assert up.uploaded == 0 and b.path.exists() and all(Path(s).exists() for s in b.sources)
        assert "without confirming the checksum" in queue.bundle(b.id).last_error
        queue.mark_failed(b.id, "test", 0)
        assert up.run_until_idle(deadline_s=30)["uploaded"] == 1
    finally:
        up.stop()
        ingest.stop()
        store_proxy.stop()
    check_arrived_once(bucket, [b])


def test_store_restarted_mid_upload(tmp_path, queue):
    """The store is killed while a PUT body is half sent, then started again (same port,
    same data): nothing partial is kept, every bundle ends up in it exactly once."""
    store = EmbeddedStore(tmp_path / "store").start()
    try:
        settings = store.settings
        ensure_bucket(s3_client(settings), settings.bucket)
        bundles = [editor_bundle(queue, tmp_path / "rec", f"r{i}", size=300_000) for i in range(4)]
        store_proxy, public = _behind_proxy(settings)
        ingest = IngestServer(public, token=TOKEN).start()
        store_proxy.script(("PUT", "hold_body"))
        up = Uploader(queue, _fast(f"{ingest.url}/v1/presign", concurrency=1))
        try:
            up.pump()                                   # the first PUT starts...
            assert store_proxy.holding.wait(60)         # ...and is half sent
            store.stop(kill=True)                       # the store crashes mid-body
            store_proxy.release.set()
            r = up.run_until_idle()
            assert r["uploaded"] == 0 and up.failures >= 1
            assert all(b.path.exists() for b in bundles)
            store.start()                               # back on the same port, same data
            r = up.run_until_idle(deadline_s=90)
            assert r["waiting"] == 0 and r["uploaded"] == 4
        finally:
            up.stop()
            ingest.stop()
            store_proxy.stop()
        check_arrived_once(settings, bundles)
    finally:
        store.stop(kill=True)       # a graceful stop takes ~25 s; this data is thrown away


def test_queue_survives_restart_and_resends_nothing_twice(tmp_path, ingest, bucket):
    from crowd.transfer.queue import UploadQueue

    qdir = tmp_path / "q"
    q = UploadQueue(qdir, hold_s=0)
    q.set("consent", "granted")
    bundles = [editor_bundle(q, tmp_path / "rec", f"k{i}") for i in range(4)]
    user = q.user_id()
    # a crash after the store confirmed but before local deletion: done but files present
    up = Uploader(q, _fast(f"{ingest.url}/v1/presign", delete_after_upload=False))
    up.run_until_idle()
    up.stop()
    assert all(b.path.exists() for b in bundles)
    q.close()
    q2 = UploadQueue(qdir)
    assert q2.recovered["finished_deletes"] == 4
    assert q2.user_id() == user and q2.consent
    assert not any(b.path.exists() for b in bundles)
    check_arrived_once(bucket, bundles)
    # a new bundle after the restart goes up once, the old ones are not sent again
    more = editor_bundle(q2, tmp_path / "rec", "late")
    up2 = Uploader(q2, _fast(f"{ingest.url}/v1/presign"))
    up2.run_until_idle()
    up2.stop()
    check_arrived_once(bucket, bundles + [more])
    assert {o["contributor"] for o in stored(bucket)} == {user}


def test_consent_and_pause_gate_uploads(tmp_path, queue, ingest, bucket):
    b = editor_bundle(queue, tmp_path / "rec", "c1")
    queue.set("consent", "revoked")
    up = Uploader(queue, _fast(f"{ingest.url}/v1/presign"))
    assert up.run_until_idle()["uploaded"] == 0
    queue.set("consent", "granted")
    queue.set("paused", "1")
    assert up.run_until_idle()["uploaded"] == 0
    assert stored(bucket) == []
    queue.set("paused", "0")
    assert up.run_until_idle()["uploaded"] == 1
    up.stop()
    check_arrived_once(bucket, [b])


def _call(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes, dict]:
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def test_presigned_urls_the_store_checks(tmp_path, bucket):
    """Auth, limits, content-addressed keys; the store refuses tampered URLs and wrong bytes,
    and a second PUT of the same bundle is a 412 (exactly once)."""
    import hashlib

    tokens = {"alice-token": "alice"}
    server = IngestServer(bucket, token=TOKEN, tokens=tokens, max_bytes=1000).start()
    try:
        data = b"hello bundle"
        ok = {"version": "crowd-2", "userId": "user-1234", "kind": "editor", "sessionId": "s1", "fileName": "a.tar",
              "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "md5": hashlib.md5(data).hexdigest()}

        def post(body, token=TOKEN):
            status, raw, _ = _call("POST", f"{server.url}/v1/presign", json.dumps(body).encode(),
                                   {"Authorization": f"Bearer {token}"})
            return status, json.loads(raw)

        assert post(ok, token="wrong")[0] == 401
        assert post({**ok, "sessionId": "../x"})[0] == 400
        assert post({**ok, "kind": "other"})[0] == 400
        assert post({**ok, "sha256": "00"})[0] == 400
        assert post({**ok, "size": 5000})[0] == 413
        status, answer = post(ok)
        assert status == 200
        assert answer["key"] == f"bundles/user-1234/editor/s1/{ok['sha256']}.tar"
        url, headers = answer["uploadUrl"], answer["headers"]
        assert url.startswith(bucket.endpoint)
        # a contributor's token names the contributor, whatever userId the body claims
        assert post(ok, token="alice-token")[1]["key"].startswith("bundles/alice/")

        assert _call("PUT", url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), data, headers)[0] == 403
        assert _call("PUT", url, data, {k: v for k, v in headers.items() if k != "Content-MD5"})[0] == 403
        assert _call("PUT", url, b"hellO bundle", headers)[0] == 400          # BadDigest: nothing stored
        assert stored(bucket) == []
        status, _, answer_headers = _call("PUT", url, data, headers)
        assert status == 200 and answer_headers["X-Amz-Checksum-Sha256"] == headers["x-amz-checksum-sha256"]
        assert _call("PUT", url, data, headers)[0] == 412                      # already there
        assert _call("PUT", f"{server.url}/v1/put/x", data)[0] == 405          # ingest stores nothing itself

        status, raw, _ = _call("GET", f"{server.url}/v1/list", headers={"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and [(o["key"], o["size"]) for o in json.loads(raw)] == [(answer["key"], len(data))]
        assert _call("GET", f"{server.url}/v1/list", headers={"Authorization": "Bearer alice-token"})[0] == 401
    finally:
        server.stop()
    with pytest.raises(ValueError):
        IngestServer(bucket, token=TOKEN, host="0.0.0.0")
