"""CPU seconds used by a process and everything it started, for "throughput per core".

Why not ``time.process_time()``: a stage's work happens in other processes too (the weed
store answering PUTs and GETs, Ray's raylet, GCS and worker processes). Summing
utime+stime+cutime+cstime over our process and all its live descendants (from /proc) counts
a process while it runs and, once its parent reaps it, in the parent's cutime: never twice.
A stage's cost is the difference of two such sums; per-core throughput is items per
CPU-second, which does not depend on how many cores the stage happened to get on a shared
machine.
"""
from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds incl. reaped children) of one process, None when gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2:].split()   # the command name may hold spaces and parens
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return ppid, (utime + stime + cutime + cstime) / TICKS


def tree_cpu_seconds(root: int | None = None) -> float:
    """CPU seconds of ``root`` (default: this process) and all its live descendants."""
    root = os.getpid() if root is None else root
    table: dict[int, tuple[int, float]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None:
                table[int(entry.name)] = st
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][1]
        todo.extend(children.get(pid, []))
    return total
