"""A decision never closes before its evidence, however late the sidecar gets to it.

The race (issue 14, 1 of 4 fresh-clone runs): the user runs ``sed`` on an open file in one
terminal while a CLI agent idles in another; shell integration reports sed's end right
after it returns, the editor reloads the file 654 ms after the write (the envelope's
maximum). On a loaded machine the sidecar saw the write (or the reload) more than the
command-end slack after sed ended, stamped it with the moment it *saw* it, found only the
idle agent running then and recorded ``agent: claude``. The write's time is the file's
(kernel) mtime, not when a thread got round to looking.

Reproduced deterministically by freezing the real sidecar process (SIGSTOP) for the
envelope's maximum while sed writes, the terminal reports its end and the editor reloads:
every event then reaches the sidecar late, in whatever order its threads take them.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.attribution.harness import Sidecar
from tests.attribution.timing import envelopes

RELOAD_MAX_S = envelopes()["reload_after_outside_write"]["max_ms"] / 1000.0


@contextmanager
def frozen(sc: Sidecar) -> Iterator[None]:
    """The sidecar does not run (a loaded machine at its worst) until the block ends."""
    pid = sc.client.proc.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def exec_event(kind: str, terminal: str, command: str = "") -> dict:
    event = {"kind": kind, "terminal": terminal, "time": time.time() * 1000}
    if kind == "terminal_exec_start":
        event.update(command=command, cwd=None)
    else:
        event["exitCode"] = 0
    return event


def _sed_while_an_agent_idles(tmp_path: Path, open_file: bool) -> tuple[list[dict], list[dict]]:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("a = 1\n")
    (root / "typing.txt").write_text("")
    with Sidecar(tmp_path, [root]) as sc:
        # the bridge reports typing (unexplained edits are an agent's: the harder case)
        sc.open("typing.txt")
        sc.edit("typing.txt", 0, 0, "k")
        if open_file:
            sc.open("a.py")
        sc.send(exec_event("terminal_exec_start", "t1", "claude"))
        sc.send(exec_event("terminal_exec_start", "t2", "sed -i s/1/7/ a.py"))
        with frozen(sc):
            subprocess.run(["sed", "-i", "s/1/7/", "a.py"], cwd=root, check=True)
            written = time.monotonic()
            sc.client.events([exec_event("terminal_exec_end", "t2")])
            if open_file:
                # the editor's reload at the envelope's maximum after the write (its own delay)
                time.sleep(max(0.0, RELOAD_MAX_S - (time.monotonic() - written)))
                sc.client.events([{"kind": "document_change", "uri": sc.uri("a.py"), "version": 2,
                                   "changes": [{"offset": 4, "length": 1, "text": "7"}], "reason": None,
                                   "visible": True, "active": True, "time": time.time() * 1000}])
            else:
                time.sleep(RELOAD_MAX_S)   # the load: the sidecar is held past the command's end
        events = sc.sync()
        return sc.file_changes(events), sc.edits("a.py", events)


def test_a_write_seen_late_is_the_command_that_ran_when_it_was_written(tmp_path: Path) -> None:
    changes, _ = _sed_while_an_agent_idles(tmp_path, open_file=False)
    got = [(c["file"], c["source"], c.get("agent"), c.get("command")) for c in changes if c["file"] == "a.py"]
    assert got == [("a.py", "external", None, "sed -i s/1/7/ a.py")], got


def test_a_reload_and_its_write_seen_late_are_the_command_that_wrote(tmp_path: Path) -> None:
    changes, edits = _sed_while_an_agent_idles(tmp_path, open_file=True)
    got = [(c["file"], c["source"], c.get("agent")) for c in changes if c["file"] == "a.py"]
    assert got == [("a.py", "external", None)], got
    assert [(e["source"], e.get("agent")) for e in edits] == [("external", None)], edits


def test_the_write_time_is_the_files_mtime_within_bounds(tmp_path: Path) -> None:
    from crowd.server.watch.content import COARSE_TICK_NS, written_ns

    f = tmp_path / "f.txt"
    before = time.monotonic_ns()
    f.write_text("x\n")
    seen = time.monotonic_ns() + 500_000_000   # its event handled half a second later (load)
    got = written_ns(str(f), seen)
    assert before - COARSE_TICK_NS <= got <= time.monotonic_ns() + COARSE_TICK_NS
    assert written_ns(str(f), before - 1_000_000_000) == before - 1_000_000_000   # written again since its event
    os.utime(f, (time.time() - 3600, time.time() - 3600))                          # cp -p, tar: not this write
    assert written_ns(str(f), seen) == seen
    assert written_ns(str(tmp_path / "gone"), seen) == seen
