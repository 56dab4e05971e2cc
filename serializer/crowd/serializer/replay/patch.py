"""Applying and producing unified diffs (3 lines of context), the shape file changes carry.

Agent, git and external changes arrive as a unified diff against the previous content of
the file. The replayer applies them to its own copy; when the context does not match (the
replay never saw the old content) it says so instead of guessing, and the next
``file_content`` observation re-synchronises the file.
"""
from __future__ import annotations

import difflib
import re

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(ValueError):
    """The diff does not apply to the text we hold."""


def unified_diff(old: str, new: str, path: str, context: int = 3) -> str:
    """A git-style unified diff of two texts (keeps line endings as they are)."""
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    lines = difflib.unified_diff(a, b, f"a/{path}", f"b/{path}", n=context)
    out = []
    for line in lines:
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


def _nl_lines(text: str) -> list[str]:
    """Lines split at "\n" only, ends kept (a lone "\r" or U+2028 stays inside its line)."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def apply_unified_diff(old: str, diff: str) -> str:
    """Return ``old`` with ``diff`` applied; raise PatchError when it does not fit.

    Our diffs split lines as Python does (``splitlines``: also at a lone CR, U+2028...);
    crowd-code 2.0's (jsdiff) split at "\n" only. A diff that does not fit one way is tried
    the other way, so a 2.0 change to a file holding a lone CR still applies.
    """
    try:
        return _apply(old.splitlines(keepends=True), diff.splitlines(keepends=True))
    except PatchError:
        if "\n" not in old and "\n" not in diff:
            raise
        try:
            return _apply(_nl_lines(old), _nl_lines(diff))
        except PatchError:
            pass
        raise


def _apply(src: list[str], lines: list[str]) -> str:
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(lines) and not lines[i].startswith("@@"):
        i += 1
    while i < len(lines):
        m = _HUNK.match(lines[i])
        if not m:
            i += 1
            continue
        old_start = int(m.group(1))
        old_len = int(m.group(2)) if m.group(2) is not None else 1
        start = old_start - 1 if old_len else old_start
        if start < pos or start > len(src):
            raise PatchError(f"hunk at line {old_start} out of order or past the end")
        out.extend(src[pos:start])
        pos = start
        i += 1
        while i < len(lines) and not lines[i].startswith("@@"):
            line = lines[i]
            tag, body = line[:1], line[1:]
            if i + 1 < len(lines) and lines[i + 1].startswith("\\"):
                body = body[:-1] if body.endswith("\n") else body
                i += 1
            if tag == " ":
                if pos >= len(src) or src[pos] != body:
                    raise PatchError(f"context mismatch at line {pos + 1}")
                out.append(body)
                pos += 1
            elif tag == "-":
                if pos >= len(src) or src[pos] != body:
                    raise PatchError(f"removed line mismatch at line {pos + 1}")
                pos += 1
            elif tag == "+":
                out.append(body)
            else:
                # a hunk line without its tag: the diff was split at a break its writer did
                # not split at (a lone CR in a jsdiff hunk read with splitlines); skipping it
                # would silently keep text the diff removed
                raise PatchError(f"line {i + 1} of the diff is not a hunk line")
            i += 1
    out.extend(src[pos:])
    return "".join(out)


def reverse_diff(diff: str) -> str:
    """Swap the sides of a unified diff (to undo it, or check it was already applied)."""
    out = []
    for line in diff.splitlines(keepends=True):
        m = _HUNK.match(line)
        if m:
            a, al, b, bl = m.group(1), m.group(2), m.group(3), m.group(4)
            out.append(f"@@ -{b}{',' + bl if bl is not None else ''} +{a}{',' + al if al is not None else ''} @@\n")
        elif line.startswith("+") and not line.startswith("+++"):
            out.append("-" + line[1:])
        elif line.startswith("-") and not line.startswith("---"):
            out.append("+" + line[1:])
        else:
            out.append(line)
    return "".join(out)
