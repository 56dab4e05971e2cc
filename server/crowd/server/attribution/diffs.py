"""Unified diffs (3 lines of context) of text contents; None for anything that is not text."""
from __future__ import annotations

import difflib

from crowd.server.watch.content import Content


def as_text(content: Content | None) -> str | None:
    """UTF-8 text of a content, "" for absent, None for binary/links/large files."""
    if content is None:
        return ""
    if not isinstance(content, bytes) or b"\x00" in content[:8192]:
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def unified(old: str, new: str, rel: str, old_rel: str | None = None) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 f"a/{old_rel or rel}", f"b/{rel}", n=3)
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def diff_size(old: str, new: str) -> int:
    """Lines that differ (cheap measure used to pick the closer of two baselines)."""
    sm = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal")
