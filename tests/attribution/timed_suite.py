"""The timed scenario suite's machinery: one real sidecar recording one workspace that holds
a folder per scenario run (set up before the sidecar starts), and a scripted editor that
sends what VS Code sends, when code-server was measured to send it (timing.py).

The editor's delays are real waits: they are the modelled editor's timing, drawn from the
measured envelopes, not waits for our own code. Everything the suite waits for in our code
is awaited as an event (the recording showing the expected changes).
"""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.attribution.harness import Sidecar, git, judge
from tests.attribution.timing import Timing

FAMILY = "timed"
Expect = dict[str, tuple[str, str | None] | None]


@dataclass
class Scenario:
    name: str
    family: str
    setup: Callable[[Path], None]
    run: Callable[["Run"], None]
    timed: bool = True
    points: tuple[str, ...] | None = None   # timing points it runs at (default: all of timing.POINTS)


@dataclass
class Run:
    """One scenario at one timing point, in its own folder of the shared workspace."""
    sc: Sidecar
    root: Path            # the workspace
    folder: str           # this run's folder, workspace-relative
    timing: Timing
    family: str
    tmp: Path
    versions: dict[str, int] = field(default_factory=dict)
    buffers: dict[str, str] = field(default_factory=dict)
    expected: Expect = field(default_factory=dict)
    edit_sources: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    start_t: int = 0

    # -- paths ---------------------------------------------------------------------------
    def rel(self, name: str) -> str:
        return f"{self.folder}/{name}"

    def path(self, name: str) -> Path:
        return self.root / self.folder / name

    def uri(self, name: str) -> str:
        return self.sc.uri(self.rel(name))

    # -- the editor ----------------------------------------------------------------------
    def open(self, name: str) -> None:
        text = self.path(name).read_text()
        self.versions[name] = 1
        self.buffers[name] = text
        self.sc.send({"kind": "document_open", "uri": self.uri(name), "text": text, "languageId": "plaintext",
                      "version": 1})

    def _change(self, name: str, new: str, user: bool) -> dict[str, Any]:
        old = self.buffers[name]
        self.versions[name] += 1
        self.buffers[name] = new
        prefix = 0
        while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
            prefix += 1
        suffix = 0
        while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
            suffix += 1
        return {"kind": "document_change", "uri": self.uri(name), "version": self.versions[name],
                "changes": [{"offset": prefix, "length": len(old) - prefix - suffix,
                             "text": new[prefix:len(new) - suffix]}],
                "reason": None, "visible": True, "active": True, "time": time.time() * 1000}

    def edit_event(self, name: str, new: str) -> dict[str, Any]:
        """A ``document_change`` to ``new`` with no input signal before it."""
        return self._change(name, new, user=False)

    def type(self, name: str, new: str) -> None:
        """The user types (a keystroke signal, then its edit)."""
        self.sc.send({"kind": "user_input", "what": "type"}, self._change(name, new, user=True))

    def user_types_elsewhere(self) -> None:
        """A keystroke and its edit in the suite's scratch file (typing.txt)."""
        version = self.sc.versions["typing.txt"] = self.sc.versions.get("typing.txt", 2) + 1
        self.sc.send({"kind": "user_input", "what": "type", "text": "k"},
                     {"kind": "document_change", "uri": self.sc.uri("typing.txt"), "version": version, "reason": None,
                      "visible": True, "active": True, "changes": [{"offset": 0, "length": 0, "text": "k"}]})

    def reload(self, name: str, kind: str = "reload_after_outside_write", after: float | None = None) -> None:
        """VS Code reloads a clean open buffer from disk, ``kind``'s delay after the write
        (``after``: when the write returned, monotonic)."""
        delay = self.timing.s(kind)
        if after is not None:
            delay -= time.monotonic() - after
        if delay > 0:
            time.sleep(delay)   # the modelled editor's measured delay
        self.sc.send(self._change(name, self.path(name).read_text(), user=False))

    def save(self, name: str, participant: Callable[[str], str] | None = None) -> None:
        """Ctrl+S: save participants change the buffer, the editor writes it, then reports
        the save; the participant's edit reaches us around the write (its envelope)."""
        text = self.buffers[name]
        if participant is None:
            self.path(name).write_text(text)
        else:
            final = participant(text)
            lead = self.timing.s("save_participant_edit_before_write")   # > 0: the edit comes first
            edit = self._change(name, final, user=False)
            if lead > 0:
                # the editor writes whether or not the sidecar has acknowledged the edit
                acked = self.send_meanwhile(edit)
                # the lead is measured from the edit (its stamp), not from this thread's wake-up
                time.sleep(max(0.0, edit["time"] / 1000 + lead - time.time()))
                self.path(name).write_text(final)
                acked()
            else:
                self.path(name).write_text(final)
                time.sleep(-lead)
                self.sc.send(edit)
        written = time.monotonic()
        delay = self.timing.s("save_event_after_write") - (time.monotonic() - written)
        if delay > 0:
            time.sleep(delay)
        self.sc.send({"kind": "document_save", "uri": self.uri(name), "version": self.versions[name]})

    def send_meanwhile(self, event: dict[str, Any]) -> Callable[[], None]:
        """Send ``event`` from another thread, as the bridge does while the editor goes on
        (the sidecar may hold an edit's decision for the write that follows it); returns
        the wait for its acknowledgement (raising what the send raised)."""
        pool = ThreadPoolExecutor(max_workers=1)
        sent = pool.submit(self.sc.send, event)
        pool.shutdown(wait=False)
        return lambda: sent.result(timeout=60)

    def file_op(self, op: str, files: list[dict[str, str]], after: float) -> None:
        delay = self.timing.s("folder_rename_file_op_after_fs") - (time.monotonic() - after)
        if delay > 0:
            time.sleep(delay)
        self.sc.send({"kind": "file_op", "op": op, "files": files})

    def exec_start(self, terminal: str, command: str) -> None:
        self.sc.send({"kind": "terminal_exec_start", "terminal": terminal, "command": command, "cwd": None,
                      "time": time.time() * 1000})

    def exec_end(self, terminal: str) -> None:
        self.sc.send({"kind": "terminal_exec_end", "terminal": terminal, "exitCode": 0, "time": time.time() * 1000})

    # -- other processes -----------------------------------------------------------------
    def sh(self, command: str) -> float:
        """Run a shell command in this run's folder; returns when it returned (monotonic)."""
        subprocess.run(["sh", "-c", command], cwd=self.root / self.folder, check=True, capture_output=True)
        return time.monotonic()

    def git(self, *args: str) -> float:
        git(self.root / self.folder, *args)
        return time.monotonic()

    def py(self, code: str) -> float:
        subprocess.run([sys.executable, "-c", code], cwd=self.root / self.folder, check=True)
        return time.monotonic()

    # -- expectations --------------------------------------------------------------------
    def next_phase(self) -> None:
        """Judge what is expected so far, then start a new phase of this run."""
        check(self)
        self.start_t = marker_sync(self)[-1]["t"] + 1
        self.expected.clear()
        self.edit_sources.clear()

    def expect(self, name: str, source: str | None, agent: str | None = None, edits: str | None = None) -> None:
        """``name``'s disk changes carry ``source`` (None: no change recorded); ``edits``:
        the source its editor edits without a keystroke (reloads, participants) carry."""
        self.expected[self.rel(name)] = (source, agent) if source is not None else None
        if edits is not None:
            self.edit_sources[self.rel(name)] = (edits, agent if edits == "agent" else None)


MARKER = ".marker"


def marker_sync(run: Run, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Append a token to this run's marker file (not open, not new: decided at once) and
    wait until the recording holds it; returns the events."""
    token = f"m{time.monotonic_ns()}"
    with open(run.path(MARKER), "a") as fh:
        fh.write(token + "\n")
    rel = run.rel(MARKER)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = run.sc.events()
        if any(e.get("kind") == "file_change" and e.get("file") == rel and token in (e.get("diff") or "")
               for e in events):
            return events
        time.sleep(0.05)
    raise AssertionError(f"marker {token} never recorded")


def check(run: Run, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Wait (on the recording) until every expected change is there, then judge: file
    changes under this run's folder, and the unprompted edits of its files. The last wait
    is the harness's marker file creation, which is decided after every change held
    before it (creations wait for a possible explorer operation)."""
    wanted = {rel for rel, want in run.expected.items() if want is not None}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = marker_sync(run)
        seen = {e.get("file") for e in events if e.get("kind") == "file_change" and e["t"] >= run.start_t}
        if wanted <= seen:
            break
    events = run.sc.sync()
    mine = [e for e in events if e["t"] >= run.start_t and str(e.get("file", "")).startswith(run.folder + "/")
            and e.get("file") != run.rel(MARKER)]
    changes = [e for e in mine if e.get("kind") == "file_change"]
    failures = []
    for rel, want in run.expected.items():
        got = [(c.get("source"), c.get("agent")) for c in changes if c.get("file") == rel]
        ok = (not got) if want is None else bool(got) and all(
            g[0] == want[0] and (want[1] is None or g[1] == want[1]) for g in got)
        if not judge(run.family, ok, f"{rel} [{run.timing.point}]: expected {want}, recorded {got}"):
            failures.append(f"{rel}: expected {want}, recorded {got}")
    unexpected = sorted({c["file"] for c in changes} - set(run.expected))
    if not judge(run.family, not unexpected, f"{run.folder} [{run.timing.point}]: unexpected changes {unexpected}"):
        failures.append(f"unexpected file changes: {[(c['file'], c['source'], c['change']) for c in changes if c['file'] in unexpected]}")
    for rel, (source, agent) in run.edit_sources.items():
        unprompted = [e for e in mine if e.get("kind") == "edit" and e.get("file") == rel and e.get("reason") is None]
        got = [(e.get("source"), e.get("agent")) for e in unprompted]
        ok = bool(got) and all(g[0] == source and (agent is None or g[1] == agent) for g in got)
        if not judge(run.family, ok, f"{rel} edits [{run.timing.point}]: expected {source}, recorded {got}"):
            failures.append(f"{rel} edits: expected {(source, agent)}, recorded {got}")
    assert not failures, f"{run.folder} at {run.timing.point} ({run.timing.drawn}): {failures}"
    return events


# -- the scenario registry ---------------------------------------------------------------------

SCENARIOS: list[Scenario] = []


def scenario(family: str, setup: Callable[[Path], None] | None = None, timed: bool = True,
             points: tuple[str, ...] | None = None) -> Callable[[Callable[[Run], None]], Callable[[Run], None]]:
    """Register a scenario (run in its own folder at each timing point)."""
    def register(run: Callable[[Run], None]) -> Callable[[Run], None]:
        SCENARIOS.append(Scenario(run.__name__, family, setup or files({"a.py": "a = 1\n", "b.py": "b = 2\n"}), run,
                                  timed, points))
        return run
    return register


def files(tree: dict[str, str]) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        for name, text in tree.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
    return setup


def repo(tree: dict[str, str], branch: dict[str, str]) -> Callable[[Path], None]:
    """A repository with ``tree`` on main and ``branch`` changes on ``other``."""
    def setup(root: Path) -> None:
        files(tree)(root)
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "base")
        if branch:
            git(root, "checkout", "-qb", "other")
            files(branch)(root)
            git(root, "add", "-A")
            git(root, "commit", "-qm", "other")
            git(root, "checkout", "-q", "main")
    return setup
