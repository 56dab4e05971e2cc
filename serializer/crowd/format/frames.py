"""Self-delimiting, independently decodable frames: the unit that reaches the disk.

A segment file is a file header followed by frames. A frame is
``MAGIC | payload length (u32 LE) | crc32 of payload (u32 LE) | payload`` where the payload
is one zstd frame holding a msgpack array of events. Because every frame stands alone, a
reader can recover every complete frame after the writer was killed mid-write and can
resynchronise on the magic after damaged bytes.
"""
from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgpack
import zstandard

FILE_MAGIC = b"CROWDSEG\x00\x01"   # 8-byte name + 2-byte container version
FRAME_MAGIC = b"\xf0CRF"
_HEADER = struct.Struct("<4sII")
HEADER_SIZE = _HEADER.size
MAX_FRAME = 256 * 1024 * 1024


class FrameTooLarge(ValueError):
    """A frame's payload would exceed ``MAX_FRAME``, which readers treat as damage."""


def encode_frame(events: list[dict[str, Any]], compressor: zstandard.ZstdCompressor) -> bytes:
    """One live frame of ``events``; raises (never writes) when they cannot be encoded:
    msgpack's errors for values it cannot carry, ``FrameTooLarge`` for an oversized payload."""
    payload = compressor.compress(msgpack.packb(events, use_bin_type=True))
    if len(payload) > MAX_FRAME:
        raise FrameTooLarge(f"frame payload of {len(payload)} bytes exceeds {MAX_FRAME}")
    return _HEADER.pack(FRAME_MAGIC, len(payload), zlib.crc32(payload)) + payload


def encode_compact_frame(events: list[dict[str, Any]], compressor: zstandard.ZstdCompressor) -> bytes:
    """One frame holding ``events`` delta-encoded (see columnar.py), for finished segments."""
    from crowd.format.columnar import encode  # noqa: PLC0415

    payload = compressor.compress(msgpack.packb(encode(events), use_bin_type=True))
    return _HEADER.pack(FRAME_MAGIC, len(payload), zlib.crc32(payload)) + payload


@dataclass
class FrameProblem:
    offset: int
    message: str
    torn_tail: bool = False


@dataclass
class Frame:
    offset: int
    end: int
    events: list[dict[str, Any]]


_local = threading.local()


def _decompressor() -> zstandard.ZstdDecompressor:
    """One decompressor per thread: building one per frame cost most of a reader's time,
    and a decompressor must not be shared between threads."""
    dctx = getattr(_local, "dctx", None)
    if dctx is None:
        dctx = _local.dctx = zstandard.ZstdDecompressor()
    return dctx


def decode_payload(payload: bytes) -> list[dict[str, Any]]:
    raw = _decompressor().decompress(payload, max_output_size=MAX_FRAME * 8)
    events = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    if isinstance(events, dict) and "columnar" in events:
        from crowd.format.columnar import decode  # noqa: PLC0415 - compact frames only

        return decode(events)
    if not isinstance(events, list):
        raise ValueError("frame payload is not an event list")
    return events


def scan_frames(data: bytes, start: int = 0) -> Iterator[Frame | FrameProblem]:
    """Yield every decodable frame in ``data`` and a problem for each damaged stretch.

    A frame cut short at the very end of the data is reported as a torn tail (the normal
    result of a killed writer), not as corruption.
    """
    pos = start
    size = len(data)
    while pos < size:
        if size - pos < HEADER_SIZE:
            yield FrameProblem(pos, f"{size - pos} trailing bytes (torn frame header)", torn_tail=True)
            return
        magic, length, crc = _HEADER.unpack_from(data, pos)
        if magic != FRAME_MAGIC or length > MAX_FRAME:
            nxt = data.find(FRAME_MAGIC, pos + 1)
            if nxt < 0:
                yield FrameProblem(pos, f"{size - pos} unreadable bytes at end", torn_tail=True)
                return
            yield FrameProblem(pos, f"skipped {nxt - pos} damaged bytes")
            pos = nxt
            continue
        body_start = pos + HEADER_SIZE
        end = body_start + length
        if end > size:
            yield FrameProblem(pos, f"frame of {length} bytes cut at {size - body_start}", torn_tail=True)
            return
        payload = data[body_start:end]
        if zlib.crc32(payload) != crc:
            nxt = data.find(FRAME_MAGIC, pos + 1)
            yield FrameProblem(pos, "frame checksum mismatch", torn_tail=nxt < 0 and end == size)
            if nxt < 0:
                return
            pos = nxt
            continue
        try:
            events = decode_payload(payload)
        except Exception as exc:  # noqa: BLE001 - any decode failure is data damage
            yield FrameProblem(pos, f"frame does not decode: {exc}")
        else:
            yield Frame(pos, end, events)
        pos = end
