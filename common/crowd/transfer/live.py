"""Which recording files a live process still holds open for writing.

Why: ``crowd upload run`` took a recording's last segment once it had been idle for
``--idle`` seconds and, the session looking over, deleted it after upload, while a paused
sidecar still held it open and went on writing into the deleted file (issue 13 item 6).
Idle time cannot tell a paused writer from a crashed one; the kernel can: the recording
writer (crowd.format.writer) and the desktop encoder keep their current segment open
until they finish it. So a file that any process has open with write access is live,
however old its mtime, and is neither bundled nor counted as the end of its session.

How: ``/proc/<pid>/fd/*`` links name the open files, ``/proc/<pid>/fdinfo/<fd>`` their
access mode; ``/proc/locks`` names the folders a live editor writer holds its ``flock`` on
(crowd.format.writer takes one on its recording folder for its whole life, so a writer
between two segments, holding no segment open, is still seen). Looking never takes a lock,
so it cannot get in a starting writer's way. Only processes this user may inspect are seen (all of them as root); on a
system without ``/proc`` nothing is seen, and idle time decides as before. Measured here:
one scan of ~130 processes takes ~20 ms (so `crowd upload run` looks once per scan).
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")


def _writable(pid: str, fd: str) -> bool:
    try:
        for line in (PROC / pid / "fdinfo" / fd).read_text().splitlines():
            if line.startswith("flags:"):
                return int(line.split()[1], 8) & 0o3 != 0    # O_WRONLY or O_RDWR
    except (OSError, ValueError, IndexError):
        pass
    return True   # cannot tell: treat as written, never delete what might be live


def open_for_writing(candidates: Iterable[Path]) -> set[Path]:
    """The ``candidates`` that some process holds open for writing now."""
    wanted = {str(Path(p).resolve()): Path(p) for p in candidates}
    found: set[Path] = set()
    if not wanted or not PROC.is_dir():
        return found
    for pid in os.listdir(PROC):
        if not pid.isdigit():
            continue
        fd_dir = PROC / pid / "fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd_dir / fd)
            except OSError:
                continue
            target = target.removesuffix(" (deleted)")
            if target in wanted and _writable(pid, fd):
                found.add(wanted[target])
    return found


def _lock_id(path: Path) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"


def locked_folders(candidates: Iterable[Path]) -> set[Path]:
    """The ``candidates`` (folders) some live process holds an ``flock`` on now."""
    wanted = {lid: Path(p) for p in candidates if (lid := _lock_id(Path(p))) is not None}
    try:
        lines = (PROC / "locks").read_text().splitlines()
    except OSError:
        return set()
    found: set[Path] = set()
    for line in lines:
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF" (a "->" marks a waiting lock)
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] in wanted:
            found.add(wanted[fields[5]])
    return found
