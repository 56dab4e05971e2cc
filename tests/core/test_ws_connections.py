"""Several WebSocket clients at once: each gets its own replies (a per-connection protocol).

pygls' ``run_websocket`` shares one protocol object whose writer the newest connection takes
over, so an editor's answers went to whichever client connected last (``crowd term``). Here an
editor client and a second client fire interleaved requests with overlapping ids over a real
``crowd sidecar --ws``; every answer must come back on the connection that asked.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from crowd.server.workspace.folders import path_to_uri


async def _call(ws: Any, inbox: dict[int, dict], msg_id: int, method: str, params: Any = None) -> dict:
    await ws.send(json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}))
    while msg_id not in inbox:
        message = json.loads(await ws.recv())
        if "id" in message and "method" not in message:
            inbox[message["id"]] = message
        else:
            inbox.setdefault(-1, []).append(message)        # notifications
    return inbox[msg_id]


def test_two_websocket_clients_get_their_own_replies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    (ws_dir / "a.txt").write_text("hello\n")
    token_file = home / "sidecar-ws.json"
    proc = subprocess.Popen([sys.executable, "-m", "crowd.server", "--ws", "--token-file", str(token_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "CROWD_HOME": str(home)})
    try:
        json.loads(proc.stdout.readline())
        info = json.loads(token_file.read_text())
        url = f"ws://127.0.0.1:{info['port']}/"
        headers = {"Authorization": f"Bearer {info['token']}"}
        uri = path_to_uri(ws_dir / "a.txt")

        async def scenario() -> tuple[dict, dict]:
            editor_inbox: dict[Any, Any] = {}
            other_inbox: dict[Any, Any] = {}
            async with connect(url, additional_headers=headers) as editor:
                init = await _call(editor, editor_inbox, 1, "initialize", {
                    "processId": os.getpid(), "rootUri": path_to_uri(ws_dir), "capabilities": {},
                    "workspaceFolders": [{"uri": path_to_uri(ws_dir), "name": "ws"}],
                    "initializationOptions": {"consent": True}})
                assert init["result"]["serverInfo"]["name"] == "crowd"
                await editor.send(json.dumps({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
                # the second client connects after the editor: with a shared protocol it would
                # take over the writer from here on
                async with connect(url, additional_headers=headers) as other:
                    second = await _call(other, other_inbox, 1, "initialize", {
                        "processId": None, "rootUri": None, "capabilities": {}})
                    assert second["error"]["code"] == -32600, second     # cannot replace the session
                    refused = await _call(other, other_inbox, 2, "shutdown")
                    assert "error" in refused and refused["error"]["code"] == -32600

                    async def editor_side() -> None:
                        await _call(editor, editor_inbox, 2, "crowd/events", {"events": [
                            {"kind": "document_open", "uri": uri, "text": "hello\n", "languageId": "plaintext",
                             "version": 1}]})
                        for i in range(3, 40):
                            if i % 2:
                                await _call(editor, editor_inbox, i, "crowd/events", {"events": [
                                    {"kind": "document_change", "uri": uri, "version": i,
                                     "changes": [{"offset": 0, "length": 0, "text": "x"}],
                                     "visible": True, "active": True}]})
                            else:
                                await _call(editor, editor_inbox, i, "crowd/status")

                    async def other_side() -> None:
                        for i in range(3, 40):      # the same ids as the editor's, interleaved
                            await _call(other, other_inbox, i, "crowd/status")

                    await asyncio.gather(editor_side(), other_side())
                    await _call(editor, editor_inbox, 100, "crowd/pause")   # a statusChanged for the editor
                    await _call(other, other_inbox, 100, "crowd/status")
            return editor_inbox, other_inbox

        editor_inbox, other_inbox = asyncio.run(asyncio.wait_for(scenario(), 120))
        for i in range(3, 40):
            reply = editor_inbox[i]["result"]
            if i % 2:
                assert reply["accepted"] == 1 and reply["rejected"] == 0, reply
            else:
                assert reply["state"] == "recording"
            assert other_inbox[i]["result"]["state"] in ("recording", "paused")
            assert "accepted" not in other_inbox[i]["result"]
        assert other_inbox[100]["result"]["state"] == "paused"
        assert any(n.get("method") == "crowd/statusChanged" for n in editor_inbox.get(-1, []))
        assert -1 not in other_inbox, f"the second client got the editor's notifications: {other_inbox[-1]}"
        assert proc.poll() is None, "a client that did not initialize cannot shut the sidecar down"
    finally:
        proc.terminate()
        proc.wait(30)
