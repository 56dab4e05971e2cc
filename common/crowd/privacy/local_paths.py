"""Rewriting machine-local paths and the login name out of recorded text.

Terminal screens, typed commands, viewports and file text can show where the workspace lives
on this machine (``root@vm:/tmp/abc/ws#``, ``cd /home/alice/proj``) and who the user is.
Recordings hold workspace-relative paths only (docs/format.md), so every string of every
event goes through ``LocalPathRewriter.rewrite``:

- a workspace folder's absolute path becomes ``.`` (one folder) or the folder's recorded
  name (several folders, as ``file`` paths are prefixed);
- the home directory (``$HOME`` and the password database's entry) becomes ``~``;
- the login name in a ``name@host`` prompt prefix becomes ``user@host`` (never the bare
  word: too broad).

These are not secrets, so no ``redaction`` note is recorded for them. WHY it is cheap: the
rewriter is called for every keystroke event, so a string is first checked with a few plain
substring tests (``in``) and only strings containing a needle run the one precompiled regex.
"""
from __future__ import annotations

import os
import pwd
import re
from collections.abc import Iterable
from pathlib import Path

HOME_MARK = "~"
USER_MARK = "user"


def _home_dirs() -> list[str]:
    found = [os.environ.get("HOME", "")]
    try:
        found.append(pwd.getpwuid(os.getuid()).pw_dir)
    except (KeyError, OSError):
        pass
    return found


def _login_names() -> list[str]:
    found = [os.environ.get("USER", ""), os.environ.get("LOGNAME", "")]
    try:
        found.append(pwd.getpwuid(os.getuid()).pw_name)
    except (KeyError, OSError):
        pass
    return found


def _variants(path: str | Path) -> list[str]:
    """The path as given and resolved (``/tmp`` may be a symlink), without a trailing slash."""
    out = []
    for p in (os.path.abspath(str(path)), os.path.realpath(str(path))):
        p = p.rstrip("/")
        if len(p) > 1 and p not in out:
            out.append(p)
    return out


class LocalPathRewriter:
    """Maps workspace roots to their recorded names, the home directory to ``~``, and
    ``login@`` to ``user@`` in any text; immutable once built, so thread-safe."""

    def __init__(self, roots: Iterable[tuple[str, str | Path]] = (), *,
                 homes: Iterable[str] | None = None, users: Iterable[str] | None = None) -> None:
        roots = list(roots)
        mapping: dict[str, str] = {}
        for name, root in roots:
            label = "." if len(roots) == 1 else name
            for variant in _variants(root):
                mapping.setdefault(variant, label)
        for home in (_home_dirs() if homes is None else homes):
            if home:
                for variant in _variants(home):
                    mapping.setdefault(variant, HOME_MARK)
        self.mapping = mapping
        names = sorted({u for u in (_login_names() if users is None else users) if u and "@" not in u},
                       key=len, reverse=True)
        # longest first: alternation is leftmost-first, so a root inside the home directory
        # wins over the home directory
        paths = sorted(mapping, key=len, reverse=True)
        alternatives = []
        if paths:
            alternatives.append(r"(?:%s)(?![\w-]|\.\w)" % "|".join(map(re.escape, paths)))
        if names:
            alternatives.append(r"(?:%s)@(?=[\w-])" % "|".join(map(re.escape, names)))
        self.pattern = re.compile(r"(?<![\w.-])(?:%s)" % "|".join(alternatives)) if alternatives else None
        # gate: a string needs one of these substrings to be worth the regex; a needle that
        # contains another needle is redundant (a root under home: home is enough)
        needles = sorted(set(paths) | {f"{n}@" for n in names}, key=len)
        self.needles = tuple(n for i, n in enumerate(needles) if not any(m in n for m in needles[:i]))

    def _replace(self, m: re.Match[str]) -> str:
        text = m.group(0)
        if text.endswith("@"):
            return f"{USER_MARK}@"
        return self.mapping[text]

    def rewrite(self, text: str) -> str:
        """``text`` with local paths and the login name rewritten (the same object if none)."""
        for needle in self.needles:
            if needle in text:
                break
        else:
            return text
        new = self.pattern.sub(self._replace, text)  # type: ignore[union-attr]
        return text if new == text else new
