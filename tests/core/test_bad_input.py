"""Bad input, each case: a clear logged error, and recording goes on (through a real pipe)."""
from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

import pytest

from crowd.server.client import RpcError, SidecarClient
from crowd.server.workspace.folders import path_to_uri

from tests.helpers.editor_events import edit_texts, insert, open_event, recorded


def _still_recording(client: SidecarClient, app: Path, text: str, version: int) -> None:
    ack = client.events([insert(app, 0, text, version)], ack=True)
    assert ack["recorded"] == 1, ack


def test_malformed_jsonrpc(start_sidecar, workspace: Path) -> None:
    app = workspace / "src" / "app.py"
    client = start_sidecar([workspace])
    client.events([open_event(app)], ack=True)
    for body in (b"{not json", b"[1, 2, 3]", b'{"jsonrpc": "2.0"}', b'{"jsonrpc": "2.0", "id": 7}', b'"text"'):
        client.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    client.send_raw(b"this is no header at all\r\n")
    line = client.wait_for_log("protocol error")
    assert "JSONDecodeError" in line or "protocol error" in line
    _still_recording(client, app, "OK1", 2)
    events = recorded(client.request("crowd/stop")["recording"])
    assert "OK1" in edit_texts(events)
    assert any(e["kind"] == "error" and "JSONDecodeError" in e["message"] for e in events)


def test_unknown_methods(start_sidecar, workspace: Path) -> None:
    app = workspace / "src" / "app.py"
    client = start_sidecar([workspace])
    with pytest.raises(RpcError) as err:
        client.request("crowd/doesNotExist", {})
    assert err.value.code == -32601
    client.notify("crowd/noSuchNotification", {"x": 1})
    client.wait_for_log("crowd/noSuchNotification")
    with pytest.raises(RpcError) as err:
        client.request("crowd/panic", {"minutes": "ten"})
    assert err.value.code == -32602
    with pytest.raises(RpcError):
        client.request("crowd/consent", {"granted": "yes"})
    client.events([open_event(app)], ack=True)
    _still_recording(client, app, "OK2", 2)


def test_bad_events_out_of_range_and_surrogates(start_sidecar, workspace: Path) -> None:
    app = workspace / "src" / "app.py"
    uri = path_to_uri(app)
    client = start_sidecar([workspace])
    size = len(app.read_text())
    ack = client.events([
        open_event(app),
        {"kind": "document_change", "uri": uri, "version": 2, "changes": [{"offset": size + 50, "length": 0, "text": "X"}]},
        {"kind": "document_change", "uri": uri, "version": 3, "changes": [{"offset": 0, "length": -4, "text": "X"}]},
        {"kind": "document_change", "uri": path_to_uri(workspace / "never-opened.py"), "version": 1,
         "changes": [{"offset": 0, "length": 0, "text": "X"}]},
        {"kind": "selection", "uri": uri, "selections": [{"anchor": "a"}]},
        {"kind": "no_such_kind"}, "not an object", {"kind": "viewport", "editors": "nope"},
    ], ack=True)
    assert ack["accepted"] == 1 and ack["rejected"] == 7
    assert any("past the end" in e for e in ack["errors"])
    client.wait_for_log("past the end of the document")
    # the document is out of sync now: reopening it resynchronises, then recording goes on
    client.events([open_event(app, version=4)], ack=True)
    # a lone surrogate, as a buggy client would send it (JSON "\ud800")
    body = json.dumps({"jsonrpc": "2.0", "id": 99, "method": "crowd/events", "params": {"events": [
        insert(app, 0, "A\ud800B", 5)]}})
    assert "\\ud800" in body
    client.send_raw(b"Content-Length: %d\r\n\r\n" % len(body.encode()) + body.encode())
    client.wait_for_log("lone UTF-16 surrogates")
    _still_recording(client, app, "OK3", 6)
    events = recorded(client.request("crowd/stop")["recording"])
    texts = edit_texts(events)
    assert "A\ufffdB" in texts and "OK3" in texts and "X" not in texts
    errors = [e["message"] for e in events if e["kind"] == "error"]
    assert any("past the end" in m for m in errors) and any("surrogates" in m for m in errors)


def _hazardous_workspace(root: Path) -> None:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('ok')\n")
    with open(root / "huge.txt", "wb") as fh:      # 50 MB (sparse: reads as zeros, size is what matters)
        fh.truncate(50 * 1024 * 1024)
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    (root / "controls.dat").write_bytes(bytes([1, 2, 3, 4, 5, 6, 7, 8, 11, 14]) * 500)  # binary without NUL
    (root / "latin1.txt").write_bytes("caf\xe9 cr\xe8me\n".encode("latin-1"))
    os.symlink(".", root / "loop")                   # directory symlink loop
    os.symlink("b-link", root / "a-link")            # file symlink loop
    os.symlink("a-link", root / "b-link")
    os.mkfifo(root / "pipe.fifo")                    # a FIFO: opening it for reading would block
    with open(os.path.join(os.fsencode(root), b"bad-\xff\xfe-name.txt"), "wb") as fh:
        fh.write(b"non-UTF-8 file name\n")


def test_workspace_hazards(start_sidecar, tmp_path: Path) -> None:
    root = tmp_path / "hazards"
    _hazardous_workspace(root)
    client = start_sidecar([root])
    client.wait_for(lambda: client.status()["workspace"]["done"], 60, "the initial scan")
    scan = client.status()["workspace"]
    assert scan["files"] == 1, scan                 # only src/app.py is cacheable text
    skipped = scan["skipped"]
    assert skipped.get("too big") == 1 and skipped.get("binary") == 2 and skipped.get("not UTF-8 text") == 1
    assert skipped.get("not a regular file") == 1 and skipped.get("non-UTF-8 name") == 1
    client.wait_for_log("huge.txt: too big (52,428,800 bytes > limit 1,048,576)")
    client.wait_for_log("not following loop: symlink loop")
    client.wait_for_log("broken or looping symlink a-link")
    client.wait_for_log("name is not valid UTF-8")
    client.wait_for_log("pipe.fifo: not a regular file")
    app = root / "src" / "app.py"
    client.events([open_event(app)], ack=True)
    _still_recording(client, app, "OK4", 2)
    events = recorded(client.request("crowd/stop")["recording"])
    assert "OK4" in edit_texts(events)


# Run as root, the sidecar drops to ``nobody`` itself once its modules are imported (the
# interpreter lives under /root, which nobody cannot even traverse, so exec as nobody fails).
_DROP_PRIVILEGES = """
import os, sys, pwd, asyncio, shutil, concurrent.futures.thread, selectors, json, signal
import encodings.idna, logging.handlers
from crowd.server.app import build_server, serve_stdio, setup_logging
from crowd.server.session import _make_redactor
import crowd.server.ws, crowd.server.workspace, crowd.format
setup_logging("INFO")
server = build_server()
_make_redactor({})
asyncio.new_event_loop().close()
user = pwd.getpwnam("nobody")
os.setgroups([]); os.setgid(user.pw_gid); os.setuid(user.pw_uid)
assert os.geteuid() == user.pw_uid
serve_stdio(server)
"""


@pytest.mark.skipif(not hasattr(os, "setuid"), reason="needs POSIX users")
def test_unreadable_file(start_sidecar) -> None:
    """A file the sidecar's user cannot read. As root every mode bit is bypassed, so the
    sidecar drops privileges to ``nobody`` (setuid in the child, after imports) and the file
    is owned by root with mode 0600; not as root, a 0000 file is unreadable already."""
    base = Path(tempfile.mkdtemp(prefix="crowd-unreadable-"))
    try:
        os.chmod(base, 0o777)
        root, home = base / "ws", base / "home"
        (root / "src").mkdir(parents=True)
        home.mkdir()
        os.chmod(home, 0o777)
        for d in (root, root / "src"):
            os.chmod(d, 0o755)
        app = root / "src" / "app.py"
        app.write_text("print('readable')\n")
        os.chmod(app, 0o644)
        secret = root / "src" / "locked.py"
        secret.write_text("LOCKED_CONTENT = 1\n")
        os.chmod(secret, 0o600 if os.geteuid() == 0 else 0o000)
        extra = {"command": [sys.executable, "-c", _DROP_PRIVILEGES]} if os.geteuid() == 0 else {}
        client = SidecarClient(env={"CROWD_HOME": str(home), "HOME": str(home)}, **extra)
        try:
            client.initialize([root], consent=True)
            client.wait_for(lambda: client.status()["workspace"]["done"], 60, "the initial scan")
            client.wait_for_log("cannot read src/locked.py: Permission denied")
            assert client.status()["workspace"]["files"] == 1
            client.events([open_event(app)], ack=True)
            _still_recording(client, app, "OK5", 2)
            directory = client.request("crowd/stop")["recording"]
        finally:
            client.close()
        assert "OK5" in edit_texts(recorded(directory))
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    finally:
        shutil.rmtree(base, ignore_errors=True)
