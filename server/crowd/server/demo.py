"""``crowd demo``: a scripted editor session through a real sidecar, then a summary.

No editor is needed: a real ``crowd sidecar`` subprocess is driven over a real JSON-RPC
pipe by a scripted client that sends exactly what the editor bridge sends (open, type,
select, scroll, switch tabs, save, create a file, optionally panic). The recording it
writes is then read back from disk and summarised, so the demo exercises the whole path
event in -> recording on disk -> recording read.

The script is ``DEMO_STEPS``, a list of (title, function) pairs; later parts (terminals,
agents, git) append their own steps.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crowd.home import recordings_dir
from crowd.server.client import SidecarClient
from crowd.text.document import OpenDocument
from crowd.server.workspace.folders import path_to_uri

APP_PY = '''"""A tiny inventory service."""


def total(items):
    return sum(item.price for item in items)


def main():
    print(total([]))


if __name__ == "__main__":
    main()
'''
UTIL_PY = '''def clamp(value, low, high):
    return max(low, min(high, value))
'''
README = "# inventory\n\nA demo workspace recorded by `crowd demo`.\n"
WORKSPACE = {
    "src/app.py": APP_PY,
    "src/util.py": UTIL_PY,
    "README.md": README,
    ".gitignore": "build/\n*.log\n",
    "build/output.txt": "generated, git-ignored\n",
}


@dataclass
class DemoContext:
    """What every step can use: the client, the workspace and the editor's view of it."""

    client: SidecarClient
    workspace: Path
    docs: dict[str, OpenDocument] = field(default_factory=dict)
    active: str | None = None
    batch: list[dict[str, Any]] = field(default_factory=list)
    sent: int = 0

    def uri(self, rel: str) -> str:
        return path_to_uri(self.workspace / rel)

    def send(self, event: dict[str, Any]) -> None:
        self.batch.append(event)
        if len(self.batch) >= 32:
            self.flush(ack=False)

    def flush(self, ack: bool = True) -> None:
        """Send the queued events (acknowledged: returns once the sidecar handled them)."""
        if self.batch:
            self.client.events(self.batch, ack=ack)
            self.sent += len(self.batch)
            self.batch = []

    # -- editor actions, as the bridge reports them -------------------------------------
    def open(self, rel: str) -> None:
        text = (self.workspace / rel).read_text()
        self.docs[rel] = OpenDocument(self.uri(rel), rel, text, 1, "python" if rel.endswith(".py") else "markdown")
        self.send({"kind": "document_open", "uri": self.uri(rel), "text": text,
                   "languageId": self.docs[rel].language_id, "version": 1})

    def show(self, rel: str, first_line: int = 0, lines: int = 30) -> None:
        previous = self.active
        self.active = rel
        if previous != rel:
            self.send({"kind": "active_editor", "uri": self.uri(rel),
                       "previous": self.uri(previous) if previous else None})
        self.send({"kind": "viewport", "editors": [{
            "uri": self.uri(rel), "visibleRanges": [[first_line, first_line + lines - 1]],
            "selections": [{"anchor": 0, "active": 0}], "active": True}]})

    def type(self, rel: str, offset: int, text: str) -> int:
        """Type ``text`` one character at a time at ``offset``; returns the end offset."""
        doc = self.docs[rel]
        for char in text:
            change = {"offset": offset, "length": 0, "text": char}
            doc.apply_checked([change], doc.version + 1)
            self.send({"kind": "document_change", "uri": doc.uri, "version": doc.version, "changes": [change],
                       "reason": None, "visible": True, "active": True})
            offset += len(char)
            self.send({"kind": "selection", "uri": doc.uri, "selections": [{"anchor": offset, "active": offset}]})
        return offset

    def replace(self, rel: str, old: str, new: str, reason: str | None = None) -> None:
        doc = self.docs[rel]
        offset = doc.text.index(old)
        change = {"offset": offset, "length": len(old), "text": new}
        doc.apply_checked([change], doc.version + 1)
        self.send({"kind": "document_change", "uri": doc.uri, "version": doc.version, "changes": [change],
                   "reason": reason, "visible": True, "active": True})

    def select(self, rel: str, word: str) -> None:
        doc = self.docs[rel]
        start = doc.text.index(word)
        self.send({"kind": "selection", "uri": doc.uri,
                   "selections": [{"anchor": start, "active": start + len(word)}]})

    def save(self, rel: str) -> None:
        doc = self.docs[rel]
        (self.workspace / rel).write_text(doc.text)
        self.send({"kind": "document_save", "uri": doc.uri, "version": doc.version})


Step = tuple[str, Callable[[DemoContext], None]]


def step_open(ctx: DemoContext) -> None:
    ctx.send({"kind": "window_focus", "focused": True})
    ctx.open("src/app.py")
    ctx.show("src/app.py")


def step_type(ctx: DemoContext) -> None:
    doc = ctx.docs["src/app.py"]
    at = doc.text.index("\n\ndef main")
    ctx.type("src/app.py", at, "\n\n\ndef count(items):\n    return len(items)")


def step_select_and_rename(ctx: DemoContext) -> None:
    ctx.select("src/app.py", "items")
    ctx.send({"kind": "editor_command", "command": "editor.action.rename", "phase": "start"})
    ctx.replace("src/app.py", "print(total([]))", "print(total([]), count([]))")
    ctx.send({"kind": "editor_command", "command": "editor.action.rename", "phase": "end"})


def step_switch_tabs(ctx: DemoContext) -> None:
    ctx.open("src/util.py")
    ctx.show("src/util.py")
    ctx.type("src/util.py", len(ctx.docs["src/util.py"].text), "\n\ndef double(x):\n    return 2 * x\n")
    ctx.show("src/app.py", first_line=4)


def step_undo(ctx: DemoContext) -> None:
    ctx.replace("src/app.py", ", count([])", "", reason="undo")


def step_save(ctx: DemoContext) -> None:
    ctx.save("src/app.py")
    ctx.save("src/util.py")


def step_new_file(ctx: DemoContext) -> None:
    (ctx.workspace / "NOTES.md").write_text("")
    ctx.send({"kind": "file_op", "op": "create", "files": [{"uri": ctx.uri("NOTES.md")}]})
    ctx.open("NOTES.md")
    ctx.show("NOTES.md")
    ctx.type("NOTES.md", 0, "- count() added\n")
    ctx.save("NOTES.md")


DEMO_STEPS: list[Step] = [
    ("open a file", step_open),
    ("type a function", step_type),
    ("select, rename", step_select_and_rename),
    ("switch tabs and type", step_switch_tabs),
    ("undo", step_undo),
    ("save", step_save),
    ("create a file", step_new_file),
]

# Steps contributed by other parts, one line each: "module:attribute" naming a list of steps.
# A part that is missing (not installed yet) is skipped with a note, never breaking the demo.
EXTRA_STEPS: list[str] = [
    "crowd.server.attribution.demo_steps:DEMO_STEPS",   # an agent edit with its snapshot, a git checkout
    "crowd.server.terminal.demo_steps:DEMO_STEPS",      # commands in a real PTY -> screens + commands
]


def all_steps() -> list[Step]:
    from crowd.server.components import load_factory  # noqa: PLC0415

    steps = list(DEMO_STEPS)
    for spec in EXTRA_STEPS:
        try:
            steps += list(load_factory(spec))
        except (ImportError, AttributeError) as exc:
            print(f"(demo steps {spec} skipped: {exc})", file=sys.stderr)
    return steps


def make_workspace(root: Path) -> Path:
    for rel, text in WORKSPACE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return root


def run_demo(out: Path | None = None, *, panic: bool = False, workspace: Path | None = None,
             steps: list[Step] | None = None, show_log: bool = False) -> dict[str, Any]:
    """Record the scripted session; returns {recording, status, steps, log}."""
    out = Path(out) if out else recordings_dir()
    temp = None
    if workspace is None:
        temp = Path(tempfile.mkdtemp(prefix="crowd-demo-"))
        workspace = make_workspace(temp / "inventory")
    client = SidecarClient(echo_log=show_log, args=["--log-level", "INFO"])
    try:
        # a scripted consent: not the user's answer, so not the machine's consent fact
        client.initialize([workspace], consent=True, settings={"recordingsDir": str(out), "shareConsent": False},
                          client={"name": "crowd-demo", "version": "1"})
        client.wait_for(lambda: client.status()["state"] == "recording", 30, "recording to start")
        ctx = DemoContext(client, workspace)
        done = []
        for title, step in steps or all_steps():
            step(ctx)
            ctx.flush()
            done.append(title)
        if panic:
            # type something regrettable, then delete just that stretch of the recording
            started = time.monotonic()
            ctx.type("NOTES.md", len(ctx.docs["NOTES.md"].text), "- password for staging is hunter2\n")
            ctx.flush()
            minutes = (time.monotonic() - started + 0.5) / 60
            removed = client.request("crowd/panic", {"minutes": minutes})["removed"]
            done.append(f"panic: the last {minutes * 60:.1f} s deleted ({removed} events)")
        status = client.request("crowd/stop")
    finally:
        client.close()
    return {"recording": Path(status["recording"]), "status": status, "steps": done, "log": client.log,
            "workspace": workspace, "temp": temp}


def summarize(recording: Path) -> str:
    from crowd.format import read_recording  # noqa: PLC0415

    result = read_recording(recording)
    events = result.events
    kinds = Counter(f"{e['type']}/{e['kind']}" + (f" ({e['source']})" if "source" in e else "") for e in events)
    files = sorted({e["file"] for e in events if isinstance(e.get("file"), str)})
    duration = (events[-1]["t"] - events[0]["t"]) / 1e6 if events else 0.0
    size = sum(p.stat().st_size for p in result.segments)
    lines = [
        f"recording: {recording}",
        f"  {len(events)} events over {duration:.2f} s, {len(result.segments)} segment(s), {size:,} bytes on disk"
        + (f", problems: {result.problems}" if result.problems else ", read back without problems"),
        "events by kind (source):",
        *(f"  {count:5d}  {kind}" for kind, count in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
        f"files: {', '.join(files)}",
    ]
    return "\n".join(lines)


def main(out: Path | None = None, panic: bool = False, keep_workspace: bool = False, show_log: bool = False) -> int:
    started = time.perf_counter()
    result = run_demo(out, panic=panic, show_log=show_log)
    print(f"crowd demo: scripted editor session through a real sidecar ({', '.join(result['steps'])})")
    print(summarize(result["recording"]))
    print(f"done in {time.perf_counter() - started:.1f} s")
    if result["temp"] is not None:
        if keep_workspace:
            print(f"workspace kept at {result['workspace']}")
        else:
            shutil.rmtree(result["temp"], ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
