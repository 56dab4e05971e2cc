"""Panic leaves no byte of its window on disk; recordings never hold absolute paths."""
from __future__ import annotations

import os
import time
from pathlib import Path

from crowd.server.workspace.folders import path_to_uri

from tests.helpers.disk import all_bytes, decoded_everywhere
from tests.helpers.editor_events import edit_texts, insert, marker, open_event, recorded


def test_panic_deletes_the_window_from_disk(start_sidecar, workspace: Path) -> None:
    app = workspace / "src" / "app.py"
    keep, doomed = marker("KEEP"), marker("DOOMED")
    client = start_sidecar([workspace])
    client.events([open_event(app), insert(app, 0, keep + " ", 2)], ack=True)
    client.request("crowd/flush")
    kept_at = time.time()
    client.wait_for(lambda: time.time() - kept_at > 4.0, 10, "the kept text to age")
    sent_at = time.time()
    client.events([insert(app, 0, doomed + " ", 3),
                   {"kind": "viewport", "editors": [{"uri": path_to_uri(app), "visibleRanges": [[0, 5]],
                                                     "selections": [], "active": True}]}], ack=True)
    client.request("crowd/flush")
    directory = Path(client.status()["recording"])
    assert doomed.encode() in decoded_everywhere(all_bytes(directory)), "the doomed text must reach disk first"
    # the window reaches back 2 s before the doomed edit was sent, well after the kept one
    minutes = (time.time() - sent_at + 2.0) / 60
    result = client.request("crowd/panic", {"minutes": minutes})
    assert result["removed"] >= 2
    raw = decoded_everywhere(all_bytes(directory))
    assert doomed.encode() not in raw
    assert keep.encode() in raw
    # re-based: app.py's live text still holds the doomed edit, so it is not recorded again
    # (its next edit, viewport, content); other files are
    assert result["withheldFiles"] == ["src/app.py"]
    readme = workspace / "README.md"
    client.events([insert(app, 0, "AFTER ", 4), open_event(readme), insert(readme, 0, "OTHER ", 2),
                   {"kind": "viewport", "editors": [{"uri": path_to_uri(app), "visibleRanges": [[0, 5]],
                                                     "selections": [], "active": True}]}], ack=True)
    client.request("crowd/stop")
    raw = decoded_everywhere(all_bytes(directory))
    assert doomed.encode() not in raw
    events = recorded(directory)
    assert edit_texts(events) == [keep + " ", "OTHER "]
    panic = [e for e in events if e["kind"] == "panic"]
    assert panic and panic[0]["removed"] == result["removed"]


def test_default_panic_keeps_only_the_header(start_sidecar, workspace: Path) -> None:
    app = workspace / "src" / "app.py"
    secret = marker("GONE")
    client = start_sidecar([workspace])
    client.events([open_event(app), insert(app, 0, secret, 2)], ack=True)
    client.request("crowd/flush")
    client.request("crowd/panic", {})
    directory = Path(client.request("crowd/stop")["recording"])
    assert secret.encode() not in decoded_everywhere(all_bytes(directory))
    kinds = [e["kind"] for e in recorded(directory)]
    assert kinds == ["start", "consent", "panic", "stop"]


def test_no_absolute_path_or_home_in_any_byte(start_sidecar, tmp_path: Path) -> None:
    user = marker("alice")
    home = tmp_path / "home" / user
    api, web = home / "projects" / "api", home / "projects" / "web"
    for root in (api, web):
        (root / "src").mkdir(parents=True)
        (root / "src" / "main.py").write_text(f"# {root.name}\n")
    outside = tmp_path / "outside.py"
    outside.write_text("print('outside')\n")
    client = start_sidecar([api, web], env={"HOME": str(home)},
                           settings={"recordingsDir": str(home / "recs"), "exclude": [str(home)]})
    a, w = api / "src" / "main.py", web / "src" / "main.py"
    client.events([
        open_event(a), open_event(w), open_event(outside),
        insert(a, 0, "x", 2), insert(outside, 0, "y", 2),
        {"kind": "active_editor", "uri": path_to_uri(w), "previous": path_to_uri(outside)},
        {"kind": "file_op", "op": "rename", "files": [{"oldUri": path_to_uri(a), "newUri": path_to_uri(outside)}]},
        {"kind": "file_op", "op": "create", "files": [{"uri": path_to_uri(home / "notes.txt")}]},
        {"kind": "viewport", "editors": [{"uri": path_to_uri(w), "visibleRanges": [[0, 3]], "active": True},
                                         {"uri": path_to_uri(outside), "visibleRanges": [[0, 3]]}]},
    ], ack=True)
    directory = Path(client.request("crowd/stop")["recording"])
    raw = decoded_everywhere(all_bytes(directory))
    for needle in (user, str(tmp_path), str(home), "file://", os.path.expanduser("~")):
        assert needle.encode() not in raw, needle
    events = recorded(directory)
    files = {e["file"] for e in events if isinstance(e.get("file"), str)}
    assert files == {"api/src/main.py", "web/src/main.py"}
    rename = [e for e in events if e["kind"] == "file_change"]
    assert rename == [] or all(e["old_file"] == "api/src/main.py" and e["file"] is None for e in rename)
