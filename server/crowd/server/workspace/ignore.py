"""Which workspace paths are ignored: nested .gitignore files plus configured excludes.

git semantics that matter for a recorder: every directory may hold a .gitignore whose
patterns are relative to that directory; a deeper file overrides a shallower one; a file
inside an ignored directory stays ignored; ``.git`` itself is never part of the workspace.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path, PurePosixPath

import pathspec

log = logging.getLogger(__name__)

ALWAYS_EXCLUDED = (".git/", ".hg/", ".svn/")


def _spec(lines: list[str]) -> pathspec.PathSpec:
    return pathspec.GitIgnoreSpec.from_lines(lines)


class IgnoreRules:
    """Ignore decisions for one workspace folder; .gitignore files are read lazily and cached."""

    def __init__(self, root: Path, excludes: list[str] | None = None) -> None:
        self.root = root
        self.excludes = _spec([*ALWAYS_EXCLUDED, *(excludes or [])])
        self._specs: dict[str, pathspec.PathSpec | None] = {}
        self._dir_ignored: dict[str, bool] = {"": False}
        self._lock = threading.Lock()

    def forget(self, directory: str = "") -> None:
        """Drop cached .gitignore contents (after a .gitignore changed)."""
        with self._lock:
            self._specs = {k: v for k, v in self._specs.items() if not k.startswith(directory)}
            self._dir_ignored = {"": False}

    def spec_for(self, directory: str) -> pathspec.PathSpec | None:
        """The parsed .gitignore of ``directory`` (POSIX, relative to the root), or None."""
        try:
            return self._specs[directory]
        except KeyError:
            pass
        path = self.root.joinpath(*PurePosixPath(directory).parts, ".gitignore") if directory else self.root / ".gitignore"
        spec = None
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                spec = _spec(fh.read().splitlines())
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.error("cannot read %s/.gitignore: %s", directory or ".", exc.strerror or exc)
        self._specs[directory] = spec
        return spec

    def _decide(self, inner: str, is_dir: bool) -> bool:
        """Own rules of ``inner`` (ancestors not considered)."""
        inner = matchable(inner)
        probe = inner + "/" if is_dir else inner
        if self.excludes.match_file(probe):
            return True
        parts = inner.split("/")
        # deepest .gitignore that has an opinion wins
        for depth in range(len(parts) - 1, -1, -1):
            directory = "/".join(parts[:depth])
            spec = self.spec_for(directory)
            if spec is None:
                continue
            sub = "/".join(parts[depth:]) + ("/" if is_dir else "")
            result = spec.check_file(sub)
            if result.include is not None:
                return bool(result.include)
        return False

    def dir_ignored(self, inner_dir: str) -> bool:
        try:
            return self._dir_ignored[inner_dir]
        except KeyError:
            pass
        parent = inner_dir.rpartition("/")[0]
        ignored = self.dir_ignored(parent) or self._decide(inner_dir, True)
        self._dir_ignored[inner_dir] = ignored
        return ignored

    def is_ignored(self, inner: str, is_dir: bool = False) -> bool:
        """True when ``inner`` (POSIX, relative to the root) is excluded or git-ignored."""
        if not inner:
            return False
        parent = inner.rpartition("/")[0]
        if self.dir_ignored(parent):
            return True
        return self.dir_ignored(inner) if is_dir else self._decide(inner, False)


def matchable(name: str) -> str:
    """``name`` as pathspec can match it: a name that is not UTF-8 (surrogate escapes, which
    pathspec's encoder refuses) with U+FFFD for its undecodable bytes."""
    if is_valid_name(name):
        return name
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def walk_error(path: str, exc: OSError) -> None:
    log.error("cannot list %s: %s", path, exc.strerror or exc)


def is_valid_name(name: str) -> bool:
    """False for names that are not valid UTF-8 (os gives them as surrogate escapes)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


__all__ = ["IgnoreRules", "is_valid_name", "matchable", "walk_error", "os"]
