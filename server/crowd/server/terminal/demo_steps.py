"""``crowd demo`` step for terminals: commands run in a real PTY, reported as the bridge does.

The editor bridge forwards a shell execution as ``terminal_exec_start``, the raw output
(``terminal_data``) and ``terminal_exec_end``. Here the commands really run in a PTY in the
demo workspace, and their real output bytes are forwarded; the sidecar's terminal component
records the screens (10 Hz) and the commands with exit codes.
"""
from __future__ import annotations

import os
import pty
import sys
import time
from typing import Any

from crowd.server.workspace.folders import path_to_uri

COMMANDS = [
    f"{sys.executable} src/app.py",
    "ls --color=always -la src",
    f"{sys.executable} -c \"import sys; print('\\x1b[31mfailing check\\x1b[0m'); sys.exit(3)\"",
]


def _run_in_pty(argv: list[str], cwd: str) -> tuple[bytes, int]:
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execvpe(argv[0], argv, dict(os.environ, TERM="xterm-256color"))
    out = b""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return out, os.waitstatus_to_exitcode(status)


def step_terminal(ctx: Any) -> None:
    term = "term-demo"
    cwd = path_to_uri(ctx.workspace)
    ctx.send({"kind": "terminal_open", "terminal": term, "name": "bash"})
    ctx.send({"kind": "terminal_resize", "terminal": term, "name": "bash", "rows": 12, "cols": 60})
    ctx.send({"kind": "terminal_focus", "terminal": term, "name": "bash"})
    for i, command in enumerate(COMMANDS):
        exec_id = f"exec-{i}"
        ctx.send({"kind": "terminal_exec_start", "terminal": term, "exec": exec_id, "command": command,
                  "cwd": cwd})
        output, code = _run_in_pty(["sh", "-c", command], str(ctx.workspace))
        ctx.send({"kind": "terminal_data", "terminal": term, "exec": exec_id,
                  "data": f"$ {command}\r\n" + output.decode("utf-8", "replace")})
        ctx.send({"kind": "terminal_exec_end", "terminal": term, "exec": exec_id, "command": command,
                  "cwd": cwd, "exitCode": code})
        ctx.flush()
    _wait_for_screen(ctx)


def _wait_for_screen(ctx: Any, timeout: float = 30.0) -> None:
    """Screens are sampled at 10 Hz: wait until the last output is on disk."""
    from crowd.format import read_recording  # noqa: PLC0415

    recording = ctx.client.status()["recording"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ctx.client.request("crowd/flush")
        events = read_recording(recording).events
        if any(e["kind"] == "terminal_screen" and "failing check" in "\n".join(e["lines"]) for e in events):
            return
        time.sleep(0.1)


DEMO_STEPS = [("run commands in a terminal", step_terminal)]
