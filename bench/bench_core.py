"""Recording core: sidecar throughput, recording size vs crowd-code 2.0, workspace cache memory.

All three measured in one run, side by side with their baselines:
- edit events/s end to end over stdio into a real ``crowd sidecar`` process, batched
  (500 events per ``crowd/events`` notification) vs one notification per event;
- bytes per hour of a scripted typing + navigation session: our segment files vs the same
  events as crowd-code 2.0 JSON chunks and as its source_part tar.gz (rendered with
  ``crowd.serializer.interop.export_cc2``);
- RSS growth of the workspace cache per MB of text on a generated workspace, and the
  initial scan time (in a child process, so nothing else is counted).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.table import Table

WORDS = ("self value items result index count name data config path error return import from def class "
         "if else for while with as try except raise yield lambda None True False print len range dict list "
         "str int float open read write parse load save user request response client server token cache").split()


# -- 1. throughput -------------------------------------------------------------------------
def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _keystrokes(uris: list[str], n: int, start_version: int) -> list[dict[str, Any]]:
    """Typing into several files in turn (400 keys each time), lines of 60 characters."""
    events = []
    offsets = dict.fromkeys(uris, 0)
    versions = dict.fromkeys(uris, start_version)
    for i in range(n):
        uri = uris[(i // 400) % len(uris)]
        versions[uri] += 1
        char = "\n" if i % 60 == 59 else (" " if i % 6 == 5 else "abcdefghij"[i % 10])
        events.append({"kind": "document_change", "uri": uri, "version": versions[uri],
                       "changes": [{"offset": offsets[uri], "length": 0, "text": char}], "reason": None,
                       "visible": True, "active": True})
        offsets[uri] += 1
    return events


def _throughput(quick: bool) -> Table:
    from crowd.server.client import SidecarClient
    from crowd.server.workspace.folders import path_to_uri

    rows = []
    files = 20
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        ws.mkdir()
        uris = []
        for i in range(files):
            (ws / f"m{i}.py").write_text("")
            uris.append(path_to_uri(ws / f"m{i}.py"))
        configs = (("default (all components, redaction on)", {}),
                   ("all components, redaction off", {"redact": False}),
                   ("core only (no components, no redaction)", {"redact": False, "components": False}))
        for label, settings in configs:
            client = SidecarClient(env={"CROWD_HOME": str(Path(tmp) / "home")}, args=["--log-level", "WARNING"])
            try:
                client.initialize([ws], consent=True, settings=settings)
                client.wait_for(lambda: client.status()["state"] == "recording", 30)
                client.events([{"kind": "document_open", "uri": u, "text": "", "languageId": "python",
                                "version": 0} for u in uris], ack=True)
                version = 0
                for mode, total, per_message in (("batched x500", 20_000 if quick else 100_000, 500),
                                                 ("one event per message", 2_000 if quick else 10_000, 1)):
                    events = _keystrokes(uris, total, version)
                    version += total
                    frames = b"".join(_frame({"jsonrpc": "2.0", "method": "crowd/events",
                                              "params": {"events": events[i:i + per_message]}})
                                      for i in range(0, total, per_message))
                    started = time.perf_counter()
                    client.send_raw(frames)
                    client.request("crowd/flush", timeout=600)   # answered after every event before it
                    elapsed = time.perf_counter() - started
                    rows.append([label, mode, total, round(total / elapsed), ">= 20,000" if per_message > 1 else "-"])
                client.request("crowd/stop")
            finally:
                client.close()
    load = os.getloadavg()[0]
    return Table("sidecar throughput: edit events/s end to end over stdio (real subprocess)",
                 ["sidecar settings", "mode", "events", "events/s", "target"], rows,
                 ["time from the first byte sent to the answer of a crowd/flush sent after the last event",
                  f"keystrokes typed into {files} files in turn; every event goes through the document model and "
                  "Session.record, then the bus (components) and the redactor when on",
                  f"machine load average during the run: {load:.1f} on {os.cpu_count()} CPUs"])


# -- 2. recording size ---------------------------------------------------------------------
def _scripted_session(ws: Path, minutes: float, rng: random.Random) -> list[tuple[float, dict[str, Any]]]:
    """(simulated seconds, bridge event): a person typing code and moving around the files."""
    from crowd.text.document import OpenDocument
    from crowd.server.workspace.folders import path_to_uri

    names = [f"src/module_{i}.py" for i in range(6)]
    docs = {}
    for name in names:
        lines = [f"def {rng.choice(WORDS)}_{i}({rng.choice(WORDS)}):\n    return {rng.choice(WORDS)}\n\n"
                 for i in range(60)]
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text("".join(lines))
        docs[name] = OpenDocument(path_to_uri(ws / name), name, "".join(lines), 1)
    out: list[tuple[float, dict[str, Any]]] = []
    now, end = 0.0, minutes * 60
    current = None
    while now < end:
        name = rng.choice(names)
        doc = docs[name]
        if current != name:
            if doc.version == 1:
                out.append((now, {"kind": "document_open", "uri": doc.uri, "text": doc.text, "languageId": "python",
                                  "version": 1}))
            out.append((now, {"kind": "active_editor", "uri": doc.uri, "previous": docs[current].uri if current else None}))
            current = name
        top = rng.randrange(0, max(1, doc.line_count() - 40))
        viewport = lambda: {"kind": "viewport", "editors": [{"uri": doc.uri, "visibleRanges": [[top, top + 39]],  # noqa: E731
                                                             "selections": [], "active": True}]}
        out.append((now, viewport()))
        for _ in range(rng.randint(2, 6)):           # a few lines typed in this file
            offset = doc.offset_at(min(top + rng.randrange(40), doc.line_count() - 1), 0)
            line = "    " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))) + "\n"
            for char in line:
                now += rng.uniform(0.08, 0.35)
                doc.apply_checked([{"offset": offset, "length": 0, "text": char}], doc.version + 1)
                out.append((now, {"kind": "document_change", "uri": doc.uri, "version": doc.version,
                                  "changes": [{"offset": offset, "length": 0, "text": char}], "reason": None,
                                  "visible": True, "active": True}))
                offset += 1
                out.append((now, {"kind": "selection", "uri": doc.uri,
                                  "selections": [{"anchor": offset, "active": offset}]}))
            now += rng.uniform(1, 6)                    # think
            if rng.random() < 0.5:                      # scroll
                top = max(0, top + rng.randint(-15, 15))
                out.append((now, viewport()))
        now += rng.uniform(2, 20)
    return out


def _reframe(events: list[dict[str, Any]], directory: Path) -> int:
    """Write ``events`` as the writer would have in real time (one frame per 0.2 s of activity)."""
    from crowd.format import RecordingWriter

    writer = RecordingWriter(directory, flush_interval=1e9, compact=True)   # as the session does
    bucket = None
    for event in events:
        b = event["t"] // 200_000
        if bucket is not None and b != bucket:
            writer.flush()
        bucket = b
        writer.append(event)
    writer.close()
    return sum(p.stat().st_size for p in directory.glob("seg-*.crowd"))


def _sizes(quick: bool) -> Table:
    from crowd.format import read_recording
    from crowd.serializer.interop.cc2_export import export_cc2
    from crowd.server.client import SidecarClient

    minutes = 3 if quick else 20
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        script = _scripted_session(ws, minutes, rng)
        client = SidecarClient(env={"CROWD_HOME": str(Path(tmp) / "home")}, args=["--log-level", "WARNING"])
        try:
            client.initialize([ws], consent=True, settings={"redact": False})
            client.wait_for(lambda: client.status()["state"] == "recording", 30)
            bridge = [e for _, e in script]
            for i in range(0, len(bridge), 500):
                client.events(bridge[i:i + 500], ack=True)
            directory = Path(client.request("crowd/stop")["recording"])
        finally:
            client.close()
        events = read_recording(directory).events
        # give every recorded event the simulated time of the bridge event it came from
        times = [t for t, _ in script]
        j, start_wall = 0, events[0]["wall"]
        for event in events:
            if event["type"] in ("action",) or event["kind"] == "viewport":
                t = times[min(j, len(times) - 1)]
                j += 1
            else:
                t = times[min(j, len(times) - 1)]
            event["t"], event["wall"] = int(t * 1e6), start_wall + int(t * 1000)
        duration_h = script[-1][0] / 3600
        ours = _reframe(events, Path(tmp) / "reframed")
        exported = export_cc2(events, Path(tmp) / "cc2")
        json_bytes = sum(p.stat().st_size for p in exported.chunks) + sum(p.stat().st_size for p in exported.snapshots)
        tar_bytes = sum(p.stat().st_size for p in exported.parts)
    per_h = lambda b: round(b / duration_h)  # noqa: E731
    rows = [
        ["crowd segments (0.2 s frames, compacted when finished)", per_h(ours), "1.00", "-"],
        ["crowd-code 2.0 JSON chunks", per_h(json_bytes), f"{ours / json_bytes:.3f}", "ours <= 0.1"],
        ["crowd-code 2.0 source_part tar.gz", per_h(tar_bytes), f"{ours / tar_bytes:.3f}", "ours <= 0.5"],
    ]
    return Table(f"recording bytes per hour: scripted typing + navigation ({minutes} simulated min, "
                 f"{len(events)} events, {exported.events} cc2 events)",
                 ["form", "bytes/hour", "ours / this", "target"], rows,
                 ["same events: recorded by a real sidecar, then framed as the writer does in real time "
                  "(one frame per 0.2 s of activity) and compacted when the segment is finished, as the session does",
                  "the segment being written is not compacted yet (at most its 5 minutes are in 0.2 s frames)",
                  "ours also holds the full text of every file when first seen (file_content), which cc2 lacks",
                  "cc2 rendered by crowd.serializer.interop.export_cc2 (its observation-after-action layout)"])


# -- 3. workspace cache memory -------------------------------------------------------------
_CHILD = r"""
import gc, json, sys, time
from pathlib import Path
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
from crowd.server.workspace import WorkspaceCache, WorkspaceFolders
gc.collect(); before = rss()
started = time.perf_counter()
cache = WorkspaceCache(WorkspaceFolders([(None, Path(sys.argv[1]))]))
cache.start_scan(); cache.wait_scanned()
elapsed = time.perf_counter() - started
gc.collect(); after = rss()
print(json.dumps({"files": cache.stats.files, "text": cache.stats.text_bytes, "stored": cache.stats.stored_bytes,
                  "growth": after - before, "seconds": elapsed}))
"""


def _make_workspace(root: Path, files: int, total_bytes: int, rng: random.Random) -> None:
    per_file = total_bytes // files
    lines = [f"    {rng.choice(WORDS)}_{rng.randrange(1000)} = {rng.choice(WORDS)}({rng.choice(WORDS)}, {rng.randrange(100)})\n"
             for _ in range(5000)]
    for i in range(files):
        folder = root / f"pkg{i % 50}" / f"sub{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        body, size = [f"def function_{i}():\n"], 0
        while size < per_file:
            line = lines[rng.randrange(len(lines))]
            body.append(line)
            size += len(line)
        (folder / f"file_{i}.py").write_text("".join(body))


def _cache_memory(quick: bool) -> Table:
    files, total = (2_000, 20 * 1024 * 1024) if quick else (20_000, 200 * 1024 * 1024)
    root = Path(tempfile.mkdtemp(prefix="crowd-bench-ws-"))
    try:
        _make_workspace(root, files, total, random.Random(3))
        out = subprocess.run([sys.executable, "-c", _CHILD, str(root)], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": "0"})
        r = json.loads(out.stdout)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    mb = r["text"] / 1e6
    return Table(f"workspace cache: generated workspace of {r['files']:,} files / {mb:,.0f} MB of text",
                 ["measure", "value", "target"],
                 [["RSS growth (MB)", r["growth"] / 1e6, "-"],
                  ["RSS growth per MB of text", r["growth"] / r["text"], "<= 0.6"],
                  ["compressed blobs per MB of text", r["stored"] / r["text"], "-"],
                  ["initial scan (s)", r["seconds"], "background thread"],
                  ["scan rate (MB/s)", mb / r["seconds"], "-"]],
                 ["measured in a child process: VmRSS after the scan minus before creating the cache"])


def run(quick: bool) -> list[Table]:
    return [_throughput(quick), _sizes(quick), _cache_memory(quick)]


if __name__ == "__main__":
    for table in run("--quick" in sys.argv):
        print(table.render(), "\n")
