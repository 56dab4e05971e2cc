"""Import crowd-code 1.0 CSV recordings.

Columns ``Sequence,Time,File,RangeOffset,RangeLength,Text,Language,Type``; ``Time`` is ms
since the recording started, ``Text`` escapes CR/LF/tab as literal ``\\r``/``\\n``/``\\t``
(1.0 does not escape backslashes, so a literal backslash-n in source code is indistinguishable
and comes back as a newline: a limit of the format, not of the importer). Rows whose
``File`` is ``TERMINAL`` are terminal text. 1.0 had no attribution: edits come in as
``user``. Terminal output is run through our terminal model (``crowd.terminal``) so the replay shows
a screen, not a stream of escape sequences; each command is shown behind a ``$`` prompt
(1.0 records the command line and the output, not what the shell echoed).

What real files hold, and why the importer follows the anchors' readers there (reading the
rows themselves, repairs included, is ``cc1_csv``'s job):

- a ``tab`` row with text is the file's whole text (sent after a branch checkout, and on every
  tab switch before June 2025): it *replaces* the file, otherwise later offsets drift;
- ``Time`` is not needed to rebuild anything: a row whose ``Time`` is no number is kept, at
  the time of the row before it;
- real files are ``crowd-code-<session>-<timestamp>/source.csv``: the session id comes from
  that folder (1.0's session id is VS Code's window session, shared by every recording made
  in one window, so the id keeps the timestamp too), so two recordings never import to the
  same place; the folder's time (the recorder's local time) anchors ``wall``;
- a branch checkout's text is ``Switched from branch 'a' to 'b'``: the branch is ``b``;
- an import that keeps nothing is an error, never an empty recording.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from crowd.format.schema import FORMAT_NAME, FORMAT_VERSION
from crowd.serializer.bulk import bulk
from crowd.serializer.interop.cc2_layout import parse_stamp
from crowd.serializer.interop.screens import Cc1Terminal
from crowd.serializer.interop.cc1_csv import (
    COLUMNS,
    Cc1ImportError,
    RawRow,
    parse_time,
    preview,
    read_rows,
    unescape,
)

__all__ = ["COLUMNS", "Cc1ImportError", "import_cc1", "is_cc1", "session_id_for", "unescape"]

TERMINAL_ID = "terminal-1"
ROWS, COLS = 24, 120
_CHECKOUT = re.compile(r"Switched from branch '(?P<old>.*?)' to '(?P<new>.*)'", re.DOTALL)
_FOLDER = re.compile(r"crowd-code-(?P<id>.+)")
_STAMP = re.compile(r"-(\d{4}_\d{2}_\d{2}-\d{2}\.\d{2}\.\d{2}(?:\.\d{1,3})?)$")


def is_cc1(path: Path) -> bool:
    path = Path(path)
    if not path.is_file() or path.suffix.lower() != ".csv":
        return False
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.readline().strip().lstrip("\ufeff").split(",")[:2] == COLUMNS[:2]


def folder_start_ms(path: Path | str) -> int | None:
    """Epoch ms of the time in a real file's folder name (``...-YYYY_MM_DD-HH.MM.SS.mmm``,
    the recorder's local time, read in this machine's local time), or None."""
    m = _STAMP.search(Path(path).resolve().parent.name)
    return parse_stamp(m.group(1)) if m else None


def session_id_for(path: Path | str, data: bytes | None = None) -> str:
    """The session id of a 1.0 file: every real file is named ``source.csv`` inside a
    ``crowd-code-<session>-<timestamp>`` folder, so the folder names the session. Any other
    file is named by its stem and a hash of its bytes (``notes-1a2b3c4d``), so two different
    files that share a name never share a session id (in ``crowd import`` or a dataset), and
    the same file always gets the same one."""
    path = Path(path).resolve()
    if path.stem.lower() == "source" and path.parent.name:
        m = _FOLDER.fullmatch(path.parent.name)
        return m.group("id") if m else path.parent.name
    digest = hashlib.sha256(path.read_bytes() if data is None else data).hexdigest()[:8]
    return f"{path.stem}-{digest}"


def parse_checkout(text: str) -> tuple[str, str | None]:
    """(branch, previous branch) of a ``git_branch_checkout`` row's text; a text that is not
    1.0's sentence is taken as a bare branch name."""
    m = _CHECKOUT.fullmatch(text.strip())
    if m:
        return m.group("new"), m.group("old")
    return text.strip(), None


@bulk
def import_cc1(path: Path | str, start_wall: int | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Our events and the problems found for a crowd-code 1.0 CSV file.

    ``start_wall`` (epoch ms) anchors ``wall``: 1.0 stores only time since start; by default
    the time in the ``crowd-code-<id>-<time>`` folder's name, else 0. Raises Cc1ImportError
    when the file is not 1.0's or when not one row of it can be used.
    """
    path = Path(path)
    if start_wall is None:
        start_wall = folder_start_ms(path) or 0
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Cc1ImportError(f"{path}: not UTF-8 ({exc})") from exc
    raw_rows, problems = read_rows(text, str(path))
    rows: list[tuple[int, RawRow]] = []
    for row in raw_rows:
        try:
            rows.append((int(row.get("Sequence")), row))
        except ValueError:
            problems.append(f"line {row.line}: bad Sequence {row.get('Sequence')!r}; row skipped: "
                            f"{preview(','.join(row.fields))}")
    rows.sort(key=lambda r: (r[0], r[1].line))
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

    emit("session", "start", 0, session_id=session_id_for(path, raw), format=FORMAT_NAME,
         format_version=FORMAT_VERSION, folders=[], client={"name": "crowd-code", "version": "1.0"},
         settings={}, imported_from="crowd-code-1.0")
    active: str | None = None
    terminal: Cc1Terminal | None = None
    last_ms = 0
    untimed: list[RawRow] = []
    for _, row in rows:
        kind = row.get("Type").strip()
        file = row.get("File")
        body = unescape(row.get("Text"))
        ms = parse_time(row.get("Time"))
        if ms is None:  # the anchors ignore Time: keep the row, at the time of the row before
            untimed.append(row)
            ms = last_ms
        last_ms = ms
        offset = length = 0
        if kind in ("content", "selection_command", "selection_mouse", "selection_keyboard"):
            try:
                offset = int(row.get("RangeOffset"))
                length = int(row.get("RangeLength"))
            except ValueError:
                problems.append(f"line {row.line}: bad RangeOffset/RangeLength {row.get('RangeOffset')!r}/"
                                f"{row.get('RangeLength')!r}; {kind} row skipped")
                continue
        if kind == "tab":
            emit("action", "tab_switch", ms, source="user", file=file, previous_file=active)
            active = file
            if body:  # the file's whole text (first visit, after a checkout, every tab before 06/2025)
                emit("observation", "file_content", ms, file=file, text=body)
        elif kind == "content":
            emit("action", "edit", ms, source="user", file=file,
                 changes=[{"offset": offset, "length": length, "text": body}], reason=None, version=None)
        elif kind.startswith("selection_"):
            emit("action", "selection", ms, source="user", file=file,
                 selections=[{"anchor": offset, "active": offset + length}], how=kind.removeprefix("selection_"))
        elif kind == "terminal_command":
            command = body.rstrip("\r\n")
            emit("action", "terminal_command", ms, source="user", terminal=TERMINAL_ID, command=command,
                 cwd=None, exit_code=None, start_t=ms * 1000, end_t=None)
            terminal = terminal or Cc1Terminal(ROWS, COLS)
            lines, cursor = terminal.command(command)  # 1.0 records no prompt or echo: show the typed line
            emit("observation", "terminal_screen", ms, terminal=TERMINAL_ID, rows=ROWS, cols=COLS, lines=lines,
                 cursor=cursor, focused=True, title="terminal", alt_screen=False)
        elif kind == "terminal_output":
            terminal = terminal or Cc1Terminal(ROWS, COLS)
            lines, cursor = terminal.output(body)
            emit("observation", "terminal_screen", ms, terminal=TERMINAL_ID, rows=ROWS, cols=COLS, lines=lines,
                 cursor=cursor, focused=True, title="terminal", alt_screen=False)
        elif kind == "terminal_focus":
            emit("action", "terminal_focus", ms, source="user", terminal=TERMINAL_ID, name=body or "terminal")
        elif kind == "git_branch_checkout":
            branch, previous = parse_checkout(body)
            emit("action", "editor_command", ms, source="git_checkout", command="git.checkout", phase="end",
                 branch=branch, previous_branch=previous)
        else:
            problems.append(f"line {row.line}: unknown Type {kind!r}; row skipped: {preview(','.join(row.fields))}")
    if untimed:
        problems.append(f"Time is not a number in {len(untimed)} rows (first: line {untimed[0].line}, "
                        f"{untimed[0].get('Time')!r}); kept at the time of the row before")
    if len(out) == 1:
        why = (f"all {len(raw_rows)} rows were unusable" if raw_rows else "no usable row after the header")
        detail = "; ".join(problems[:3])
        raise Cc1ImportError(f"{path}: nothing to import: {why}" + (f" ({detail})" if detail else ""))
    return out, problems
