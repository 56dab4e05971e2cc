"""A scripted, deterministic coding session: the recordings that tests and benchmarks share.

It plays a person (and their CLI agent) working in a small workspace for any number of
hours: typing code key by key with undo and backspace, moving between files, scrolling,
running tests in a terminal, prompting a Claude-Code-like agent whose edits land in the
files (preceded by a workspace snapshot), keeping, revising, reverting or re-prompting
those edits, committing, switching branches, and going idle. Every action is followed by
the observation of the state after it, exactly as docs/format.md orders them, and every
viewport is computed from the same ``Document`` model the replayer uses — the tests then
check the replayer independently against it. Files include emoji (astral UTF-16) and CRLF
line endings on purpose. Same seed, same bytes.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crowd.serializer.replay.patch import unified_diff
from crowd.text.document import Document
from crowd.text.lines import index_position
from crowd.text.utf16 import utf16_len

GENERATOR_VERSION = 3  # bump when the script changes, so cached benchmark recordings are rebuilt
START_WALL = 1_767_225_600_000  # 2026-01-01T00:00:00Z, fixed so output is reproducible
VIEW_ROWS = 30
TERM_ROWS, TERM_COLS = 24, 100

FILES: dict[str, str] = {
    "src/app.py": '"""Tiny service."""\nimport json\n\n\ndef main() -> None:\n    print(json.dumps({"ok": True}))\n\n\nif __name__ == "__main__":\n    main()\n',
    "src/util.py": "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n\n\ndef greet(name):\n    return f\"hello {name} 👋\"\n",
    "README.md": "# Demo 🚀\n\nA small project. Emoji: 😀 🎉 and CJK: 漢字.\n\n## Usage\n\nRun `python -m src.app`.\n",
    "legacy/win.txt": "line one\r\nline two\r\nline three 😀\r\n",
    "web/index.ts": "export function add(a: number, b: number): number {\n  return a + b;\n}\n",
}

SNIPPETS = [
    "def parse(line):\n    parts = line.split(',')\n    return [p.strip() for p in parts]\n",
    "class Cache:\n    def __init__(self):\n        self.items = {}\n\n    def get(self, key):\n        return self.items.get(key)\n",
    "# TODO: handle errors 🐛\nvalue = clamp(3, 0, 10)\n",
    "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n",
    "const greeting = 'hi 😀';\n",
    "see also: notes\r\n",
]
PROMPTS = [
    "add type hints to util.py",
    "write a docstring for parse",
    "fix the failing test in app.py",
    "refactor total to use sum()",
    "rename Cache to LruCache 🙂",
]
COMMITS = ["Add parser", "Fix clamp bounds", "Refactor cache", "Docs: usage 🚀", "Speed up total"]
AGENT_SNIPPETS = [
    'def add_hints(x: int) -> int:\n    """Added by the agent."""\n    return x\n',
    "# agent: simplified\nresult = sum([1, 2, 3])\n",
    'def describe() -> str:\n    return "made by claude 🤖"\n',
]


class ScriptedSession:
    """Produces the events of a scripted session; ``events()`` yields them lazily."""

    def __init__(self, hours: float = 0.05, seed: int = 0, session_id: str = "synthetic-0001") -> None:
        self.rng = random.Random(seed)
        self.end_t = int(hours * 3600 * 1_000_000)
        self.session_id = session_id
        self.t = 0
        self.seq = 0
        self.docs: dict[str, Document] = {}
        self.seen: set[str] = set()
        self.cursor: dict[str, int] = {}   # UTF-16 offset
        self.top: dict[str, int] = {}      # first visible line
        self.active: str | None = None
        self.term_lines: list[str] = ["$ "]
        self.out: list[dict[str, Any]] = []
        self.branch = "main"

    # -- emitting ------------------------------------------------------------------------------
    def emit(self, type_: str, kind: str, **fields: Any) -> dict[str, Any]:
        self.seq += 1
        ev = {"seq": self.seq, "t": self.t, "wall": START_WALL + self.t // 1000, "type": type_, "kind": kind}
        ev.update(fields)
        self.out.append(ev)
        return ev

    def tick(self, lo_ms: float, hi_ms: float) -> None:
        self.t += int(self.rng.uniform(lo_ms, hi_ms) * 1000)

    def viewport(self) -> None:
        path = self.active
        if path is None:
            self.emit("observation", "viewport", editors=[])
            return
        doc = self.docs[path]
        lines = doc.lines()
        line, _ = doc.position(self.cursor[path])
        top = self.top.get(path, 0)
        if line < top or line >= top + VIEW_ROWS:
            top = max(0, line - VIEW_ROWS // 2)
        top = min(top, max(0, len(lines) - 1))
        self.top[path] = top
        end = min(len(lines) - 1, top + VIEW_ROWS - 1)
        cur = self.cursor[path]
        self.emit("observation", "viewport", editors=[{
            "file": path, "visible_ranges": [[top, end]], "first_line": top,
            "text": "\n".join(lines[top:end + 1]),
            "selections": [{"anchor": cur, "active": cur}], "active": True}])

    def screen(self, focused: bool = True) -> None:
        lines = self.term_lines[-TERM_ROWS:]
        row = len(lines) - 1
        padded = lines + [""] * (TERM_ROWS - len(lines))
        self.emit("observation", "terminal_screen", terminal="t1", rows=TERM_ROWS, cols=TERM_COLS,
                  lines=padded, cursor=[row, len(lines[-1])], focused=focused, title="bash", alt_screen=False)

    # -- behaviours ------------------------------------------------------------------------------
    def open_file(self, path: str) -> None:
        prev = self.active
        self.tick(300, 1500)
        self.active = path
        if path not in self.seen:  # like the sidecar: open, then the file's full text
            self.seen.add(path)
            self.emit("action", "open", source="user", file=path, language=path.rsplit(".", 1)[-1])
            self.emit("observation", "file_content", file=path, text=self.docs[path].text)
        self.emit("action", "tab_switch", source="user", file=path, previous_file=prev)
        self.viewport()

    def edit(self, path: str, offset: int, length: int, text: str, source: str = "user",
             reason: str | None = None, **extra: Any) -> None:
        doc = self.docs[path]
        before = doc.text if source != "user" else None
        doc.apply([{"offset": offset, "length": length, "text": text}])
        fields: dict[str, Any] = {"source": source, "file": path,
                                  "changes": [{"offset": offset, "length": length, "text": text}],
                                  "reason": reason, "version": doc.version}
        if before is not None:
            fields["diff"] = unified_diff(before, doc.text, path)
        fields.update(extra)
        self.emit("action", "edit", **fields)
        self.cursor[path] = offset + _u16(text)
        if source == "user":
            cur = self.cursor[path]
            self.emit("action", "selection", source="user", file=path, selections=[{"anchor": cur, "active": cur}])
        if path == self.active:
            self.viewport()

    def type_snippet(self, snippet: str) -> None:
        path = self.active
        doc = self.docs[path]
        if "\r\n" in doc.text:
            snippet = snippet.replace("\r\n", "\n").replace("\n", "\r\n")
        else:
            snippet = snippet.replace("\r\n", "\n")
        pos = self.cursor[path]
        history: list[tuple[int, str]] = []
        i = 0
        while i < len(snippet):
            ch = snippet[i]
            if snippet.startswith("\r\n", i):
                ch = "\r\n"
            self.tick(60, 260)
            if self.rng.random() < 0.04 and history:  # typo fixed by backspace
                self.edit(path, pos, 0, "x")
                self.tick(100, 300)
                self.edit(path, pos, 1, "")
            self.edit(path, pos, 0, ch)
            history.append((pos, ch))
            pos += _u16(ch)
            i += len(ch)
        if self.rng.random() < 0.15 and history:  # undo the last character, then redo it
            p, ch = history[-1]
            self.tick(200, 600)
            self.edit(path, p, _u16(ch), "", reason="undo")
            self.tick(200, 600)
            self.edit(path, p, 0, ch, reason="redo")

    def move_cursor(self) -> None:
        path = self.active
        doc = self.docs[path]
        self.tick(200, 2000)
        lines = doc.lines()
        line = self.rng.randrange(len(lines))
        # to a line start (where code gets typed) or into a line; never inside CRLF or an emoji
        column = 0 if self.rng.random() < 0.7 else self.rng.randint(0, len(lines[line]))
        target = doc.offset_at(line, 0) + utf16_len(lines[line][:column])
        self.cursor[path] = target
        self.emit("action", "selection", source="user", file=path, selections=[{"anchor": target, "active": target}])
        self.viewport()

    def trim(self) -> None:
        """Keep files from growing without bound: select a block of lines and delete it."""
        path = self.active
        doc = self.docs[path]
        lines = doc.lines()
        if len(lines) < 120:
            return
        start = self.rng.randint(5, len(lines) - 60)
        a = doc.offset_at(start, 0)
        b = doc.offset_at(start + 40, 0)
        self.tick(500, 1500)
        self.emit("action", "selection", source="user", file=path, selections=[{"anchor": a, "active": b}])
        self.viewport()
        self.tick(200, 500)
        self.edit(path, a, b - a, "")

    def run_command(self, command: str, output: list[str], exit_code: int = 0) -> None:
        self.tick(500, 2000)
        self.emit("action", "terminal_focus", source="user", terminal="t1", name="bash", rows=TERM_ROWS, cols=TERM_COLS)
        self.screen()
        for ch in command:
            self.tick(50, 150)
        self.term_lines[-1] = "$ " + command
        self.term_lines.extend(output)
        self.term_lines.append("$ ")
        start = self.t
        self.tick(300, 3000)
        self.emit("action", "terminal_command", source="user", terminal="t1", command=command, cwd=None,
                  exit_code=exit_code, start_t=start, end_t=self.t)
        self.screen()

    def agent_turn(self) -> None:
        prompt = self.rng.choice(PROMPTS)
        self.tick(1000, 4000)
        self.emit("action", "terminal_focus", source="user", terminal="t1", name="claude", rows=TERM_ROWS, cols=TERM_COLS)
        self.term_lines = ["✻ Welcome to Claude Code!", "", "╭" + "─" * 60 + "╮",
                           "│ > " + prompt.ljust(57) + "│", "╰" + "─" * 60 + "╯"]
        self.emit("action", "terminal_input", source="user", terminal="t1", data=prompt + "\r", paste=False)
        self.screen()
        self.tick(3000, 15000)
        path = self.rng.choice(["src/util.py", "src/app.py", "web/index.ts"])
        snapshot_id = f"snap-{self.seq + 1:06d}"
        self.emit("snapshot", "snapshot", snapshot_id=snapshot_id, files=len(self.docs))
        doc = self.docs[path]
        snippet = self.rng.choice(AGENT_SNIPPETS)
        at = doc.offset_at(self.rng.randint(0, len(doc.lines()) - 1), 0)
        # the watcher sees the agent's write on disk, then the editor reloads the clean buffer
        before = doc.text
        after = before[:doc.to_index(at)] + snippet + before[doc.to_index(at):]
        self.emit("action", "file_change", source="agent", agent="claude", file=path, change="change",
                  diff=unified_diff(before, after, path))
        self.tick(50, 400)
        self.edit(path, at, 0, snippet, source="agent", agent="claude")
        self.term_lines = self.term_lines[:5] + [f"⏺ Update({path})", f"  ⎿  Added {snippet.count(chr(10))} lines", "", "> "]
        self.screen()
        if self.rng.random() < 0.3:
            new = f"src/gen_{self.seq}.py"
            text = "# generated by the agent 🤖\nVALUE = 1\n"
            self.tick(500, 2000)
            self.emit("action", "file_change", source="agent", agent="claude", file=new, change="create",
                      diff=unified_diff("", text, new))
            self.docs[new] = Document(text)
            self.cursor[new] = 0
        reaction = self.rng.random()
        if path != self.active:
            self.open_file(path)
        self.cursor[path] = at + _u16(snippet)
        if reaction < 0.35:
            return  # kept
        if reaction < 0.6:  # revised: retype a bit inside the agent's lines
            self.cursor[path] = at
            self.viewport()
            self.type_snippet("# reviewed\n")
        elif reaction < 0.8:  # reverted by undo
            self.tick(1000, 3000)
            self.edit(path, at, _u16(snippet), "", reason="undo")
        else:  # re-prompted
            self.tick(1000, 3000)
            self.emit("action", "terminal_focus", source="user", terminal="t1", name="claude", rows=TERM_ROWS, cols=TERM_COLS)
            again = "no, " + self.rng.choice(PROMPTS)
            self.term_lines = self.term_lines[:-1] + ["╭" + "─" * 60 + "╮", "│ > " + again.ljust(57) + "│", "╰" + "─" * 60 + "╯"]
            self.emit("action", "terminal_input", source="user", terminal="t1", data=again + "\r", paste=False)
            self.screen()
        self.term_lines = ["$ "]

    def commit(self) -> None:
        msg = self.rng.choice(COMMITS)
        self.run_command(f'git commit -am "{msg}"', [f"[{self.branch} {self.rng.getrandbits(28):07x}] {msg}",
                                                     " 2 files changed, 9 insertions(+)"])

    def switch_branch(self) -> None:
        self.branch = f"feature/{self.rng.randint(1, 99)}"
        self.run_command(f"git checkout -b {self.branch}", [f"Switched to a new branch '{self.branch}'"])
        path = "README.md"
        doc = self.docs[path]
        before = doc.text
        doc.set_text(before + f"\nBranch {self.branch}\n")
        self.emit("action", "file_change", source="git_checkout", file=path, change="change",
                  diff=unified_diff(before, doc.text, path))
        self.emit("observation", "file_content", file=path, text=doc.text)

    # -- the script --------------------------------------------------------------------------------
    def events(self) -> Iterator[dict[str, Any]]:
        self.emit("session", "start", session_id=self.session_id, format="crowd-recording", format_version=1,
                  folders=["demo"], client={"name": "crowd-synthetic", "version": "1"}, settings={})
        self.emit("session", "consent", granted=True)
        for path, text in FILES.items():
            self.docs[path] = Document(text)
            self.cursor[path] = 0
        self.emit("action", "terminal_open", source="user", terminal="t1", name="bash", rows=TERM_ROWS, cols=TERM_COLS)
        self.open_file("src/app.py")
        yield from self._drain()
        while self.t < self.end_t:
            r = self.rng.random()
            if r < 0.12:
                self.open_file(self.rng.choice(list(self.docs)))
            elif r < 0.55:
                self.move_cursor()
                self.type_snippet(self.rng.choice(SNIPPETS))
                self.trim()
            elif r < 0.7:
                self.move_cursor()
            elif r < 0.78:
                self.run_command("pytest -q", ["....F", "1 failed, 4 passed in 0.12s"], exit_code=1)
            elif r < 0.86:
                self.agent_turn()
            elif r < 0.91:
                self.commit()
            elif r < 0.935:
                self.switch_branch()
            elif r < 0.96:
                self.t += int(self.rng.uniform(30, 400) * 1_000_000)  # idle
            else:
                self.move_cursor()
            yield from self._drain()
        self.emit("session", "stop")
        yield from self._drain()

    def _drain(self) -> Iterator[dict[str, Any]]:
        out, self.out = self.out, []
        yield from out


def _u16(text: str) -> int:
    from crowd.text.utf16 import utf16_len
    return utf16_len(text)


def generate(hours: float = 0.05, seed: int = 0, session_id: str | None = None) -> list[dict[str, Any]]:
    """All events of a scripted session of ``hours`` hours."""
    return list(ScriptedSession(hours, seed, session_id or f"synthetic-{seed:04d}").events())


def write_recording(directory: Path | str, hours: float = 0.05, seed: int = 0,
                    session_id: str | None = None, frame_seconds: float = 0.2) -> Path:
    """Write a scripted session as a real recording folder with the real writer.

    Frames are cut every ``frame_seconds`` of session time, as the live writer cuts them
    every 0.2 s of wall time, so frame sizes (and compression) match a real recording.
    """
    from crowd.format import RecordingWriter

    directory = Path(directory)
    writer = RecordingWriter(directory, flush_interval=3600)
    step = int(frame_seconds * 1_000_000)
    frame_end = step
    batch: list[dict[str, Any]] = []
    for ev in ScriptedSession(hours, seed, session_id or f"synthetic-{seed:04d}").events():
        if ev["t"] >= frame_end and batch:
            writer.extend(batch)
            writer.flush()
            batch = []
            frame_end = (ev["t"] // step + 1) * step
        batch.append(ev)
    writer.extend(batch)
    writer.close()
    return directory


__all__ = ["ScriptedSession", "generate", "write_recording", "index_position"]
