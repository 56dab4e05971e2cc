"""Import crowd-code 1.0 CSV recordings.

Columns ``Sequence,Time,File,RangeOffset,RangeLength,Text,Language,Type``; ``Time`` is ms
since the recording started, ``Text`` escapes newlines as literal ``\\n`` / ``\\r`` (1.0
does not escape backslashes, so a literal backslash-n in source code is indistinguishable
and comes back as a newline: a limit of the format, not of the importer). Rows whose
``File`` is ``TERMINAL`` are terminal text. 1.0 had no attribution: edits come in as
``user``. Terminal output is run through a real terminal emulator (pyte) so the replay shows
a screen, not a stream of escape sequences.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from crowd.format.schema import FORMAT_NAME, FORMAT_VERSION
from crowd.serializer.bulk import bulk

COLUMNS = ["Sequence", "Time", "File", "RangeOffset", "RangeLength", "Text", "Language", "Type"]
_ESCAPE = re.compile(r"\\([nr])")
TERMINAL_ID = "terminal-1"
ROWS, COLS = 24, 120


class Cc1ImportError(ValueError):
    """The file is not a crowd-code 1.0 CSV."""


def unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else "\r", text)


def is_cc1(path: Path) -> bool:
    path = Path(path)
    if not path.is_file() or path.suffix.lower() != ".csv":
        return False
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.readline().strip().lstrip("\ufeff").split(",")[:2] == COLUMNS[:2]


class _Terminal:
    """A real emulator for the output rows (imported lazily: pyte is a core dependency)."""

    def __init__(self) -> None:
        import pyte

        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.Stream(self.screen)

    def feed(self, text: str) -> tuple[list[str], list[int]]:
        self.stream.feed(text.replace("\r\n", "\n").replace("\n", "\r\n"))
        lines = [line.rstrip() for line in self.screen.display]
        return lines, [self.screen.cursor.y, self.screen.cursor.x]


@bulk
def import_cc1(path: Path | str, start_wall: int = 0) -> tuple[list[dict[str, Any]], list[str]]:
    """Our events and the problems found for a crowd-code 1.0 CSV file.

    ``start_wall`` (epoch ms) anchors ``wall``: 1.0 stores only time since start.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Cc1ImportError(f"{path}: not UTF-8 ({exc})") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames[:len(COLUMNS)]] != COLUMNS:
        raise Cc1ImportError(f"{path}: header is {reader.fieldnames!r}, expected {','.join(COLUMNS)}")
    problems: list[str] = []
    rows = []
    for lineno, row in enumerate(reader, start=2):
        try:
            rows.append((int(row["Sequence"]), int(float(row["Time"])), lineno, row))
        except (TypeError, ValueError):
            problems.append(f"line {lineno}: bad Sequence/Time {row.get('Sequence')!r}/{row.get('Time')!r}; row skipped")
    rows.sort(key=lambda r: (r[0], r[2]))
    out: list[dict[str, Any]] = []
    seq = 0
    last_t = 0

    def emit(type_: str, kind: str, ms: int, **fields: Any) -> None:
        nonlocal seq, last_t
        seq += 1
        last_t = max(last_t, ms * 1000)
        ev = {"seq": seq, "t": last_t, "wall": start_wall + last_t // 1000, "type": type_, "kind": kind}
        ev.update(fields)
        out.append(ev)

    emit("session", "start", 0, session_id=path.stem, format=FORMAT_NAME, format_version=FORMAT_VERSION,
         folders=[], client={"name": "crowd-code", "version": "1.0"}, settings={}, imported_from="crowd-code-1.0")
    seen: set[str] = set()
    active: str | None = None
    terminal: _Terminal | None = None
    for _, ms, lineno, row in rows:
        kind = (row.get("Type") or "").strip()
        file = row.get("File") or ""
        body = unescape(row.get("Text") or "")
        try:
            offset = int(row.get("RangeOffset") or 0)
            length = int(row.get("RangeLength") or 0)
        except ValueError:
            problems.append(f"line {lineno}: bad RangeOffset/RangeLength; row skipped")
            continue
        if kind == "tab":
            emit("action", "tab_switch", ms, source="user", file=file, previous_file=active)
            active = file
            if body and file not in seen:
                emit("observation", "file_content", ms, file=file, text=body)
            seen.add(file)
        elif kind == "content":
            emit("action", "edit", ms, source="user", file=file,
                 changes=[{"offset": offset, "length": length, "text": body}], reason=None, version=None)
        elif kind.startswith("selection"):
            emit("action", "selection", ms, source="user", file=file,
                 selections=[{"anchor": offset, "active": offset + length}], how=kind.removeprefix("selection_"))
        elif kind == "terminal_command":
            emit("action", "terminal_command", ms, source="user", terminal=TERMINAL_ID, command=body.rstrip("\r\n"),
                 cwd=None, exit_code=None, start_t=ms * 1000, end_t=None)
        elif kind == "terminal_output":
            terminal = terminal or _Terminal()
            lines, cursor = terminal.feed(body)
            emit("observation", "terminal_screen", ms, terminal=TERMINAL_ID, rows=ROWS, cols=COLS, lines=lines,
                 cursor=cursor, focused=True, title="terminal", alt_screen=False)
        elif kind == "terminal_focus":
            emit("action", "terminal_focus", ms, source="user", terminal=TERMINAL_ID, name=body or "terminal")
        elif kind == "git_branch_checkout":
            emit("action", "editor_command", ms, source="git_checkout", command="git.checkout", phase="end",
                 branch=body.strip())
        else:
            problems.append(f"line {lineno}: unknown Type {kind!r}; row skipped")
    return out, problems
