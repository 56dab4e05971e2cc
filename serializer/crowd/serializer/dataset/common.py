"""Pieces every converter shares: session split, agent-prompt detection, terminal deltas, writers.

Everything here is a pure function of its inputs so that converters are deterministic: the
same recordings give byte-identical datasets (the train/validation split hashes the session
id, never draws random numbers; nothing depends on the clock or on dict order of the input).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# A CLI agent's input line as its TUI draws it: "│ > fix the tests │" (Claude Code),
# "› fix the tests" (Codex), "❯ ..." — read from the emulated screen, not from keystrokes.
_PROMPT_LINE = re.compile(r"^[\s│|┃]*[>›❯]\s+(?P<text>\S.*?)\s*[│|┃]?\s*$")
_AGENT_CMD = re.compile(r"^\s*(?P<agent>claude|codex|aider|gemini|cursor-agent|opencode)\b\s*(?:-p\s+)?"
                        r"(?P<q>['\"])(?P<prompt>.+)(?P=q)\s*$")
_COMMIT = re.compile(r"\bgit\s+commit\b.*?(?:-\w*m\s*|--message[= ])(?P<q>['\"])(?P<msg>.+?)(?P=q)")
_BRANCH = re.compile(r"\bgit\s+(?:checkout|switch)\b(?!\s+--\s)(?:\s+-[bcB])?\s+(?P<branch>[^\s-][^\s]*)\s*$")
SHELL_PROMPT = re.compile(r"^.*?[$#%]\s?$")


def session_split(session_id: str, val_fraction: float) -> str:
    """'train' or 'validation', from a hash of the session id: stable across runs and machines."""
    h = int.from_bytes(hashlib.sha256(session_id.encode("utf-8")).digest()[:8], "big") / 2 ** 64
    return "validation" if h < val_fraction else "train"


def prompt_on_screen(lines: Iterable[str]) -> str | None:
    """The last agent prompt visible on a terminal screen, if any."""
    found = None
    for line in lines:
        m = _PROMPT_LINE.match(line)
        if m and not SHELL_PROMPT.fullmatch(line.strip() or "$"):
            found = m.group("text").strip()
    return found


def agent_command(command: str) -> tuple[str, str] | None:
    """(agent, prompt) for a command line like ``claude "fix it"``."""
    m = _AGENT_CMD.match(command or "")
    return (m.group("agent"), m.group("prompt")) if m else None


def commit_message(command: str) -> str | None:
    m = _COMMIT.search(command or "")
    return m.group("msg") if m else None


def branch_switch(command: str) -> str | None:
    m = _BRANCH.search(command or "")
    return m.group("branch") if m else None


def new_terminal_lines(prev: list[str], new: list[str]) -> list[str]:
    """Lines ``new`` adds to ``prev``: a scrolled screen contributes only what appeared.

    The last line of ``prev`` may have been rewritten (a prompt the user typed into), so it
    is allowed to differ. A screen that shares nothing (cleared, full-screen TUI) is new in full.
    """
    a = [x.rstrip() for x in prev]
    b = [x.rstrip() for x in new]
    while a and not a[-1]:
        a.pop()
    while b and not b[-1]:
        b.pop()
    if not a:
        return b
    for shift in range(len(a)):
        keep = a[shift:-1]
        if len(keep) <= len(b) and b[:len(keep)] == keep and (keep or shift == len(a) - 1):
            return b[len(keep):]
    return b


def write_rows(rows_by_split: dict[str, list[dict[str, Any]]], folder: Path, parquet: bool) -> dict[str, Any]:
    """Write train/validation JSONL (and Parquet) files; returns file names and row counts."""
    folder.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {"files": {}, "rows": {}}
    for split in ("train", "validation"):
        rows = rows_by_split.get(split, [])
        path = folder / f"{split}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        info["files"][split] = [path.name]
        info["rows"][split] = len(rows)
        if parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            ppath = folder / f"{split}.parquet"
            table = pa.Table.from_pylist([parquet_row(r) for r in rows]) if rows else pa.table({})
            pq.write_table(table, ppath)
            info["files"][split].append(ppath.name)
    return info


def parquet_row(row: dict[str, Any]) -> dict[str, Any]:
    """Nested free-form dicts become JSON strings so every row has one Arrow schema."""
    out = {}
    for k, v in sorted(row.items()):
        out[k] = json.dumps(v, ensure_ascii=False, sort_keys=True) if isinstance(v, (dict, list)) and k.endswith("_json") else v
    return out
