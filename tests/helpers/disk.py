"""Files on disk for tests: a workspace written from a dict, a folder read back as a dict of
bytes, and every byte a folder holds with its zstd frames decompressed (to prove a secret or a
panicked window left no trace)."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import zstandard

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

# the small workspace of the ``workspace`` fixture (tests/conftest.py), which tests extend
DEMO_WORKSPACE: dict[str, str | bytes] = {"src/app.py": "def main():\n    return 1\n", "README.md": "# demo\n"}


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Create ``root`` holding ``files`` (``/``-separated relative path -> text or bytes)."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def disk_tree(root: Path, skip_git: bool = True) -> dict[str, bytes]:
    """Every regular file below ``root`` (links skipped) by its ``/``-separated relative path."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if skip_git and ".git" in dirnames:
            dirnames.remove(".git")
        for f in filenames:
            full = os.path.join(dirpath, f)
            if os.path.islink(full):
                continue
            out[os.path.relpath(full, root).replace(os.sep, "/")] = Path(full).read_bytes()
    return out


def all_bytes(directory: Path) -> bytes:
    """The bytes of every file below ``directory``, in path order."""
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


def decoded_everywhere(data: bytes) -> bytes:
    """Raw bytes plus every zstd frame found anywhere in them, decompressed (even stray ones)."""
    out = [data]
    pos = data.find(ZSTD_MAGIC)
    while pos >= 0:
        try:
            out.append(zstandard.ZstdDecompressor().decompressobj().decompress(data[pos:]))
        except zstandard.ZstdError:
            pass
        pos = data.find(ZSTD_MAGIC, pos + 1)
    return b"".join(out)
