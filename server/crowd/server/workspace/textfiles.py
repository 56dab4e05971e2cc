"""Deciding whether bytes are text, and reading files without ever blocking.

"Contains a NUL byte" misses UTF-16 files with no ASCII, images with no zero in the first
kilobytes, and minified blobs full of control characters. A file is text here when it
decodes as UTF-8 and control characters (other than tab, newline, carriage return, form
feed and escape) make up at most 1 % of a sample.
"""
from __future__ import annotations

import os
import stat

SAMPLE = 64 * 1024
MAX_CONTROL_RATIO = 0.01

# bytes that count as control characters in text
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27)) + b"\x7f"
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)


def binary_reason(data: bytes) -> str | None:
    """None when ``data`` is text, else a short reason it is not."""
    sample = data[:SAMPLE]
    if b"\x00" in sample:
        return "binary (NUL bytes)"
    controls = len(sample.translate(None, _NOT_CONTROL))
    if sample and controls / len(sample) > MAX_CONTROL_RATIO:
        return f"binary ({controls} control bytes in {len(sample)})"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start})"
    return None


class NotRegularFile(OSError):
    pass


def read_regular(path: str | os.PathLike[str], limit: int) -> tuple[bytes | None, int]:
    """(bytes, size) of a regular file, or (None, size) when it is over ``limit``.

    Opened non-blocking and checked with fstat, so a FIFO or device that appears where a
    file was expected raises instead of hanging the scan.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(f"not a regular file (mode {stat.filemode(st.st_mode)})")
        if st.st_size > limit:
            return None, st.st_size
        chunks = []
        remaining = st.st_size + 1
        while True:
            chunk = os.read(fd, max(remaining, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
            if sum(map(len, chunks)) > limit:
                return None, sum(map(len, chunks))
        data = b"".join(chunks)
        return data, len(data)
    finally:
        os.close(fd)
