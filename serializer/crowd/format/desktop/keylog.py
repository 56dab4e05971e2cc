"""Reader and writer of crowd-cast's keylog wire format (``input_<uuid>_segNNNN.msgpack``).

Tools written for crowd-cast data read our recordings, so the bytes must match: the file is
one msgpack array of entries ``[timestamp_us, [TypeName, data_array]]`` where
``timestamp_us`` counts microseconds since the segment's video start (the video clock, so an
event at ``t`` belongs to frame ``floor(t * fps / 1e6)``) and every struct is a positional
array in the field order below.

The writer keeps the file readable after a crash: it writes an ``array32`` header whose count
is patched on close, and appends entries as they come. A closed file is plain msgpack that any
reader accepts; a crashed one (header count larger than the entries present, or a torn last
entry) is still read by :func:`read_keylog`, which stops at the first incomplete entry.

Event classes are frozen dataclasses whose field order *is* the wire order; ``to_wire`` /
``from_wire`` convert. Unknown type names are kept as :class:`UnknownEvent` rather than
dropped, so a newer writer's files still round-trip.
"""
from __future__ import annotations

import io
import os
import struct
import threading
from dataclasses import MISSING, astuple, dataclass, field, fields
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Iterator, Union

import msgpack

# ContextChanged sentinels: focus outside the allowlist / focus cannot be determined.
UNCAPTURED = "UNCAPTURED"
UNKNOWN = "UNKNOWN"

PLATFORMS = ("macos", "windows", "linux")
CAPTURE_MODES = ("display", "single_active_app", "multi_source_app")


class KeylogError(ValueError):
    """The bytes are not a crowd-cast keylog (clear message, nothing modified)."""


@dataclass(frozen=True)
class ContextChanged:
    """Focus moved to ``app_id`` (or to a sentinel: UNCAPTURED, UNKNOWN)."""
    app_id: str
    TYPE: ClassVar[str] = "ContextChanged"


@dataclass(frozen=True)
class KeyPress:
    """A key went down: platform key code and the crowd-cast key name (e.g. ``KeyA``)."""
    code: int
    name: str
    TYPE: ClassVar[str] = "KeyPress"


@dataclass(frozen=True)
class KeyRelease:
    code: int
    name: str
    TYPE: ClassVar[str] = "KeyRelease"


@dataclass(frozen=True)
class MousePress:
    """Button ``Left``/``Right``/``Middle``; x, y are 0.0 in crowd-cast's data (kept for shape)."""
    button: str
    x: float = 0.0
    y: float = 0.0
    TYPE: ClassVar[str] = "MousePress"


@dataclass(frozen=True)
class MouseRelease:
    button: str
    x: float = 0.0
    y: float = 0.0
    TYPE: ClassVar[str] = "MouseRelease"


@dataclass(frozen=True)
class MouseMove:
    """Relative motion in screen pixels since the previous MouseMove."""
    dx: float
    dy: float
    TYPE: ClassVar[str] = "MouseMove"


@dataclass(frozen=True)
class MouseScroll:
    """Wheel steps (dx, dy) at pointer position (x, y)."""
    dx: int
    dy: int
    x: float
    y: float
    TYPE: ClassVar[str] = "MouseScroll"


@dataclass(frozen=True)
class Redacted:
    """Input withheld for ``reason`` (e.g. a password field had focus)."""
    reason: str
    TYPE: ClassVar[str] = "Redacted"


@dataclass(frozen=True)
class Metadata:
    """Capture geometry and provenance; 14 positional fields in this order.

    ``active_display`` is None or a monitor array, ``displays`` a list of monitor arrays. We
    write a monitor as ``[index, x, y, width, height]`` (crowd-cast leaves the shape to the
    platform; readers should treat it as opaque).
    """
    display_width: int
    display_height: int
    display_aspect: float
    output_width: int
    output_height: int
    output_aspect: float
    source_width: int
    source_height: int
    source_aspect: float
    timestamp_utc: str
    active_display: list | None
    displays: list
    platform: str
    capture_mode: str
    TYPE: ClassVar[str] = "Metadata"


@dataclass(frozen=True)
class UnknownEvent:
    """An entry whose type name this version does not know; kept verbatim."""
    type_name: str
    data: Any = field(default=None)
    TYPE: ClassVar[str] = "?"

    def to_wire(self) -> list:
        return [self.type_name, self.data]


Event = Union[ContextChanged, KeyPress, KeyRelease, MousePress, MouseRelease, MouseMove,
              MouseScroll, Redacted, Metadata, UnknownEvent]

EVENT_TYPES: dict[str, type] = {c.TYPE: c for c in (
    ContextChanged, KeyPress, KeyRelease, MousePress, MouseRelease, MouseMove, MouseScroll,
    Redacted, Metadata)}


def _coerce(ev: Event) -> list:
    """Field values in wire order, ints/floats coerced to the declared type.

    Readers in typed languages (crowd-cast's own tools are Rust) decode positional structs
    strictly, so a float field must never be written as a msgpack int.
    """
    values = list(astuple(ev))
    for i, f in enumerate(fields(ev)):
        if values[i] is None or isinstance(values[i], bool):
            continue
        if f.type in (float, "float"):
            values[i] = float(values[i])
        elif f.type in (int, "int"):
            values[i] = int(values[i])
    return values


def to_wire(ev: Event) -> list:
    """``[TypeName, data_array]`` for one event."""
    if isinstance(ev, UnknownEvent):
        return ev.to_wire()
    return [ev.TYPE, _coerce(ev)]


def from_wire(payload: Any) -> Event:
    """Inverse of :func:`to_wire`; raises :class:`KeylogError` on a malformed payload."""
    if not isinstance(payload, (list, tuple)) or len(payload) != 2 or not isinstance(payload[0], str):
        raise KeylogError(f"event payload must be [TypeName, data], got {payload!r:.80}")
    name, data = payload
    cls = EVENT_TYPES.get(name)
    if cls is None:
        return UnknownEvent(name, data)
    if not isinstance(data, (list, tuple)):
        raise KeylogError(f"{name}: data must be an array, got {data!r:.80}")
    n = len(fields(cls))
    required = sum(1 for f in fields(cls) if f.default is MISSING)
    if not required <= len(data) <= n:
        raise KeylogError(f"{name}: expected {n} fields, got {len(data)}")
    try:
        return cls(*data)
    except TypeError as exc:
        raise KeylogError(f"{name}: {exc}") from None


@dataclass(frozen=True)
class Entry:
    """One keylog line: microseconds since the segment's video start, and the event."""
    t_us: int
    event: Event

    def frame(self, fps: float) -> int:
        """Index of the video frame this event belongs to."""
        return int(self.t_us * fps // 1_000_000)


def pack_entry(t_us: int, ev: Event) -> bytes:
    return msgpack.packb([int(t_us), to_wire(ev)], use_bin_type=True)


def dumps(entries: list[Entry] | list[tuple[int, Event]]) -> bytes:
    """Whole keylog as bytes (plain msgpack array)."""
    items = [(e.t_us, e.event) if isinstance(e, Entry) else e for e in entries]
    return msgpack.packb([[int(t), to_wire(ev)] for t, ev in items], use_bin_type=True)


def loads(data: bytes, *, strict: bool = False) -> list[Entry]:
    """Parse keylog bytes. ``strict=False`` tolerates a crashed writer's torn tail."""
    return list(_iter_entries(io.BytesIO(data), strict=strict))


def read_keylog(path: str | os.PathLike, *, strict: bool = False) -> list[Entry]:
    """Read one ``input_*.msgpack`` file into entries, in file order."""
    with open(path, "rb") as fh:
        try:
            return list(_iter_entries(fh, strict=strict))
        except KeylogError as exc:
            raise KeylogError(f"{path}: {exc}") from None


def _iter_entries(fh: BinaryIO, *, strict: bool) -> Iterator[Entry]:
    head = fh.read(1)
    if not head:
        if strict:
            raise KeylogError("empty file")
        return
    b = head[0]
    if 0x90 <= b <= 0x9F:
        count = b & 0x0F
    elif b == 0xDC:
        count = struct.unpack(">H", _read_exact(fh, 2))[0]
    elif b == 0xDD:
        count = struct.unpack(">I", _read_exact(fh, 4))[0]
    else:
        raise KeylogError(f"not a keylog: expected a msgpack array, first byte 0x{b:02x}")
    unpacker = msgpack.Unpacker(fh, raw=False, strict_map_key=False)
    seen = 0
    while seen < count:
        try:
            item = unpacker.unpack()
        except msgpack.OutOfData:
            if strict:
                raise KeylogError(f"truncated: header says {count} entries, found {seen}") from None
            return
        except (ValueError, msgpack.UnpackException) as exc:
            if strict:
                raise KeylogError(f"corrupt entry {seen}: {exc}") from None
            return
        seen += 1
        if not isinstance(item, (list, tuple)) or len(item) != 2 or not isinstance(item[0], int):
            raise KeylogError(f"entry {seen - 1} must be [timestamp_us, [Type, data]], got {item!r:.80}")
        yield Entry(item[0], from_wire(item[1]))


def _read_exact(fh: BinaryIO, n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise KeylogError("truncated array header")
    return data


class KeylogWriter:
    """Appends entries to one segment's keylog.

    ``append`` is called from input-listener threads and only packs into memory under a lock;
    ``flush`` (called by the recorder's own loop, off the input hot path) writes the buffer
    out; ``close`` flushes and patches the entry count so the file is plain msgpack.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._fh = open(self.path, "wb")
        self._fh.write(b"\xdd\xff\xff\xff\xff")  # array32, count patched on close
        self._fh.flush()
        self._buf = bytearray()
        self._count = 0
        self._lock = threading.Lock()
        self._closed = False
        self.entries: list[Entry] = []  # in-memory mirror for tests / overlay / stats

    def append(self, t_us: int, ev: Event) -> None:
        data = pack_entry(t_us, ev)
        with self._lock:
            if self._closed:
                raise KeylogError(f"{self.path}: writer is closed")
            self._buf += data
            self._count += 1
            self.entries.append(Entry(int(t_us), ev))

    @property
    def count(self) -> int:
        return self._count

    def flush(self) -> None:
        with self._lock:
            if self._closed or not self._buf:
                return
            data = bytes(self._buf)
            self._buf.clear()
            self._fh.write(data)
            self._fh.flush()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._fh.write(bytes(self._buf))
            self._buf.clear()
            self._fh.seek(1)
            self._fh.write(struct.pack(">I", self._count))
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def __enter__(self) -> "KeylogWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_keylog(path: str | os.PathLike, entries: list[Entry] | list[tuple[int, Event]]) -> None:
    """Write a complete keylog in one go (fixtures, converters)."""
    Path(path).write_bytes(dumps(entries))
