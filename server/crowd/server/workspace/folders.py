"""Workspace folders and the mapping between absolute paths / URIs and recorded paths.

A recording must never hold an absolute path or the user's home directory, so every path
that enters the core goes through ``WorkspaceFolders.rel_path``. With one folder, recorded
paths are relative to it; with several (multi-root), they are prefixed by the folder's
name (made unique), e.g. ``api/src/x.py``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse


@dataclass(frozen=True)
class Folder:
    name: str        # unique prefix used in recorded paths (multi-root only)
    root: Path       # absolute, resolved


def uri_to_path(uri: str) -> Path | None:
    """A ``file://`` URI to a local path; None for other schemes (untitled:, vscode-...)."""
    if not uri:
        return None
    if uri.startswith("/"):
        return Path(uri)
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path, errors="surrogateescape")
    if parsed.netloc and parsed.netloc not in ("", "localhost"):
        path = f"//{parsed.netloc}{path}"
    # file:///c%3A/x on Windows
    if len(path) >= 3 and path[0] == "/" and path[2] == ":":
        path = path[1:]
    return Path(path)


def path_to_uri(path: Path) -> str:
    return Path(path).absolute().as_uri()


class WorkspaceFolders:
    """The folders of one editor window, with their unique names."""

    def __init__(self, roots: list[tuple[str | None, Path]]) -> None:
        folders: list[Folder] = []
        used: set[str] = set()
        self._given: list[tuple[str, Folder]] = []   # a folder opened through a symlink: that path too
        for name, root in roots:
            given = os.path.abspath(root)
            root = Path(os.path.realpath(root))
            base = (name or root.name or "root").replace("/", "_")
            unique, n = base, 2
            while unique in used:
                unique, n = f"{base}-{n}", n + 1
            used.add(unique)
            folders.append(Folder(unique, root))
            if given != str(root):
                self._given.append((given, folders[-1]))
        self.folders = folders
        self.multi = len(folders) > 1
        # longest roots first so nested workspace folders map to the innermost one
        self._by_length = sorted(folders, key=lambda f: len(str(f.root)), reverse=True)

    def names(self) -> list[str]:
        return [f.name for f in self.folders]

    def locate(self, path: Path | str) -> tuple[Folder, str] | None:
        """(folder, POSIX path relative to it) for an absolute path inside a folder."""
        p = str(path)
        for folder in self._by_length:
            root = str(folder.root)
            if p == root:
                return folder, ""
            if p.startswith(root) and p[len(root)] == os.sep:
                return folder, PurePosixPath(*Path(p[len(root) + 1:]).parts).as_posix()
        # the editor reports paths as the folder was opened: through a symlink to it, and
        # below it through linked subfolders, which must not be resolved away
        for given, folder in sorted(self._given, key=lambda g: len(g[0]), reverse=True):
            if p.startswith(given) and len(p) > len(given) and p[len(given)] == os.sep:
                return folder, PurePosixPath(*Path(p[len(given) + 1:]).parts).as_posix()
        # a path through some other symlink to a folder: resolve once and retry
        try:
            real = os.path.realpath(p)
        except (OSError, ValueError):
            return None
        if real != p:
            for folder in self._by_length:
                root = str(folder.root)
                if real.startswith(root) and len(real) > len(root) and real[len(root)] == os.sep:
                    return folder, PurePosixPath(*Path(real[len(root) + 1:]).parts).as_posix()
        return None

    def rel_of(self, folder: Folder, inner: str) -> str:
        return f"{folder.name}/{inner}" if self.multi else inner

    def rel_path(self, path: Path | str) -> str | None:
        found = self.locate(path)
        if found is None or not found[1]:
            return None
        return self.rel_of(*found)

    def split(self, rel: str) -> tuple[Folder, str] | None:
        """Inverse of ``rel_path``: the folder and the path inside it."""
        if not self.folders:
            return None
        if self.multi:
            head, _, rest = rel.partition("/")
            for folder in self.folders:
                if folder.name == head:
                    return folder, rest
            return None
        return self.folders[0], rel

    def abs_path(self, rel: str) -> Path | None:
        found = self.split(rel)
        if found is None:
            return None
        folder, inner = found
        return folder.root.joinpath(*PurePosixPath(inner).parts)
