"""Which program runs in a terminal's foreground (names CLI agents: claude, codex, aider...).

The kernel knows the terminal's foreground process group: ``tcgetpgrp`` on the PTY (the
master side answers for the slave on Linux), or field ``tpgid`` of ``/proc/<pid>/stat`` of
any process on that terminal (the shell's pid is enough, e.g. from an editor). The group
leader's ``comm`` is the program name; Node CLIs set it through ``process.title``, so
Claude Code shows as ``claude``. For interpreters (node, python) whose comm is generic, the
script name from ``cmdline`` is used.
"""
from __future__ import annotations

import os
from pathlib import Path

INTERPRETERS = {"node", "python", "python3", "bun", "deno", "ruby", "perl"}


def foreground_pgid(master_fd: int | None = None, pid: int | None = None) -> int | None:
    if master_fd is not None:
        try:
            return os.tcgetpgrp(master_fd)
        except OSError:
            return None
    if pid is not None:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        fields = stat[stat.rfind(")") + 2:].split()
        tpgid = int(fields[5])      # state ppid pgrp session tty_nr tpgid
        return tpgid if tpgid > 0 else None
    return None


def program_name(pid: int) -> str | None:
    """A short program name for ``pid``: comm, or the script for generic interpreters."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    if comm.split(".")[0].rstrip("0123456789.") in INTERPRETERS or comm in INTERPRETERS:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return comm
        args = [a.decode("utf-8", "replace") for a in argv[1:] if a]
        for i, arg in enumerate(args):
            if arg == "-c":
                return comm           # inline code: no script name to show
            if arg == "-m" and i + 1 < len(args):
                return args[i + 1]
            if not arg.startswith("-"):
                return os.path.basename(arg).removesuffix(".js").removesuffix(".py") or comm
    return comm


def foreground_program(master_fd: int | None = None, pid: int | None = None) -> str | None:
    """The foreground program's name of a terminal given its PTY master or a pid on it."""
    pgid = foreground_pgid(master_fd, pid)
    return program_name(pgid) if pgid else None
