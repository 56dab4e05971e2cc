"""``crowd term`` streams to a running sidecar over its loopback WebSocket (token file),
and the sidecar's terminal component records the screens, input and commands."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from crowd.format import read_recording
from crowd.server.workspace.folders import path_to_uri
from tests.terminal.term_oracle import PtyProgram


def _rpc(ws, msg_id: int, method: str, params: dict) -> dict:
    ws.send(json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}))
    while True:
        reply = json.loads(ws.recv(timeout=30))
        if reply.get("id") == msg_id:
            return reply


def _closed_on_disk(home: Path) -> bool:
    root = home / "recordings"
    for rec in root.iterdir() if root.is_dir() else []:
        if any(e["kind"] == "terminal_close" for e in read_recording(rec).events):
            return True
    return False


def test_crowd_term_streams_into_the_sidecar_recording(tmp_path: Path) -> None:
    from websockets.sync.client import connect

    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    home = tmp_path / "home"
    token_file = home / "sidecar-ws.json"
    env = dict(os.environ, CROWD_HOME=str(home), HOME=str(tmp_path))
    sidecar = subprocess.Popen([sys.executable, "-m", "crowd.server", "--ws", "--token-file", str(token_file)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        ready = json.loads(sidecar.stdout.readline())     # {"port": ..., "tokenFile": ...}
        info = json.loads(token_file.read_text())
        assert ready["port"] == info["port"]
        headers = {"Authorization": f"Bearer {info['token']}"}
        try:
            editor = connect(f"ws://127.0.0.1:{info['port']}/", additional_headers=headers, legacy=True)
        except TypeError:      # websockets < 15
            editor = connect(f"ws://127.0.0.1:{info['port']}/", additional_headers=headers)
        _rpc(editor, 1, "initialize", {
            "processId": os.getpid(), "rootUri": path_to_uri(ws_dir), "capabilities": {},
            "workspaceFolders": [{"uri": path_to_uri(ws_dir), "name": "ws"}],
            "initializationOptions": {"consent": True, "settings": {}, "client": {"name": "test", "version": "1"}}})
        editor.send(json.dumps({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        deadline = time.monotonic() + 30
        while _rpc(editor, 2, "crowd/status", {})["result"]["state"] != "recording":
            assert time.monotonic() < deadline

        announce = tmp_path / "announce.txt"
        prog = PtyProgram([sys.executable, "-m", "crowd.cli", "term", "--sidecar-token-file", str(token_file),
                           "--announce", str(announce), "--", sys.executable, "-c",
                           "import sys; print('streamed to the sidecar'); sys.stdin.readline(); print('bye')"],
                          env={"CROWD_HOME": str(home), "HOME": str(tmp_path)}, cwd=str(ws_dir))
        prog.expect("streamed to the sidecar")
        prog.type("ok\r")
        prog.expect("bye")
        assert prog.wait_exit() == 0
        assert announce.read_text() == "sidecar"
        # The sidecar handles the last messages asynchronously: wait until the terminal's
        # close is on disk (the writer flushes every 0.2 s) before stopping it.
        deadline = time.monotonic() + 30
        while not _closed_on_disk(home):
            assert time.monotonic() < deadline, "terminal_close never reached the recording"
            time.sleep(0.1)
        editor.close()
    finally:
        os.killpg(sidecar.pid, signal.SIGTERM)      # the session stops and flushes
        sidecar.wait(timeout=30)
    recordings = [p for p in (home / "recordings").iterdir() if p.is_dir()]
    assert len(recordings) == 1, "crowd term wrote into the sidecar's recording, not its own"
    events = read_recording(recordings[0]).events
    screens = [e for e in events if e["kind"] == "terminal_screen"]
    assert any("streamed to the sidecar" in "\n".join(s["lines"]) for s in screens)
    assert any("bye" in "\n".join(s["lines"]) for s in screens)
    typed = "".join(e.get("data") or "" for e in events if e["kind"] == "terminal_input")
    assert "ok" in typed
    assert any(e["kind"] == "terminal_close" for e in events)
