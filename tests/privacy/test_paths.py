"""Recordings hold no machine-local paths: the workspace's absolute path, the home directory
and the login name in a prompt are rewritten in every event (docs/privacy.md, "Local paths").

The end-to-end test drives the real sidecar subprocess over its JSON-RPC pipe with terminal
data as the editor bridge forwards it, then reads every byte of the recording (zstd frames
decompressed)."""
from __future__ import annotations

import base64
import os
import pwd
from pathlib import Path

from crowd.format import read_recording
from crowd.server.client import SidecarClient
from crowd.privacy import Redactor
from crowd.privacy.local_paths import LocalPathRewriter
from crowd.server.workspace.folders import path_to_uri
from tests.helpers.disk import decoded_everywhere
from tests.helpers.sidecar import start_recording_sidecar


def _screens_recorded(client: SidecarClient, recording: Path, needle: str) -> bool:
    client.request("crowd/flush")
    return any(needle in "\n".join(e.get("lines") or []) for e in read_recording(recording).events
               if e.get("kind") == "terminal_screen")


def test_terminal_paths_never_reach_the_recording(tmp_path: Path) -> None:
    user_home = tmp_path / "home-of-alice"
    ws = user_home / "projects" / "shop"
    (ws / "src").mkdir(parents=True)
    crowd_home = tmp_path / "crowd-home"
    login = pwd.getpwuid(os.getuid()).pw_name
    client = start_recording_sidecar(crowd_home, [ws], env={"HOME": str(user_home)})
    try:
        recording = Path(client.status()["recording"])
        screen = (f"{login}@vm:{ws}# cd {ws}/src\r\n"
                  f"{login}@vm:{ws}/src# ls {user_home}/.cache\r\n"
                  f"ls: cannot access '{user_home}/.cache': No such file\r\n"
                  f"{login}@vm:{ws}/src# DONE\r\n")
        events = [
            {"kind": "terminal_open", "terminal": "t1", "name": f"{login}@vm: {ws}", "rows": 8, "cols": 200},
            {"kind": "terminal_exec_start", "terminal": "t1", "exec": "e1", "command": f"cd {ws}/src",
             "cwd": path_to_uri(ws)},
            {"kind": "terminal_data", "terminal": "t1", "exec": "e1", "data": screen},
            {"kind": "terminal_exec_end", "terminal": "t1", "exec": "e1", "command": f"cd {ws}/src",
             "cwd": path_to_uri(ws), "exitCode": 0},
            # a pasted command arrives as one input chunk
            {"kind": "terminal_input", "terminal": "t1", "encoding": "base64",
             "data": base64.b64encode(f"cd {user_home}/projects\r".encode()).decode()},
        ]
        result = client.events(events, ack=True)
        assert result["rejected"] == 0, result
        client.wait_for(lambda: _screens_recorded(client, recording, "DONE"), 60, "the screen recorded")
        client.request("crowd/flush")
    finally:
        client.close()

    recorded = read_recording(recording).events
    lines = "\n".join("\n".join(e["lines"]) for e in recorded if e.get("kind") == "terminal_screen")
    # the text is rewritten, not dropped
    assert "user@vm:.# cd ./src" in lines, lines
    assert "ls ~/.cache" in lines and "'~/.cache'" in lines, lines
    assert any(e.get("kind") == "terminal_command" and e.get("command") == "cd ./src" for e in recorded)
    assert any(e.get("kind") == "terminal_input" and e.get("data") == "cd ~/projects\r" for e in recorded)
    # no byte on disk holds the workspace's or the home directory's absolute path
    data = b"".join(decoded_everywhere(p.read_bytes()) for p in sorted(recording.rglob("*")) if p.is_file())
    for forbidden in {str(ws), os.path.realpath(ws), str(user_home), os.path.realpath(user_home)}:
        assert forbidden.encode() not in data, forbidden
    assert f"{login}@vm".encode() not in data or login == "user"


def test_rewriter_maps_roots_home_and_login() -> None:
    rw = LocalPathRewriter([("ws", "/srv/alice/ws")], homes=["/home/alice"], users=["alice"])
    assert rw.rewrite("alice@vm:/srv/alice/ws/src$ cd /home/alice/x") == "user@vm:./src$ cd ~/x"
    # not the bare name, not a longer path or a name that merely starts the same
    text = "alice wrote /srv/alice/wsx and /home/alicex and /home/alice.bak malice@x"
    assert rw.rewrite(text) is text
    # end of a sentence is still the path
    assert rw.rewrite("it lives in /home/alice.") == "it lives in ~."
    # several roots: each becomes its recorded name; a root inside home wins over home
    multi = LocalPathRewriter([("api", "/home/alice/api"), ("web", "/opt/web")], homes=["/home/alice"], users=[])
    assert multi.rewrite("/home/alice/api/x.py /opt/web /home/alice/notes") == "api/x.py web ~/notes"


def test_redactor_rewrites_every_string_field_without_notes(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    redactor = Redactor(workspace_roots=[("ws", root)])
    home = os.environ.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir
    event = {"seq": 1, "t": 1, "wall": 1, "type": "observation", "kind": "terminal_screen",
             "terminal": f"bash {root}", "lines": [f"$ cd {root}/src", f"$ ls {home}/x"],
             "nested": {"cells": [f"{root}/a", {"text": f"{home}/b"}]}}
    notes = redactor.scrub_event(event)
    assert notes == []
    assert event["terminal"] == "bash ."
    assert event["lines"] == ["$ cd ./src", "$ ls ~/x"]
    assert event["nested"] == {"cells": ["./a", {"text": "~/b"}]}
    # a string without a needle is left as the same object (the cheap path)
    plain = "def main():\n    return 1\n"
    edit = {"seq": 2, "t": 2, "wall": 2, "type": "action", "kind": "document_change", "file": "src/app.py",
            "changes": [{"offset": 0, "length": 0, "text": plain}]}
    redactor.scrub_event(edit)
    assert edit["changes"][0]["text"] is plain
