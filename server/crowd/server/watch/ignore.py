"""Git's ignore rules for one workspace folder: every .gitignore on the way down, plus
.git/info/exclude, with negation, and "an ignored directory hides everything below it".

WHY nested: crowd-code 2.0 read only the root .gitignore, so build output under a
sub-project with its own .gitignore flooded the recording. Results are memoised per
directory and forgotten when any .gitignore changes.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pathspec


class IgnoreRules:
    ALWAYS = frozenset({".git"})  # git's own folder is watched for state, never recorded as content

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}
        self._dirs: dict[str, bool] = {}
        self._lock = threading.Lock()

    def _spec(self, dir_rel: str) -> pathspec.GitIgnoreSpec | None:
        spec = self._specs.get(dir_rel, False)
        if spec is not False:
            return spec  # type: ignore[return-value]
        lines: list[str] = []
        base = self.root / dir_rel if dir_rel else self.root
        files = [base / ".gitignore"]
        if not dir_rel:
            files.insert(0, self.root / ".git" / "info" / "exclude")
        for f in files:
            try:
                lines += f.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                pass
        spec = pathspec.GitIgnoreSpec.from_lines(lines) if any(l.strip() and not l.startswith("#") for l in lines) else None
        self._specs[dir_rel] = spec
        return spec

    def _decide(self, rel: str, is_dir: bool) -> bool:
        """The deepest .gitignore with a matching rule decides (git's precedence)."""
        parts = rel.split("/")
        ignored = False
        for depth in range(len(parts)):
            dir_rel = "/".join(parts[:depth])
            spec = self._spec(dir_rel)
            if spec is None:
                continue
            sub = "/".join(parts[depth:]) + ("/" if is_dir else "")
            result = spec.check_file(sub).include
            if result is not None:
                ignored = result
        return ignored

    def _dir_ignored(self, dir_rel: str) -> bool:
        cached = self._dirs.get(dir_rel)
        if cached is not None:
            return cached
        parts = dir_rel.split("/")
        if parts[-1] in self.ALWAYS:
            result = True
        elif len(parts) > 1 and self._dir_ignored("/".join(parts[:-1])):
            result = True
        else:
            result = self._decide(dir_rel, True)
        self._dirs[dir_rel] = result
        return result

    def is_ignored(self, rel: str, is_dir: bool = False) -> bool:
        """``rel`` is relative to this folder, POSIX separators."""
        if not rel or rel == ".":
            return False
        with self._lock:
            parent, _, name = rel.rpartition("/")
            if name in self.ALWAYS:
                return True
            if parent and self._dir_ignored(parent):
                return True
            return self._dir_ignored(rel) if is_dir else self._decide(rel, False)

    def invalidate(self) -> None:
        """Forget everything (a .gitignore or info/exclude changed)."""
        with self._lock:
            self._specs.clear()
            self._dirs.clear()
