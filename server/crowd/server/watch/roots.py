"""Workspace folders and the mapping between absolute and recorded (relative) paths.

With one folder a recorded path is relative to it; with several it is prefixed by the
folder's name (``api/src/x.py``), as docs/format.md says. No absolute path leaves here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from crowd.server.watch.ignore import IgnoreRules


@dataclass
class Folder:
    name: str
    path: Path
    rules: IgnoreRules


class Roots:
    def __init__(self, folders: list[Path | str] | dict[str, Path | str]) -> None:
        items = folders.items() if isinstance(folders, dict) else [(Path(f).name, f) for f in folders]
        self.folders = [Folder(n, Path(os.path.realpath(p)), IgnoreRules(os.path.realpath(p))) for n, p in items]
        self.multi = len(self.folders) > 1
        names = [f.name for f in self.folders]
        if len(set(names)) != len(names):
            raise ValueError(f"workspace folder names must be unique: {names}")

    def locate(self, abs_path: str) -> tuple[Folder, str] | None:
        """(folder, path relative to it) for an absolute path inside a folder, else None."""
        for folder in self.folders:
            root = str(folder.path)
            if abs_path == root:
                return folder, ""
            if abs_path.startswith(root + os.sep):
                return folder, abs_path[len(root) + 1:].replace(os.sep, "/")
        return None

    def rel(self, folder: Folder, inner: str) -> str:
        return f"{folder.name}/{inner}" if self.multi else inner

    def to_rel(self, abs_path: str) -> str | None:
        found = self.locate(abs_path)
        return None if found is None or not found[1] else self.rel(*found)

    def to_abs(self, rel: str) -> Path:
        if self.multi:
            name, _, inner = rel.partition("/")
            for folder in self.folders:
                if folder.name == name:
                    return folder.path / inner
            raise KeyError(rel)
        return self.folders[0].path / rel

    def split(self, rel: str) -> tuple[Folder, str]:
        if self.multi:
            name, _, inner = rel.partition("/")
            for folder in self.folders:
                if folder.name == name:
                    return folder, inner
            raise KeyError(rel)
        return self.folders[0], rel

    def paths(self) -> list[Path]:
        return [f.path for f in self.folders]

    def invalidate(self) -> None:
        for folder in self.folders:
            folder.rules.invalidate()

    def is_ignored(self, rel: str, is_dir: bool = False) -> bool:
        folder, inner = self.split(rel)
        return folder.rules.is_ignored(inner, is_dir)
