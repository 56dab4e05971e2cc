"""Which known CLI agents (claude, codex, aider, gemini...) run in the recorded terminals.

WHY a process scan: a file write carries no author, and inotify does not say which process
wrote. What we can know is which agent processes were alive when the write happened. A
poller samples /proc every ``interval`` seconds and keeps, per agent process, the interval
it was seen alive; a change at time t is the agent's when an agent was alive at t. Agents
are recognised by the executable name or, for script launchers (node, python, bun, deno),
by the script's name. Scope: descendants of given shell pids when the caller passes them
(``shell_pids``; the sidecar passes none: editors do not report their terminals' pids), else
processes whose working directory is inside a workspace folder. The session's terminal
service names the program in each recorded terminal's foreground (``foreground``); an agent
there counts too.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

DEFAULT_AGENTS = ("claude", "codex", "aider", "gemini", "cursor-agent", "opencode", "goose", "amp",
                  "qwen", "copilot", "crush", "cline", "continue", "openhands", "devin")
LAUNCHERS = ("node", "nodejs", "python", "python3", "bun", "deno", "npx", "uv", "uvx", "pipx")


@dataclass
class Seen:
    name: str
    pid: int
    first_ns: int
    last_ns: int
    alive: bool = True
    started_ns: int | None = None   # the process's start (from /proc, monotonic); None: unknown


CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def start_ns(ticks: int) -> int:
    """Monotonic ns of a process start given in clock ticks since boot (/proc/<pid>/stat
    field 22). CLOCK_BOOTTIME is the clock /proc counts from; it and the monotonic clock
    differ by the time suspended, read now. Resolution: one tick (10 ms at 100 Hz)."""
    since_boot = ticks * 1_000_000_000 // CLK_TCK
    return time.monotonic_ns() - (time.clock_gettime_ns(time.CLOCK_BOOTTIME) - since_boot)


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def agent_name(argv: list[str], comm: str, names: Iterable[str]) -> str | None:
    """The agent a process is, from its argv (and /proc comm), or None."""
    names = tuple(names)

    def base(s: str) -> str:
        b = os.path.basename(s)
        for suffix in (".js", ".mjs", ".cjs", ".py", ".exe"):
            if b.endswith(suffix):
                b = b[: -len(suffix)]
        return b

    candidates = [comm]
    if argv:
        candidates.append(base(argv[0]))
        if base(argv[0]).rstrip("0123456789.") in LAUNCHERS:
            for arg in argv[1:3]:
                if not arg.startswith("-"):
                    candidates.append(base(arg))
                    break
    for c in candidates:
        if c in names:
            return c
    return None


class AgentScanner:
    """Samples running processes; answers "which agent was running at time t"."""

    def __init__(
        self,
        names: Iterable[str] = DEFAULT_AGENTS,
        *,
        folders: Callable[[], list[str]] | None = None,
        shell_pids: Callable[[], Iterable[int] | None] | None = None,
        foreground: Callable[[], dict[str, str | None]] | None = None,
        interval: float = 0.2,
    ) -> None:
        self.names = tuple(names)
        self.folders = folders or (lambda: [])
        self.shell_pids = shell_pids
        self.foreground = foreground   # {terminal id: foreground program}, from the terminal component
        self.interval = interval
        self.seen: dict[Any, Seen] = {}     # pid, or "terminal:<id>" for a terminal's foreground
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.samples = 0
        self._decided: dict[tuple[int, str, str], str | None] = {}
        self._prefixes = tuple(n[:15] for n in self.names)   # /proc comm is cut at 15 bytes

    def start(self) -> None:
        self.sample()
        self._thread = threading.Thread(target=self._run, name="crowd-agent-scan", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except Exception:  # noqa: BLE001 - /proc races must not stop the scanner
                pass

    def _in_scope(self, pid: int, parents: dict[int, int], roots: set[int] | None) -> bool:
        if roots is not None:
            p, hops = pid, 0
            while p > 1 and hops < 64:
                if p in roots:
                    return True
                p, hops = parents.get(p, 0), hops + 1
            return False
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            return False
        return any(cwd == f or cwd.startswith(f.rstrip("/") + "/") for f in self.folders())

    def sample(self) -> None:
        """One pass over /proc: stat for every process, cmdline only for candidates, and each
        (pid, start time) decided once, so a sample stays cheap on a busy machine."""
        now = time.monotonic_ns()
        parents: dict[int, int] = {}
        matched: dict[int, tuple[str, int]] = {}
        cache = self._decided
        fresh: dict[tuple[int, str, str], str | None] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            try:
                stat = _read(f"/proc/{pid}/stat").decode("utf-8", "replace")
                close = stat.rindex(")")
                comm = stat[stat.index("(") + 1: close]
                fields = stat[close + 2:].split()
                parents[pid] = int(fields[1])
                key = (pid, fields[19], comm)   # start time: a reused pid is another process; comm: exec
            except (OSError, ValueError, IndexError):
                continue
            if key in cache:
                name = cache[key]
            elif comm in self.names or comm.rstrip("0123456789.") in LAUNCHERS or comm.startswith(self._prefixes):
                try:
                    argv = [a.decode("utf-8", "replace") for a in _read(f"/proc/{pid}/cmdline").split(b"\0") if a]
                except OSError:
                    continue
                name = agent_name(argv, comm, self.names)
            else:
                name = None
            fresh[key] = name
            if name is not None:
                matched[pid] = (name, int(fields[19]))
        self._decided = fresh
        pids = self.shell_pids() if self.shell_pids is not None else None
        roots = set(pids) if pids is not None else None   # None: no terminal component, cwd scope
        alive: set[Any] = set()
        programs: dict[str, str | None] = {}
        if self.foreground is not None:
            try:
                programs = self.foreground()
            except Exception:  # noqa: BLE001 - the terminal component's problem, not ours
                programs = {}
        with self._lock:
            for term, program in programs.items():
                if program in self.names:
                    key = f"terminal:{term}"
                    alive.add(key)
                    seen = self.seen.get(key)   # type: ignore[call-overload]
                    if seen is None or seen.name != program or not seen.alive:
                        self.seen[key] = Seen(program, -1, now, now)   # type: ignore[index]
                    else:
                        seen.last_ns = now
            for pid, (name, ticks) in matched.items():
                if not self._in_scope(pid, parents, roots):
                    continue
                alive.add(pid)
                seen = self.seen.get(pid)
                if seen is None or seen.name != name or not seen.alive:
                    self.seen[pid] = Seen(name, pid, now, now, started_ns=min(now, start_ns(ticks)))
                else:
                    seen.last_ns = now
            for pid, seen in self.seen.items():
                if seen.alive and pid not in alive:
                    seen.alive = False
                    seen.last_ns = now
            self.samples += 1

    def agent_at(self, t_ns: int, slack_ns: int | None = None) -> str | None:
        """The agent alive at monotonic time ``t_ns`` (the most recently started one)."""
        # A process's start is read from /proc: a write before it is not its own (``black f.py
        # && claude``). Without it (a terminal's foreground program) it started within one
        # interval before it was first seen. One seen gone at sample S died within one
        # interval before S (last_ns is S itself).
        slack = int(self.interval * 1.5e9) if slack_ns is None else slack_ns
        best: Seen | None = None
        with self._lock:
            for seen in self.seen.values():
                end = time.monotonic_ns() if seen.alive else seen.last_ns
                begin = seen.started_ns if seen.started_ns is not None else seen.first_ns - slack
                if begin <= t_ns <= end and (best is None or begin > (best.started_ns or best.first_ns)):
                    best = seen
        return best.name if best else None

    def running(self) -> list[str]:
        with self._lock:
            return sorted({s.name for s in self.seen.values() if s.alive})
