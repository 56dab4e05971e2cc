"""``crowd term [-- CMD]``: run a program in a PTY and record it, like ``asciinema rec``.

The copy loop is the only thing between the user's keys and the program, so it does
nothing else: read, write to the other side, append ``(kind, t, bytes)`` to a queue, and
hand queued frames to a separate capture process (capture.py) with non-blocking writes
whenever its pipe has room. Emulation, sampling, compression and disk or sidecar I/O all
happen in that other process, so they never hold this process's GIL or make the loop wait;
this process has a single thread. If the capture process dies or falls behind, the terminal
keeps working (frames are dropped with a note on stderr once the backlog passes
``MAX_BACKLOG``).

Per input read, the PTY's termios is checked: ECHO off with ICANON on is how password
prompts (getpass, ``read -s``, sudo, ssh) read, and that input is sent as hidden. Raw-mode
programs (vim, readline, Claude Code) also turn ECHO off but are not canonical; their keys
are recorded.
"""
from __future__ import annotations

import collections
import errno
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
import tty
from pathlib import Path

from crowd.terminal import wire
from crowd.terminal.foreground import foreground_program
from crowd.terminal.shell import BASH_INTEGRATION

MAX_BACKLOG = 512 * 1024 * 1024
READ_SIZE = 65536


def now_us() -> int:
    return time.monotonic_ns() // 1000


def window_size(fd: int) -> tuple[int, int] | None:
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except OSError:
        return None
    return (rows, cols) if rows and cols else None


def set_window_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def echo_hidden(master_fd: int) -> bool:
    """True while the program reads a line without echo (a password prompt)."""
    try:
        lflag = termios.tcgetattr(master_fd)[3]
    except termios.error:
        return False
    return not (lflag & termios.ECHO) and bool(lflag & termios.ICANON)


class Outbox:
    """Frames for the capture process, written without ever blocking the copy loop.

    The copy loop appends ``(kind, t, bytes)`` (O(1)) and, whenever select() says the pipe to
    the capture process is writable, calls ``pump`` which encodes what queued (consecutive
    output chunks merged into one frame) and writes as much as the pipe takes. Everything
    runs on the copy loop's thread: no second thread competes for this process's GIL.
    """

    def __init__(self, fd: int, master_fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self.master_fd = master_fd
        self.queue: collections.deque[tuple[int, int, bytes]] = collections.deque()
        self.backlog = 0
        self.dropped = 0
        self.broken = False
        self._out = b""                 # encoded, partly written
        self._last_pump = 0.0
        self.program: str | None = None
        self._last_program_check = 0.0

    def put(self, kind: int, t: int, data: bytes) -> None:
        if self.broken:
            return
        if self.backlog > MAX_BACKLOG:
            self.dropped += len(data)
            return
        self.queue.append((kind, t, data))
        self.backlog += len(data)

    def wants_write(self) -> bool:
        return not self.broken and bool(self._out or self.queue)

    def due(self) -> bool:
        """Time to write: a partly written batch, 64 kB queued, or 5 ms since the last write.

        Batching keeps the capture process's per-frame work low in a firehose (PTY reads are
        ~4 kB) while adding at most 5 ms before bytes reach it.
        """
        if self.broken or not (self._out or self.queue):
            return False
        return bool(self._out) or self.backlog >= 65536 or time.monotonic() - self._last_pump >= 0.005

    def _encode(self, limit: int = 4 * 1024 * 1024) -> bytes:
        batch: list[bytes] = []
        output: list[bytes] = []
        output_t = 0
        size = 0
        while self.queue and size < limit:
            kind, t, data = self.queue.popleft()
            self.backlog -= len(data)
            size += len(data)
            if kind == wire.OUTPUT:          # consecutive output chunks travel as one frame
                output.append(data)
                output_t = t
                continue
            if output:
                batch.append(wire.frame(wire.OUTPUT, output_t, b"".join(output)))
                output = []
            batch.append(wire.frame(kind, t, data))
        if output:
            batch.append(wire.frame(wire.OUTPUT, output_t, b"".join(output)))
        return b"".join(batch)

    def pump(self) -> None:
        """Write what the pipe takes now; never blocks."""
        self._last_pump = time.monotonic()
        while not self.broken:
            if not self._out:
                if not self.queue:
                    return
                self._out = self._encode()
            try:
                n = os.write(self.fd, self._out)
            except BlockingIOError:
                return
            except OSError:                  # the capture process is gone: keep the terminal
                self.broken = True
                return
            self._out = self._out[n:]

    def flush_blocking(self, timeout: float = 30.0) -> None:
        """At exit: deliver everything (the program is done, waiting is fine now)."""
        deadline = time.monotonic() + timeout
        while self.wants_write() and time.monotonic() < deadline:
            select.select([], [self.fd], [], 0.5)
            self.pump()

    def check_program(self, active: bool) -> None:
        """At most 4 foreground lookups a second while there is activity, 1 when idle."""
        now = time.monotonic()
        if now - self._last_program_check < (0.25 if active else 1.0):
            return
        self._last_program_check = now
        name = foreground_program(master_fd=self.master_fd)
        if name and name != self.program:
            self.program = name
            self.put(wire.PROGRAM, now_us(), name.encode())


def shell_command(argv: list[str]) -> tuple[list[str], Path | None]:
    """The command to run; a bare bash gets crowd's shell integration via --rcfile."""
    if argv:
        return argv, None
    shell = os.environ.get("SHELL") or shutil.which("bash") or "/bin/sh"
    if os.path.basename(shell) == "bash":
        fd, path = tempfile.mkstemp(prefix="crowd-bashrc-", suffix=".sh")
        with os.fdopen(fd, "w") as fh:
            fh.write(BASH_INTEGRATION)
        return [shell, "--rcfile", path, "-i"], Path(path)
    return [shell], None


def record_terminal(argv: list[str], *, capture_args: list[str], name: str = "crowd term",
                    size: tuple[int, int] | None = None, stdin_fd: int = 0, stdout_fd: int = 1) -> int:
    """Run ``argv`` (or the user's shell) in a recorded PTY; returns its exit status."""
    command, rcfile = shell_command(argv)
    rows, cols = size or window_size(stdin_fd) or (24, 80)
    t0 = now_us()
    capture = subprocess.Popen([sys.executable, "-m", "crowd.terminal.capture", *capture_args],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True)
    pid, master = pty.fork()
    if pid == 0:   # child: the slave is our stdin/stdout/stderr and controlling terminal
        try:
            # Python ignores SIGPIPE/SIGXFSZ and exec keeps ignored signals ignored: give
            # the program the default dispositions a shell would (`yes | head` must end quietly).
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
            set_window_size(0, rows, cols)
            env = dict(os.environ, CROWD_TERM="1")
            env.setdefault("TERM", "xterm-256color")
            os.execvpe(command[0], command, env)
        except Exception as exc:  # noqa: BLE001
            os.write(2, f"crowd term: cannot run {command[0]}: {exc}\n".encode())
        os._exit(127)
    box = Outbox(capture.stdin.fileno(), master)
    box.put(wire.META, t0, json.dumps({"name": name, "rows": rows, "cols": cols, "t0": t0,
                                       "command": os.path.basename(command[0])}).encode())
    status = _copy_loop(pid, master, box, stdin_fd, stdout_fd)
    box.put(wire.EXIT, now_us(), str(status).encode())
    box.flush_blocking()
    try:
        capture.stdin.close()
    except OSError:
        pass
    try:
        capture.wait(timeout=60)
    except subprocess.TimeoutExpired:
        capture.kill()
        capture.wait()
    # a capture that did not end well lost what it had not written, even when every byte we
    # sent fitted into the pipe before it died (a kill lands asynchronously: under load the
    # writes after it still succeed, so ``broken`` alone missed it)
    gone = box.broken or capture.returncode != 0
    if box.dropped or gone:
        os.write(2, f"crowd term: the recording is incomplete ({box.dropped} bytes not recorded"
                    f"{', capture process gone' if gone else ''})\n".encode())
    if rcfile is not None:
        rcfile.unlink(missing_ok=True)
    os.close(master)
    return status


def _copy_loop(pid: int, master: int, box: Outbox, stdin_fd: int, stdout_fd: int) -> int:
    saved = None
    if os.isatty(stdin_fd):
        saved = termios.tcgetattr(stdin_fd)
        tty.setraw(stdin_fd, termios.TCSANOW)   # keep keys typed while we started
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)

    def on_winch(_sig, _frm) -> None:
        try:
            os.write(wake_w, b"w")
        except OSError:
            pass

    old_winch = signal.signal(signal.SIGWINCH, on_winch) if os.isatty(stdin_fd) else None
    fds = [master, stdin_fd, wake_r]
    stdin_open = True
    put = box.put
    OUTPUT, INPUT, INPUT_HIDDEN = wire.OUTPUT, wire.INPUT, wire.INPUT_HIDDEN
    try:
        while True:
            try:
                due = box.due()
                ready, writable, _ = select.select(fds, [box.fd] if due else [], [],
                                                   0.005 if box.wants_write() else 1.0)
            except InterruptedError:
                continue
            if master in ready:
                try:
                    data = os.read(master, READ_SIZE)
                except OSError as exc:
                    if exc.errno == errno.EIO:
                        break          # the program and everything on its terminal exited
                    raise
                if not data:
                    break
                _write_all(stdout_fd, data)
                put(OUTPUT, now_us(), data)
            # A resize that arrived with keys is applied first: the keys were typed into the
            # window at its new size.
            if wake_r in ready:
                os.read(wake_r, 64)
                size = window_size(stdin_fd)
                if size:
                    set_window_size(master, *size)
                    put(wire.RESIZE, now_us(), struct.pack("<HH", *size))
            if stdin_open and stdin_fd in ready:
                data = os.read(stdin_fd, READ_SIZE)
                if not data:
                    stdin_open = False
                    fds.remove(stdin_fd)
                    continue
                hidden = echo_hidden(master)
                _write_all(master, data)
                put(INPUT_HIDDEN if hidden else INPUT, now_us(), data)
            if writable or box.due():
                box.pump()
            box.check_program(bool(ready))
    finally:
        if saved is not None:
            termios.tcsetattr(stdin_fd, termios.TCSAFLUSH, saved)
        if old_winch is not None:
            signal.signal(signal.SIGWINCH, old_winch)
        os.close(wake_r)
        os.close(wake_w)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[n:]
