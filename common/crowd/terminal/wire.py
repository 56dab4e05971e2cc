"""The pipe between ``crowd term``'s copy loop and its capture process.

Frames are ``kind (1 byte) | t (u64 LE, µs on CLOCK_MONOTONIC) | length (u32 LE) | payload``:
binary, no JSON, so the copy loop's side costs one ``struct.pack`` per chunk.
"""
from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from typing import Any, BinaryIO

HEADER = struct.Struct("<BQI")
OUTPUT, INPUT, INPUT_HIDDEN, RESIZE, PROGRAM, META, EXIT = range(1, 8)


def frame(kind: int, t: int, payload: bytes) -> bytes:
    return HEADER.pack(kind, t, len(payload)) + payload


def meta_frame(t: int, meta: dict[str, Any]) -> bytes:
    return frame(META, t, json.dumps(meta).encode())


def resize_frame(t: int, rows: int, cols: int) -> bytes:
    return frame(RESIZE, t, struct.pack("<HH", rows, cols))


def read_frames(fh: BinaryIO) -> Iterator[tuple[int, int, bytes]]:
    """Yield (kind, t, payload) until EOF; a torn last frame is dropped."""
    while True:
        head = fh.read(HEADER.size)
        if len(head) < HEADER.size:
            return
        kind, t, length = HEADER.unpack(head)
        payload = fh.read(length) if length else b""
        if len(payload) < length:
            return
        yield kind, t, payload
