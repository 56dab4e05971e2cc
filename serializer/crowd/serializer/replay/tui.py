"""``crowd replay REC`` in a terminal: plain ANSI, no curses dependency.

Layout: a header (frame i/N, recording time, play state, speed, idle skip), the timeline bar
with snapshot markers, the editor pane (line numbers, cursors in reverse video), the
terminal pane, the diff of the last agent/git/external change, and the action log coloured
by actor. Keys: space play/pause, right/left step, up/down step 10, PgUp/PgDn 100,
Home/End, 0-9 seek to that tenth, n/p next/previous snapshot, +/- speed, i idle skip, q quit.

A recording is untrusted (imported, or crafted): its strings may hold escape sequences that
would retitle, recolour or reprogram the user's terminal, or move the cursor over the UI.
Every recorded string passes through ``visible`` before it is drawn, which turns each control
character into a visible stand-in of the same width; the only escape sequences written are
the UI's own.
"""
from __future__ import annotations

import os
import re
import select
import shutil
import sys
import termios
import time
import tty
from typing import Any

from crowd.serializer.replay.frames import SOURCE_COLORS, Frame, Player

# C0 controls -> their Unicode control pictures, DEL -> "␡", C1 controls (8-bit CSI/OSC...) -> "�"
_VISIBLE = {**{c: chr(0x2400 + c) for c in range(0x20)}, 0x7F: "\u2421", **{c: "\ufffd" for c in range(0x80, 0xA0)}}


def visible(text: object) -> str:
    """``text`` with every control character made a visible, one-column stand-in."""
    return str(text).translate(_VISIBLE)


_COLORS = {"green": 32, "magenta": 35, "yellow": 33, "cyan": 36, "red": 31, "white": 37}


def _c(text: str, color: str | None = None, bold: bool = False, reverse: bool = False, dim: bool = False) -> str:
    codes = []
    if bold:
        codes.append("1")
    if dim:
        codes.append("2")
    if reverse:
        codes.append("7")
    if color:
        codes.append(str(_COLORS[color]))
    return f"\x1b[{';'.join(codes)}m{text}\x1b[0m" if codes else text


def _fit(text: str, width: int) -> str:
    text = visible(str(text).replace("\t", "    ").replace("\r", ""))
    return text[:width]


def render(frame: Frame, width: int, height: int, playing: bool = False, speed: float = 1.0,
           idle_skip: bool = True, color: bool = True) -> list[str]:
    """The screen for ``frame`` as lines (ANSI colours unless ``color`` is False)."""
    c = _c if color else (lambda text, *a, **k: text)
    out: list[str] = []
    secs = frame.t / 1e6
    state = "playing" if playing else "paused"
    out.append(c(_fit(f" crowd replay  frame {frame.index + 1}/{frame.total}  t={secs:9.1f}s  {state}  "
                      f"speed x{speed:g}  idle-skip {'on' if idle_skip else 'off'}  "
                      f"[space play  <-/-> step  PgUp/PgDn  0-9 seek  n/p snapshot  +/- speed  i idle  q quit]", width), bold=True, reverse=True))
    bar = max(10, width - 2)
    cells = ["─"] * bar
    for s in frame.snapshots:
        cells[min(bar - 1, s * bar // max(frame.total, 1))] = "◆"
    pos = min(bar - 1, max(0, frame.index) * bar // max(frame.total, 1))
    cells[pos] = "●"
    out.append("[" + "".join(cells) + "]")
    log_rows = min(8, max(3, height // 5))
    diff_rows = 6 if frame.diff else 0
    term_rows = min(10, max(3, height // 4))
    editor_rows = max(3, height - len(out) - log_rows - diff_rows - term_rows - 4)
    ed = frame.editor
    title = f" {ed.file or '(no editor)'}" + ("" if ed.known else "  (viewport text only)")
    out.append(c(_fit("── editor" + title + " " + "─" * width, width), bold=True))
    cursor_lines = {}
    for line, col in ed.cursors:
        cursor_lines.setdefault(line, []).append(col)
    top = 0  # scroll inside the visible lines so the primary cursor stays in the pane
    if ed.cursors:
        row = ed.cursors[0][0] - ed.first_line
        if row >= editor_rows:
            top = min(row - editor_rows // 2, max(0, len(ed.lines) - editor_rows))
    for i in range(top, top + editor_rows):
        n = ed.first_line + i
        if i >= len(ed.lines):
            out.append(c("      ~", dim=True))
            continue
        text = visible(str(ed.lines[i]).removesuffix("\r").replace("\t", "    "))
        body = text[:width - 7]
        if n in cursor_lines and color:
            col = min(cursor_lines[n][0], len(body))
            ch = body[col] if col < len(body) else " "
            body = body[:col] + _c(ch, reverse=True) + body[col + 1:]
        mark = ">" if n in cursor_lines else " "
        out.append(c(f"{n + 1:5d}", dim=True) + mark + body)
    out.append(c(_fit(f"── terminal {frame.terminal_name} " + "─" * width, width), bold=True))
    tl = frame.terminal_lines[-term_rows:]
    for i in range(term_rows):
        out.append(_fit(tl[i], width) if i < len(tl) else "")
    if frame.diff:
        d = frame.diff
        out.append(c(_fit(f"── last {d.source} change: {d.summary} " + "─" * width, width), SOURCE_COLORS.get(d.source), bold=True))
        body = [x for x in (d.diff or "").splitlines() if not x.startswith(("---", "+++"))][:diff_rows - 1]
        for line in body:
            col = "green" if line.startswith("+") else "red" if line.startswith("-") else None
            out.append(c(_fit(line, width), col))
        out.extend([""] * (diff_rows - 1 - len(body)))
    out.append(c(_fit("── actions " + "─" * width, width), bold=True))
    for step in frame.log[-log_rows:]:
        who = (step.source or step.event.get("type", "")) + (f":{step.event['agent']}" if step.event.get("agent") else "")
        out.append(c(f"{visible(who):>14} ", SOURCE_COLORS.get(step.source, "white"), bold=True)
                   + _fit(step.summary, width - 15))
    return out[:height]


_KEY_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z~]|\x1bO[A-Za-z]|.", re.S)


def _read_keys(fd: int, timeout: float) -> list[str] | None:
    """Every key waiting on ``fd`` (several can arrive in one read), or None on timeout."""
    ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
    if not ready:
        return None
    data = os.read(fd, 1024).decode("utf-8", "replace")
    return _KEY_RE.findall(data)


_KEYS = {"\x1b[C": "right", "\x1b[D": "left", "\x1b[A": "up", "\x1b[B": "down", "\x1b[5~": "pgup",
         "\x1b[6~": "pgdn", "\x1b[H": "home", "\x1b[F": "end", "\x1b[1~": "home", "\x1b[4~": "end",
         "\x1bOC": "right", "\x1bOD": "left", "\x1bOA": "up", "\x1bOB": "down", "\x1bOH": "home", "\x1bOF": "end",
         "\x1b[7~": "home", "\x1b[8~": "end"}


def frame_indices(total: int, count: int) -> list[int]:
    """``count`` evenly spaced event indices ending at the last event, each at most once: asking
    for more frames than the recording has events gives every event once."""
    count = max(0, min(count, total))
    return [(total - 1) * (k + 1) // count if count > 1 else total - 1 for k in range(count)]


def run_tui(events: list[dict[str, Any]], speed: float = 1.0, idle_skip: bool = True, frames: int = 0) -> int:
    player = Player(events)
    if frames or not sys.stdin.isatty() or not sys.stdout.isatty():
        # non-interactive: evenly spaced frames as plain text (pipes, CI logs)
        width, height = 100, 40
        for index in frame_indices(len(events), frames or 3):
            player.seek(index)
            print("\n".join(render(player.frame(height), width, height, color=False)))
            print()
        return 0
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    playing = False
    player.seek(0)
    try:
        tty.setcbreak(fd)
        sys.stdout.write("\x1b[?1049h\x1b[?25l")
        next_at = time.monotonic()
        while True:
            width, height = shutil.get_terminal_size((100, 40))
            screen = render(player.frame(height), width, height, playing, speed, idle_skip)
            sys.stdout.write("\x1b[H\x1b[2J" + "\r\n".join(screen))
            sys.stdout.flush()
            timeout = max(0.0, next_at - time.monotonic()) if playing else 3600
            keys = _read_keys(fd, timeout)
            if keys is None:
                if playing:
                    player.step(1)
                    if player.position >= len(events) - 1:
                        playing = False
                    next_at = time.monotonic() + min(player.next_delay(speed, idle_skip), 2.0)
                continue
            for key in keys:
                name = _KEYS.get(key, key)
                if name == "q":
                    return 0
                playing, speed, idle_skip, next_at = _handle(name, player, playing, speed, idle_skip, next_at)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sys.stdout.write("\x1b[?25h\x1b[?1049l")
        sys.stdout.flush()


_MOVES = {"right": 1, "left": -1, "up": -10, "down": 10, "pgup": -100, "pgdn": 100}


def _handle(name: str, player: Player, playing: bool, speed: float, idle_skip: bool,
            next_at: float) -> tuple[bool, float, bool, float]:
    """One key's effect on the player and the playback settings."""
    if name == " ":
        playing = not playing
        next_at = time.monotonic() + min(player.next_delay(speed, idle_skip), 2.0)
    elif name in _MOVES:
        player.step(_MOVES[name])
    elif name == "home":
        player.seek(0)
    elif name == "end":
        player.seek(len(player.events) - 1)
    elif name in ("+", "="):
        speed = min(64.0, speed * 2)
    elif name == "-":
        speed = max(0.125, speed / 2)
    elif name == "i":
        idle_skip = not idle_skip
    elif name in ("n", "p"):  # next / previous snapshot marker
        marks = player.snapshot_indices
        pos = player.position
        target = next((m for m in marks if m > pos), None) if name == "n" else next((m for m in reversed(marks) if m < pos), None)
        if target is not None:
            player.seek(target)
    elif len(name) == 1 and name.isdigit():  # 0..9: seek to that tenth of the recording
        player.seek(int(name) * (len(player.events) - 1) // 10)
    return playing, speed, idle_skip, next_at
