"""The network surface of uploading (issue 13 item 10), each observed fault kept fixed:
``--token-file`` chmodded its parent folder, ``Content-Length: -1`` left an empty object
that refused the real upload forever, slow clients held a thread each without limit, the
presign body was read without bound. (A 2xx without checksum echo: test_upload_faults.py.)
All against real processes: the ingest server, the S3 store, raw sockets."""
from __future__ import annotations

import hashlib
import json
import socket
import stat
import time
import urllib.parse

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crowd.server.ws import write_token_file
from crowd.transfer.client import Uploader, UploaderConfig
from crowd.transfer.ingest import IngestServer
from tests.helpers.waiting import wait_for
from tests.transfer.transfer_helpers import TOKEN, check_arrived_once, editor_bundle


def _raw(port: int, data: bytes, *, timeout: float = 10.0) -> bytes:
    """Send ``data`` on a fresh connection; everything answered until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def _presign_head(length: str, token: str = TOKEN) -> bytes:
    return (f"POST /v1/presign HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode()


def test_token_file_leaves_a_shared_parent_folder_alone(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    write_token_file(shared / "tok.json", 1234, "secret")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert stat.S_IMODE((shared / "tok.json").stat().st_mode) == 0o600
    assert json.loads((shared / "tok.json").read_text())["port"] == 1234
    fresh = tmp_path / "made" / "here"
    write_token_file(fresh / "tok.json", 1, "t")                    # a folder made for it is private
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700


def test_presign_body_is_bounded_and_checked(ingest):
    t0 = time.monotonic()
    for length, status in (("-1", b"400"), ("abc", b"400"), ("99999999999999", b"413"), ("70000", b"413"),
                           (" 1e3", b"400")):
        answer = _raw(ingest.port, _presign_head(length))       # no body sent: answered from the head
        assert answer.split(b" ", 2)[1] == status, (length, answer[:200])
    answer = _raw(ingest.port, b"POST /v1/presign HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + TOKEN.encode() + b"\r\n\r\n")
    assert answer.split(b" ", 2)[1] == b"411"
    assert time.monotonic() - t0 < 5
    body = json.dumps({"userId": "u-1234", "kind": "editor", "sessionId": "s", "size": 1,
                       "sha256": "0" * 64, "md5": "0" * 32}).encode()
    answer = _raw(ingest.port, _presign_head(str(len(body))) + body)
    assert answer.split(b" ", 2)[1] == b"200"                      # the server still serves


def test_content_length_minus_one_then_the_real_upload(tmp_path, queue, ingest, bucket):
    """A PUT with ``Content-Length: -1`` on the presigned URL stores nothing, and the real
    upload of the same bundle afterwards succeeds (it used to get 409 forever)."""
    b = editor_bundle(queue, tmp_path / "rec", "neg")
    data = b.path.read_bytes()
    req = {"userId": queue.user_id(), "kind": "editor", "sessionId": b.session_id, "size": b.size,
           "sha256": b.sha256, "md5": hashlib.md5(data).hexdigest()}
    body = json.dumps(req).encode()
    answer = _raw(ingest.port, _presign_head(str(len(body))) + body)
    presigned = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    url = urllib.parse.urlsplit(presigned["uploadUrl"])
    head = f"PUT {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Length: -1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in presigned["headers"].items()) + "Connection: close\r\n\r\n"
    answer = _raw(url.port, head.encode())
    assert answer.split(b" ", 2)[1] == b"400"
    up = Uploader(queue, UploaderConfig(endpoint=f"{ingest.url}/v1/presign", token=TOKEN))
    try:
        assert up.run_until_idle()["uploaded"] == 1
    finally:
        up.stop()
    check_arrived_once(bucket, [b])


def test_slow_clients_cannot_hold_every_thread(bucket):
    server = IngestServer(bucket, token=TOKEN, max_connections=4, request_timeout_s=1.0).start()
    stalled = []
    try:
        for i in range(4):   # each sends half a request and then nothing
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(_presign_head("100")[: 20 + i] if i % 2 else _presign_head("100") + b'{"user')
            stalled.append(s)
        wait_for(lambda: _raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 503"),
                 what="the fifth connection answered 503 at once")
        # the stalled ones lose their thread after the socket timeout: the server serves again
        wait_for(lambda: b" 200 " in _raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")[:20],
                 timeout=20, what="the server serving again after the stalled clients timed out")
        for s in stalled:    # and they were closed by the server, not left hanging
            s.settimeout(10)
            try:
                while s.recv(65536):
                    pass
            except ConnectionResetError:
                pass
    finally:
        for s in stalled:
            s.close()
        server.stop()


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                     max_leaves=12)
_FIELDS = st.fixed_dictionaries({}, optional={
    "userId": _JSON | st.sampled_from(["u-1234", "../x", "a" * 200, "alice"]),
    "kind": _JSON | st.sampled_from(["editor", "desktop"]),
    "sessionId": _JSON | st.sampled_from(["s1", "a/b", ".hidden", "\ud800"]),
    "size": _JSON | st.integers(min_value=-2, max_value=2**70),
    "sha256": _JSON | st.sampled_from(["0" * 64, "F" * 64, "0" * 63]),
    "md5": _JSON | st.sampled_from(["0" * 32, "z" * 32]),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_FIELDS | _JSON, raw=st.none() | st.binary(max_size=200))
def test_any_presign_body_gets_a_clear_answer(ingest, body, raw):
    """Whatever a client sends, the answer is 200 (a well-formed request) or 4xx with a JSON
    error, never a 5xx or a dropped connection, and only well-formed requests get a URL."""
    data = raw if raw is not None else json.dumps(body).encode("utf-8", "surrogatepass")
    answer = _raw(ingest.port, _presign_head(str(len(data))) + data)
    status = int(answer.split(b" ", 2)[1])
    payload = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert status == 200 or 400 <= status < 500, (status, payload)
    if status == 200:
        assert isinstance(body, dict) and raw is None
        assert body["kind"] in ("editor", "desktop") and 0 <= body["size"] <= ingest.max_bytes
        assert payload["key"] == f"bundles/{body['userId']}/{body['kind']}/{body['sessionId']}/{body['sha256']}.tar"
    else:
        assert isinstance(payload["error"], str)
