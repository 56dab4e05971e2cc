"""What a git directory says, read straight from its files: HEAD (branch and commit), the
stash ref, and HEAD's reflog lines (old and new commit, the command's message).

WHY a module of its own: the git monitor (git.py) follows the event stream; these readers
are what it, and an operation finished after the fact, take outcomes from. No subprocess:
each read is a file or two (a reload's decision calls them while the editor waits).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple


@dataclass(frozen=True)
class HeadState:
    ref: str | None     # "refs/heads/main", or None when detached
    sha: str | None


def common_dir(git_dir: str) -> str:
    """Where refs, objects and packed-refs live: a linked worktree's git dir names it."""
    try:
        rel = Path(git_dir, "commondir").read_text().strip()
    except OSError:
        return git_dir
    return os.path.realpath(os.path.join(git_dir, rel))


def read_head(git_dir: str) -> HeadState:
    """HEAD's symbolic ref and commit, read straight from the files (cheap, no subprocess)."""
    try:
        head = Path(git_dir, "HEAD").read_text().strip()
    except OSError:
        return HeadState(None, None)
    if not head.startswith("ref: "):
        return HeadState(None, head or None)
    ref = head[5:].strip()
    common = common_dir(git_dir)
    try:
        return HeadState(ref, Path(common, ref).read_text().strip() or None)
    except OSError:
        pass
    try:
        for line in Path(common, "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref) and not line.startswith(("#", "^")):
                return HeadState(ref, line.split(" ", 1)[0])
    except OSError:
        pass
    return HeadState(ref, None)  # unborn branch


def stash_sha(git_dir: str) -> str | None:
    try:
        return Path(common_dir(git_dir), "refs", "stash").read_text().strip()
    except OSError:
        return None


class ReflogEntry(NamedTuple):
    """One line of ``logs/HEAD``: the commit before and after, and what did it."""
    old: str
    new: str
    message: str
    size: int          # bytes, newline included


_CHECKOUT = re.compile(r"checkout: moving from (\S+) to (\S+)$")
_RETURNING = re.compile(r"returning to (refs/\S+)$")
_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


def branch_ref(common: str, name: str) -> str | None:
    """``refs/heads/<name>`` when a checkout's target names a branch, else None (detached)."""
    if _SHA.fullmatch(name):
        return None
    ref = "refs/heads/" + name
    if os.path.isfile(os.path.join(common, ref)):
        return ref
    try:
        packed = Path(common, "packed-refs").read_text()
    except OSError:
        return None
    return ref if any(line.endswith(" " + ref) for line in packed.splitlines()) else None


def reflog_outcome(before: HeadState, entries: list[ReflogEntry], common: str,
                   exact_ref: bool = True) -> tuple[HeadState, bool]:
    """HEAD after ``entries`` and whether they moved it (branch or commit), read from the
    lines alone: the commit from the last line, the branch from what checkout and rebase
    wrote ("checkout: moving from A to B", "returning to refs/heads/B"). ``exact_ref`` False:
    ``before.ref`` was itself derived, so only commits and named branch moves count."""
    ref, sha, named_move = before.ref, before.sha, False
    for entry in entries:
        sha = entry.new
        checkout = _CHECKOUT.match(entry.message)
        returning = _RETURNING.search(entry.message)
        if checkout is not None:
            ref = branch_ref(common, checkout.group(2))
            named_move = named_move or checkout.group(1) != checkout.group(2)
        elif returning is not None:
            ref = returning.group(1)
        elif entry.message.startswith("rebase") and "(start)" in entry.message:
            ref = None   # a rebase works on a detached HEAD
    after = HeadState(ref, sha)
    moved = after.sha != before.sha or named_move or (exact_ref and after.ref != before.ref)
    return after, moved


def names_a_move(messages: list[str]) -> bool:
    """A checkout to another branch or commit among these reflog messages."""
    return any((m := _CHECKOUT.match(msg)) is not None and m.group(1) != m.group(2) for msg in messages)


def reflog_label(message: str) -> str:
    """The operation a reflog message names: "checkout: moving from a to b" -> checkout."""
    head = message.split(":", 1)[0].strip()
    word = head.split(" ", 1)[0].split("(", 1)[0]
    return word or "git"
