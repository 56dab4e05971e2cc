"""Test helpers: real programs in real PTYs, and tmux as the reference terminal.

``PtyProgram`` runs a program on a fresh PTY of a given size and records every chunk its
output arrives in (what a recorder sees). ``TmuxPane`` is a detached tmux session whose
pane runs ``cat`` of a FIFO with output post-processing off, so bytes written to the FIFO
reach tmux's terminal emulator unchanged; after a chunk we append a window name (``ESC k``)
carrying a sequence number and poll ``#{window_name}`` until tmux shows it, so
``capture-pane`` then reflects exactly the bytes written so far (and ``#{pane_title}`` is
the programs' own title, compared too). A resize waits for the bytes before it first: tmux
reads the FIFO on its own schedule and would otherwise resize a screen that is behind.
"""
from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import fcntl
import termios

from crowd.terminal.model import TerminalModel

TMUX = shutil.which("tmux")


class Timeout(AssertionError):
    pass


class PtyProgram:
    """A real program on a real PTY; ``expect`` waits for output, ``send`` types."""

    def __init__(self, argv: list[str], rows: int = 24, cols: int = 80, env: dict | None = None,
                 cwd: str | None = None, keep: int | None = None) -> None:
        self.rows, self.cols = rows, cols
        self.keep = keep                 # keep only the last ``keep`` bytes (firehose tests)
        self.total = 0
        self.last_output_wall = 0.0
        self.chunks: list[bytes] = []
        self.output = b""
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color",
                    "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": os.environ.get("HOME", "/root")}
        full_env.update(env or {})
        pid, fd = pty.fork()
        if pid == 0:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            if cwd:
                os.chdir(cwd)
            try:
                os.execvpe(argv[0], argv, full_env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.exited = False

    def read_available(self, timeout: float) -> bool:
        """Take what the program wrote within ``timeout`` s into ``output``; False once it exited."""
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            self.exited = True
            return False
        if not data:
            self.exited = True
            return False
        self.total += len(data)
        self.last_output_wall = time.time()
        if self.keep is not None:
            self.output = (self.output + data)[-self.keep:]
            return True
        self.chunks.append(data)
        self.output += data
        return True

    def expect(self, pattern: bytes | str, timeout: float = 30.0, since: int | None = None) -> None:
        """Wait until the output (from byte ``since``, default: everything) matches ``pattern``."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        start = 0 if since is None else since
        deadline = time.monotonic() + timeout
        while not rx.search(self.output, start):
            if self.exited or time.monotonic() > deadline:
                raise Timeout(f"did not see {rx.pattern!r}; last output: {self.output[-300:]!r}")
            self.read_available(0.1)

    def resize(self, rows: int, cols: int) -> None:
        """Resize the PTY (the kernel sends SIGWINCH); recorded in ``chunks`` as a marker."""
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.chunks.append(("resize", rows, cols))     # rows/cols stay the initial size

    def merge_since(self, index: int) -> None:
        """Join the output chunks from ``index`` on into one (a redraw compared as a whole)."""
        tail = self.chunks[index:]
        if tail and all(isinstance(c, bytes) for c in tail):
            self.chunks[index:] = [b"".join(tail)]

    def mark(self) -> int:
        return len(self.output)

    def send(self, data: bytes | str) -> None:
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def type(self, text: str, settle: bytes | None = None) -> None:
        """Type key by key (one read per key, like a person)."""
        for ch in text:
            at = self.mark()
            self.send(ch)
            if settle is not None:
                self.expect(re.escape(settle), since=at)

    def wait_exit_rusage(self, timeout: float = 120.0):
        """Read until the program exits; returns (exit code, resource usage of its tree)."""
        deadline = time.monotonic() + timeout
        while not self.exited:
            if time.monotonic() > deadline:
                self.kill()
                raise Timeout("program did not exit")
            self.read_available(0.2)
        _, status, usage = os.wait4(self.pid, 0)
        return os.waitstatus_to_exitcode(status), usage

    def wait_exit(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while not self.exited and time.monotonic() < deadline:
            self.read_available(0.1)
        try:
            _, status = os.waitpid(self.pid, 0 if self.exited else os.WNOHANG)
        except ChildProcessError:
            status = 0
        if not self.exited:
            self.kill()
            raise Timeout("program did not exit")
        return os.waitstatus_to_exitcode(status)

    def drain(self, quiet: float = 0.3, limit: float = 5.0) -> None:
        """Read until the program is quiet for ``quiet`` seconds (used only to collect bytes)."""
        deadline = time.monotonic() + limit
        n = -1
        while n != len(self.output) and time.monotonic() < deadline:
            n = len(self.output)
            self.read_available(quiet)

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        try:
            os.close(self.fd)
        except OSError:
            pass


class TmuxPane:
    """A tmux pane of ``rows`` x ``cols`` fed raw bytes through a FIFO."""

    def __init__(self, rows: int, cols: int) -> None:
        assert TMUX, "tmux is installed by scripts/setup.sh"
        self.dir = Path(tempfile.mkdtemp(prefix="crowd-tmux-"))
        self.sock = str(self.dir / "sock")
        fifo = self.dir / "fifo"
        os.mkfifo(fifo)
        self._tmux("-f", "/dev/null", "new-session", "-d", "-x", str(cols), "-y", str(rows),
                   f"stty raw -echo -opost; exec cat {fifo}")
        self._tmux("set", "-g", "status", "off")
        self._tmux("set", "-g", "remain-on-exit", "on")
        self._tmux("set", "-g", "window-size", "manual")
        self._tmux("set", "-g", "allow-rename", "on")
        self.fd = os.open(fifo, os.O_WRONLY)
        self.seq = 0
        self.write(b"\x1b]2;\x07")           # the title starts empty, as in our model

    def resize(self, rows: int, cols: int) -> None:
        self.sync()
        self._tmux("resize-window", "-x", str(cols), "-y", str(rows))

    def _tmux(self, *args: str) -> str:
        return subprocess.run([TMUX, "-S", self.sock, *args], check=True, capture_output=True,
                              text=True).stdout

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]

    def sync(self, timeout: float = 30.0) -> None:
        """Return once tmux has processed everything written so far."""
        self.seq += 1
        tag = f"crowd-sync-{self.seq}"
        self.write(f"\x1bk{tag}\x1b\\".encode())
        deadline = time.monotonic() + timeout
        while True:
            if self._tmux("display", "-p", "#{window_name}").strip() == tag:
                return
            if time.monotonic() > deadline:
                raise Timeout("tmux did not catch up")
            time.sleep(0.002)

    def screen(self) -> tuple[list[str], tuple[int, int]]:
        """Visible text and cursor. tmux keeps DEC line-drawing cells as ASCII with a charset
        flag; ``-e`` marks them with SO/SI, and they are shown as the glyphs a user sees."""
        text = self._tmux("capture-pane", "-p", "-N", "-e")
        lines = _glyphs(text).split("\n")[:-1]    # SO/SI state runs across lines
        cx, cy = self._tmux("display", "-p", "#{cursor_x},#{cursor_y}").strip().split(",")
        return lines, (int(cy), int(cx))

    def title(self) -> str:
        return self._tmux("display", "-p", "#{pane_title}").rstrip("\n")

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass
        subprocess.run([TMUX, "-S", self.sock, "kill-server"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\\\)")


def _glyphs(text: str) -> str:
    from pyte.charsets import VT100_MAP  # noqa: PLC0415

    out, graphics = [], False
    for ch in _CSI.sub("", text):
        if ch == "\x0e":
            graphics = True
        elif ch == "\x0f":
            graphics = False
        else:
            out.append(ch.translate(VT100_MAP) if graphics else ch)
    return "".join(out)


@dataclass
class OracleResult:
    points: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def identical(self) -> int:
        return self.points - len(self.mismatches)


def safe_boundary(model: TerminalModel) -> bool:
    """Nothing half-parsed: no unfinished escape sequence or UTF-8 character."""
    return not model.mid_sequence


def compare_with_tmux(chunks: list, rows: int, cols: int, *, every: int = 1,
                      fast: bool = True, check_cursor: bool = True) -> OracleResult:
    """Feed ``chunks`` to our model and to tmux; compare text (and cursor) at each boundary.

    A chunk ``("resize", rows, cols)`` resizes both at that point of the stream."""
    model = TerminalModel(rows, cols, fast=fast)
    pane = TmuxPane(rows, cols)
    result = OracleResult()
    try:
        for i, chunk in enumerate(chunks):
            if isinstance(chunk, tuple):
                model.resize(chunk[1], chunk[2])
                pane.resize(chunk[1], chunk[2])
                continue
            model.feed(chunk)
            pane.write(chunk)
            last = i == len(chunks) - 1
            if not last and (i % every):
                continue
            model.catch_up()
            if not safe_boundary(model):
                continue
            pane.sync()
            lines, cursor = pane.screen()
            ours = [line.rstrip() for line in model.screen.text_lines()]
            theirs = [line.rstrip() for line in lines]
            result.points += 1
            problems = []
            if ours != theirs:
                diff = [f"  row {r}: ours {a!r}\n  row {r}: tmux {b!r}"
                        for r, (a, b) in enumerate(zip(ours, theirs)) if a != b]
                problems.append("text differs:\n" + "\n".join(diff[:6]))
            ours_cursor = model.screen.cursor_pos()
            if check_cursor and tuple(ours_cursor) != cursor and ours == theirs:
                problems.append(f"cursor ours {ours_cursor} tmux {cursor}")
            if model.title != pane.title():
                problems.append(f"title ours {model.title!r} tmux {pane.title()!r}")
            if problems:
                result.mismatches.append(f"after chunk {i} (byte {sum(len(c) for c in chunks[:i + 1] if isinstance(c, bytes))}): "
                                         + "; ".join(problems))
    finally:
        pane.close()
    return result
