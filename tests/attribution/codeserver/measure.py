"""Measure, in a real code-server with the real bridge, the delay between a file-system event
and the editor event that follows it (or precedes it), and write the envelopes the scenario
harness draws its delays from (tests/attribution/envelopes.json).

    .venv/bin/python -m tests.attribution.codeserver.measure [--runs N] [--out PATH]

Times: an outside write is stamped by this process right after it returns (wall clock, ms);
a write the editor makes itself (save, explorer rename/delete) is stamped by an inotify
observer in this process; editor events are stamped by the sidecar when it receives them
(the recording's ``wall``). Same machine, same clock.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.attribution.codeserver.editor import EditorSession, missing_preconditions
from tests.attribution.harness import git

ENVELOPES = Path(__file__).resolve().parents[1] / "envelopes.json"


def workspace(base: Path) -> Path:
    ws = base / "ws"
    (ws / "pkg" / "sub").mkdir(parents=True)
    files = {"a.py": "x = 1\n", "b.py": "y = 2\n", "c.txt": "plain\n", "trim.txt": "keep\n",
             "pkg/one.py": "one = 1\n", "pkg/two.py": "two = 2\n", "pkg/sub/three.py": "three = 3\n"}
    for rel, text in files.items():
        (ws / rel).write_text(text)
    git(ws, "init", "-q")
    git(ws, "add", ".")
    git(ws, "commit", "-qm", "init")
    git(ws, "checkout", "-qb", "other")
    (ws / "a.py").write_text("x = 'other'\n")
    (ws / "b.py").write_text("y = 'other'\n")
    git(ws, "commit", "-qam", "other")
    git(ws, "checkout", "-q", "main")
    return ws


class FsClock:
    """wall ms of the first inotify event per path seen since ``mark`` (this process)."""

    def __init__(self, root: Path) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        self.seen: list[tuple[float, str, str]] = []
        clock = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if "/.git" not in event.src_path:
                    clock.seen.append((time.time() * 1000, event.event_type, event.src_path))

        self.observer = Observer()
        self.observer.schedule(Handler(), str(root), recursive=True)
        self.observer.start()

    def first(self, since: float, contains: str, kinds: tuple[str, ...]) -> float | None:
        for wall, kind, path in self.seen:
            if wall >= since and contains in path and kind in kinds:
                return wall
        return None

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(5)


def _new(events: list[dict[str, Any]], since: float, kind: str, file: str, **match: Any) -> list[dict[str, Any]]:
    return [e for e in events if e.get("kind") == kind and e.get("file") == file and e["wall"] >= since
            and all(e.get(k) == v for k, v in match.items())]


def measure(runs: int, base: Path) -> dict[str, Any]:
    ws = workspace(base)
    fs = FsClock(ws)
    ed = EditorSession(base, ws, {"files.trimTrailingWhitespace": True})
    samples: dict[str, list[float]] = {"reload_after_outside_write": [], "reload_after_git_checkout": [],
                                       "save_participant_edit_before_write": [], "save_event_after_write": [],
                                       "folder_rename_file_op_after_fs": [], "folder_delete_file_op_after_fs": []}
    try:
        ed.start_recording()
        ed.do("open", files=["a.py", "b.py", "c.txt"])
        for i in range(runs):
            t0 = time.time() * 1000
            subprocess.run(["sed", "-i", f"s/.*/x = {i + 10}/", str(ws / "a.py")], check=True)
            t_write = time.time() * 1000
            edit = ed.wait_events(lambda ev: _new(ev, t0, "edit", "a.py"), what="the reload of a.py")[0]
            samples["reload_after_outside_write"].append(edit["wall"] - t_write)
        for branch in ["other", "main"] * max(1, runs // 2):
            subprocess.run(["sed", "-i", "s/.*/x = 1/", str(ws / "a.py")], check=True)
            git(ws, "checkout", "-q", "--", "a.py")
            t0 = time.time() * 1000
            time.sleep(0.6)   # let the reload of the restore pass before the checkout is stamped
            t0 = time.time() * 1000
            git(ws, "checkout", "-q", branch)
            t_write = time.time() * 1000
            edits = ed.wait_events(lambda ev: _new(ev, t0, "edit", "a.py") and _new(ev, t0, "edit", "b.py"),
                                   what=f"the reloads after git checkout {branch}")
            samples["reload_after_git_checkout"].append(edits[0]["wall"] - t_write)
        for i in range(runs):
            t0 = time.time() * 1000
            ed.do("typeSave", file="trim.txt", text=f"t{i}   ")
            saved = ed.wait_events(lambda ev: _new(ev, t0, "save", "trim.txt"), what="the save of trim.txt")[0]
            def trimmed(ev: list[dict[str, Any]]) -> list[dict[str, Any]]:
                return [e for e in _new(ev, t0, "edit", "trim.txt")
                        if any(c.get("text") == "" and c.get("length", 0) >= 3 for c in e.get("changes", []))]
            try:
                trim = ed.wait_events(trimmed, timeout=3, what="the trim participant's edit")
            except AssertionError:
                trim = []
            write = fs.first(t0, "trim.txt", ("modified", "created", "moved"))
            if trim and write is not None:
                samples["save_participant_edit_before_write"].append(write - trim[-1]["wall"])
            if write is not None:
                samples["save_event_after_write"].append(saved["wall"] - write)
        t0 = time.time() * 1000
        ed.do("explorerRename", **{"from": "pkg", "to": "pkg2"})
        op = ed.wait_events(lambda ev: [e for e in ev if e.get("kind") == "file_change" and e.get("file") == "pkg2"
                                        and e["wall"] >= t0], what="the folder rename's file_op")[0]
        moved = fs.first(t0, "/pkg", ("moved",))
        if moved is not None:
            samples["folder_rename_file_op_after_fs"].append(op["wall"] - moved)
        t0 = time.time() * 1000
        ed.do("explorerDelete", name="pkg2")
        op = ed.wait_events(lambda ev: [e for e in ev if e.get("kind") == "file_change" and e.get("file") == "pkg2"
                                        and e.get("change") == "delete" and e["wall"] >= t0],
                            what="the folder delete's file_op")[0]
        gone = fs.first(t0, "/pkg2", ("deleted", "moved"))
        if gone is not None:
            samples["folder_delete_file_op_after_fs"].append(op["wall"] - gone)
    finally:
        ed.close()
        fs.stop()
    return samples


def envelope(values: list[float]) -> dict[str, Any]:
    s = sorted(values)
    return {"min_ms": round(s[0], 1), "max_ms": round(s[-1], 1), "p50_ms": round(s[len(s) // 2], 1),
            "n": len(s), "samples_ms": [round(v, 1) for v in values]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ENVELOPES)
    args = parser.parse_args()
    missing = missing_preconditions()
    if missing:
        raise SystemExit(f"needs {missing}")
    tmp = Path(tempfile.mkdtemp(prefix="crowd-measure-"))
    samples = measure(args.runs, tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    out = {"measured_with": "code-server 4.100.3 (VS Code 1.100.3), the crowd editor bridge, headless Chromium; "
                            "2-core machine shared with other work; python -m tests.attribution.codeserver.measure",
           "measured_at": time.strftime("%Y-%m-%d"),
           "envelopes": {k: envelope(v) for k, v in samples.items() if v}}
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: {x: v[x] for x in ("min_ms", "p50_ms", "max_ms", "n")} for k, v in out["envelopes"].items()}, indent=1))


if __name__ == "__main__":
    main()
