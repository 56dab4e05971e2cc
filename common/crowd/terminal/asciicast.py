"""asciicast v2 export (``crowd export --asciicast REC -o out.cast``): play a terminal's
recorded screens in asciinema's player.

A crowd recording keeps emulated screens, not the raw byte stream (which can be 100s of
MB of output nobody saw). Each ``terminal_screen`` observation becomes an ``"o"`` event
that redraws the rows that changed (with their colours and attributes), restores the
cursor and the title; size changes become ``"r"`` events and recorded keys ``"i"`` events
(withheld input stays withheld). Played back, the terminal shows exactly the recorded screen
at every sample.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wcwidth import wcwidth

_COLOURS = ["black", "red", "green", "brown", "blue", "magenta", "cyan", "white"]
_FLAG_SGR = {"b": "1", "i": "3", "u": "4", "r": "7", "s": "9", "k": "5"}


@dataclass
class CastResult:
    path: Path
    terminal: str | None
    frames: int = 0
    inputs: int = 0
    resizes: int = 0
    terminals: list[str] = field(default_factory=list)


def _colour(value: str, background: bool) -> list[str]:
    if value == "default":
        return []
    base = 40 if background else 30
    name = value.removeprefix("bright")
    if name in _COLOURS:
        bright = value.startswith("bright")
        return [str(base + _COLOURS.index(name) + (60 if bright else 0))]
    if len(value) == 6:
        try:
            r, g, b = int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
        except ValueError:
            return []
        return [str(base + 8), "2", str(r), str(g), str(b)]
    return []


def style_sgr(style: str) -> str:
    """``"red/default/bu"`` (see model.style_runs) -> ``"\\x1b[0;31;1;4m"``."""
    fg, bg, flags = (style.split("/") + ["", "", ""])[:3]
    codes = ["0", *_colour(fg, False), *_colour(bg, True), *(_FLAG_SGR[f] for f in flags if f in _FLAG_SGR)]
    return "\x1b[" + ";".join(codes) + "m"


def render_row(text: str, runs: list[list[Any]]) -> str:
    """One row's text with SGRs at the cell columns where its style runs start and end."""
    if not runs:
        return text
    starts = {run[0]: run for run in runs}
    ends = {run[0] + run[1] for run in runs}
    out = []
    col = 0
    for ch in text:
        if col in starts:
            out.append(style_sgr(starts[col][2]))
        elif col in ends:
            out.append("\x1b[0m")
        out.append(ch)
        w = wcwidth(ch) if not ch.isascii() else 1
        col += max(w, 0) if len(ch) == 1 else max(wcwidth(ch[0]), 0)
    out.append("\x1b[0m")
    return "".join(out)


def screen_update(prev: dict[str, Any] | None, cur: dict[str, Any]) -> str:
    """Escape sequences that turn screen ``prev`` (None: unknown) into ``cur``."""
    parts = ["\x1b[?25l"]
    full = prev is None or (prev["rows"], prev["cols"]) != (cur["rows"], cur["cols"])
    if full:
        parts.append("\x1b[0m\x1b[H\x1b[2J")
    styles = cur.get("styles") or [[] for _ in cur["lines"]]
    prev_styles = (prev.get("styles") if prev else None) or []
    for r, line in enumerate(cur["lines"]):
        runs = styles[r] if r < len(styles) else []
        if not full and r < len(prev["lines"]) and prev["lines"][r] == line and \
                (prev_styles[r] if r < len(prev_styles) else []) == runs:
            continue
        parts.append(f"\x1b[{r + 1};1H\x1b[0m\x1b[2K" + render_row(line.rstrip(" ") if not runs else line, runs))
    if prev is None or prev.get("title") != cur.get("title"):
        parts.append(f"\x1b]2;{cur.get('title') or ''}\x07")
    row, col = cur["cursor"]
    parts.append(f"\x1b[0m\x1b[{row + 1};{min(col, cur['cols'] - 1) + 1}H")
    if cur.get("cursor_visible", True):
        parts.append("\x1b[?25h")
    return "".join(parts)


def pick_terminal(events: list[dict[str, Any]], terminal: str | None) -> tuple[str | None, list[str]]:
    """The terminal to export and every terminal with screens; by default the first whose
    screens ever show text (a terminal opened and never used only shows blank screens)."""
    seen: list[str] = []
    used: list[str] = []
    for e in events:
        if e.get("kind") == "terminal_screen":
            if e.get("terminal") not in seen:
                seen.append(e["terminal"])
            if e.get("terminal") not in used and any(str(x).strip() for x in e.get("lines") or []):
                used.append(e.get("terminal"))
    if terminal is not None:
        return (terminal if terminal in seen else None), seen
    return ((used or seen)[0] if seen else None), seen


def export_asciicast(events: Iterable[dict[str, Any]], out: Path, terminal: str | None = None) -> CastResult:
    """Write the screens of ``terminal`` (default: the first one whose screens show text) as asciicast v2."""
    events = list(events)
    term, seen = pick_terminal(events, terminal)
    result = CastResult(Path(out), term, terminals=seen)
    if term is None:
        raise ValueError("no terminal_screen observations" + (f" for terminal {terminal!r}" if terminal else "")
                         + (f"; terminals: {', '.join(seen)}" if seen else ""))
    mine = [e for e in events if e.get("terminal") == term and e.get("kind") in
            ("terminal_screen", "terminal_input")]
    first = next(e for e in mine if e["kind"] == "terminal_screen")
    t0 = min(e["t"] for e in mine)
    start_wall = next((e.get("wall") for e in events if e.get("kind") == "start"), first.get("wall"))
    header = {"version": 2, "width": first["cols"], "height": first["rows"],
              "timestamp": int((start_wall or 0) / 1000), "env": {"TERM": "xterm-256color"},
              "title": first.get("title") or term}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    prev = None
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(header) + "\n")
        for e in mine:
            at = round((e["t"] - t0) / 1e6, 6)
            if e["kind"] == "terminal_input":
                if e.get("data"):
                    fh.write(json.dumps([at, "i", e["data"]]) + "\n")
                    result.inputs += 1
                continue
            if prev is not None and (prev["rows"], prev["cols"]) != (e["rows"], e["cols"]):
                fh.write(json.dumps([at, "r", f"{e['cols']}x{e['rows']}"]) + "\n")
                result.resizes += 1
            fh.write(json.dumps([at, "o", screen_update(prev, e)]) + "\n")
            result.frames += 1
            prev = e
    return result


def export_command(args: Any, load, resolve) -> int:
    """``crowd export --asciicast`` (the flag lives in serializer/commands.py)."""
    import sys  # noqa: PLC0415

    loaded = load(args.recording)
    if loaded is None:
        return 1
    out = Path(args.out)
    if out.is_dir() or str(args.out) in (".", ""):
        out = out / f"{resolve(args.recording).name or 'recording'}.cast"
    try:
        res = export_asciicast(loaded.events, out, terminal=args.terminal)
    except ValueError as exc:
        print(f"crowd export: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {res.path}: terminal {res.terminal}, {res.frames} screens, {res.inputs} inputs, "
          f"{res.resizes} resizes" + (f" (other terminals: {', '.join(t for t in res.terminals if t != res.terminal)})"
                                      if len(res.terminals) > 1 else ""))
    return 0
