"""The blobs a snapshot store holds on disk, read without the store (crowd.snapshots.store):
loose ``blobs/**/*.zst`` files of older stores and the zstd frames of ``packs/*.pack`` (a
pack is whole frames end to end), each decompressed. Tests that prove a secret never reached
a blob read them this way, so they see every byte written whatever the layout."""
from __future__ import annotations

from pathlib import Path

import zstandard


def blob_files(snapshots: Path) -> list[Path]:
    """Every file that holds blobs: loose blobs and packs."""
    return sorted([*(snapshots / "blobs").rglob("*.zst"), *(snapshots / "packs").glob("*.pack")])


def frames(data: bytes) -> list[bytes]:
    """Each zstd frame of ``data`` decompressed; ``data`` must be whole frames and nothing else."""
    out = []
    while data:
        obj = zstandard.ZstdDecompressor().decompressobj()
        out.append(obj.decompress(data))
        if not obj.eof:
            raise ValueError("a truncated zstd frame")
        data = obj.unused_data
    return out


def stored_blobs(snapshots: Path) -> list[bytes]:
    """The content of every blob on disk, decompressed, in file order."""
    return [blob for path in blob_files(snapshots) for blob in frames(path.read_bytes())]
