"""Scenario harness: a REAL sidecar subprocess driven over JSON-RPC like an editor would,
real processes and real git writing files, and the recording read back from disk.

Accuracy per family is collected in ACCURACY and printed at the end of the test run
(conftest.pytest_terminal_summary); every scenario also asserts its own expectations.
"""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from crowd.format import read_recording
from crowd.server.client import SidecarClient
from crowd.server.workspace.folders import path_to_uri

ACCURACY: dict[str, list[int]] = defaultdict(lambda: [0, 0])
MISSES: list[str] = []

GIT_ENV = {"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com", "GIT_COMMITTER_NAME": "Dev",
           "GIT_COMMITTER_EMAIL": "dev@example.com", "GIT_CONFIG_NOSYSTEM": "1"}



def git(cwd: Path, *args: str, check: bool = True) -> str:
    env = {**os.environ, **GIT_ENV}
    out = subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false", *args],
                         cwd=cwd, env=env, check=check, capture_output=True, text=True, timeout=300)
    return out.stdout


class Sidecar:
    """One real sidecar recording one workspace."""

    _markers = itertools.count(1)

    def __init__(self, tmp: Path, folders: list[Path], settings: dict[str, Any] | None = None) -> None:
        self.tmp = tmp
        self.folders = folders
        self.client = SidecarClient(env={"CROWD_HOME": str(tmp / "home")})
        self.client.initialize(folders, consent=True,
                               settings={"recordingsDir": str(tmp / "recordings"), **(settings or {})})
        self.client.wait_for_log("attribution: watching", timeout=120)
        self.dir = Path(self.client.status()["recording"])
        self.versions: dict[str, int] = {}

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "Sidecar":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- editor events -------------------------------------------------------------------
    def uri(self, rel: str) -> str:
        return path_to_uri(self.folders[0] / rel)

    def send(self, *events: dict[str, Any]) -> dict[str, Any]:
        result = self.client.events(list(events), ack=True)
        assert not result["rejected"], result
        return result

    def open(self, rel: str, text: str | None = None) -> None:
        if text is None:
            text = (self.folders[0] / rel).read_text()
        self.versions[rel] = 1
        self.send({"kind": "document_open", "uri": self.uri(rel), "text": text, "languageId": "plaintext", "version": 1})

    def edit(self, rel: str, offset: int, length: int, text: str, *, user: bool = True, visible: bool = True,
             reason: str | None = None) -> None:
        self.versions[rel] += 1
        events = []
        if user:
            events.append({"kind": "user_input", "what": "type"})
        events.append({"kind": "document_change", "uri": self.uri(rel), "version": self.versions[rel],
                       "changes": [{"offset": offset, "length": length, "text": text}], "reason": reason,
                       "visible": visible, "active": visible})
        self.send(*events)

    def save(self, rel: str, text: str) -> None:
        """The editor writes the buffer and then reports the save (VS Code's order)."""
        (self.folders[0] / rel).write_text(text)
        self.send({"kind": "document_save", "uri": self.uri(rel), "version": self.versions[rel]})

    def close_doc(self, rel: str) -> None:
        self.send({"kind": "document_close", "uri": self.uri(rel)})

    def command(self, command: str, phase: str) -> None:
        self.send({"kind": "editor_command", "command": command, "phase": phase})

    # -- the recording -------------------------------------------------------------------
    def events(self) -> list[dict[str, Any]]:
        self.client.request("crowd/flush")
        return read_recording(self.dir).events

    def sync(self, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Write a marker file from another process and wait until it is recorded: every
        disk change before it has then been decided (decisions are released in order)."""
        name = f".sync-{next(self._markers)}-{os.getpid()}"
        subprocess.run([sys.executable, "-c", f"open({str(self.folders[0] / name)!r}, 'w').write('x')"], check=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events()
            recorded = f"{self.folders[0].name}/{name}" if len(self.folders) > 1 else name
            if any(e.get("kind") == "file_change" and e.get("file") == recorded for e in events):
                return events
            time.sleep(0.05)
        raise AssertionError(f"marker {name} never recorded; log tail: {self.client.log[-8:]}")

    def file_changes(self, events: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        events = self.sync() if events is None else events
        return [e for e in events if e.get("kind") == "file_change" and not str(e.get("file")).rpartition("/")[2].startswith(".sync-")]

    def edits(self, rel: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [e for e in events if e.get("kind") == "edit" and e.get("file") == rel]


def judge(family: str, ok: bool, what: str) -> bool:
    ACCURACY[family][1] += 1
    if ok:
        ACCURACY[family][0] += 1
    else:
        MISSES.append(f"{family}: {what}")
    return ok


def expect_sources(family: str, changes: list[dict[str, Any]], expected: dict[str, tuple[str, str | None] | None]) -> None:
    """Every expected file's recorded changes carry the expected (source, agent); None: no change."""
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in changes:
        by_file[c.get("file")].append(c)
    failures = []
    for rel, want in expected.items():
        got = [(c.get("source"), c.get("agent")) for c in by_file.get(rel, [])]
        if want is None:
            ok = not got
        else:
            ok = bool(got) and all(g[0] == want[0] and (want[1] is None or g[1] == want[1]) for g in got)
        if not judge(family, ok, f"{rel}: expected {want}, recorded {got}"):
            failures.append(f"{rel}: expected {want}, recorded {got}")
    unexpected = sorted(set(by_file) - set(expected))
    assert not failures, f"{len(failures)} wrong: {failures[:10]}"
    assert not unexpected, f"unexpected file changes: {[(f, [(c['source'], c['change']) for c in by_file[f]]) for f in unexpected]}"


def expect_edit_sources(family: str, edits: list[dict[str, Any]], expected: list[str]) -> None:
    got = [e.get("source") for e in edits]
    for i, want in enumerate(expected):
        judge(family, i < len(got) and got[i] == want, f"edit {i}: expected {want}, recorded {got[i] if i < len(got) else None}")
    assert got == expected, (got, expected)


def report() -> str:
    lines = ["attribution accuracy per family (scenario suite):"]
    for family in sorted(ACCURACY):
        ok, total = ACCURACY[family]
        lines.append(f"  {family:<24} {ok:>5}/{total:<5} {100.0 * ok / max(total, 1):6.1f}%")
    lines += [f"  miss: {m}" for m in MISSES[:50]]
    return "\n".join(lines)


def dump_report(path: str | None) -> None:
    if path:
        Path(path).write_text(json.dumps({"accuracy": dict(ACCURACY), "misses": MISSES}, indent=1))
