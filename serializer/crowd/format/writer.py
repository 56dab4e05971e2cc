"""Append-only, crash-safe writer of a recording folder.

``append`` only puts the event on a list (the hot path never touches the disk); a
background thread turns what accumulated into one frame at most every ``flush_interval``
seconds (well under the format's one-second promise) and writes it with a single
``write`` call, so a killed process leaves every earlier frame intact. Segments rotate by
size and age so finished segments can be uploaded while recording goes on.

What it has written it never rewrites: a failed write is cut back to the offset where *that*
write began, never further. A batch that does not encode (a value msgpack cannot carry:
crowd.pipeline fits events before they get here, so this means a bug in some producer) is
split, the events that encode are written, and only the ones that do not are dropped and
reported (``events_dropped``, ``on_error`` with ``UnencodableEvents``); they are not retried,
because encoding the same value again fails again and would stop every later write.
Events that failed to *write* (disk full) stay queued and are retried: while writes fail
``backlog`` counts them (recorders report them as held, not as recorded), ``on_error`` is
told once when writing starts failing and ``on_recover`` once when it works again, and no new
segment is created per attempt (a full disk at start made an empty ``seg-*.crowd`` every
flush). Segments are written unbuffered (one ``os.write`` loop per frame) so a failed write
leaves nothing in a Python buffer that a later flush or close could append behind the cut.

Compaction of a finished segment runs on its own thread, never on the write path: measured
on a 2-core machine, compacting an 8 MiB segment inside ``flush`` blocked writing for
seconds, and kill -9 meanwhile lost ~16,000 events acknowledged up to seconds earlier
(32 MiB in the sidecar: 648-2,832 events, issue 13). A kill during compaction leaves the
original segment complete and a ``.compact.tmp`` beside it; ``recover_folder`` (called by
every writer on its folder, and by the sidecar on its recordings folder at start) removes
it, skipping folders a live writer holds (each writer holds an ``flock`` on its folder,
released by the kernel when the process dies).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zstandard

from crowd.format.frames import (FILE_MAGIC, Frame, FrameTooLarge, encode_compact_frame, encode_frame,
                                 scan_frames)

SEGMENT_GLOB = "seg-*.crowd"
COMPACT_SUFFIX = ".compact.tmp"
COMPACT_EVENTS_PER_FRAME = 50_000
SURVIVORS_PER_FRAME = 2_000


class UnencodableEvents(ValueError):
    """Events the writer dropped because they cannot be encoded (named by seq/type/kind)."""

    def __init__(self, events: list[dict[str, Any]], cause: BaseException) -> None:
        self.count = len(events)
        shown = ", ".join(f"seq {e.get('seq')!r:.24} {e.get('type')!r:.24}/{e.get('kind')!r:.32}"
                          for e in events[:3])
        super().__init__(f"{self.count} event(s) cannot be encoded and were not written "
                         f"({type(cause).__name__}): {shown}")


class SegmentRemoved(OSError):
    """The segment being written was deleted by another process (issue 13 item 6: an
    uploader took a paused sidecar's live segment); what it held is gone, writing goes on in
    a new segment."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"the recording segment {path.name} was deleted by another process while being "
                         f"written; the events in it are gone, writing goes on in a new segment")
        self.path = path


_ENCODE_ERRORS = (ValueError, TypeError, OverflowError, UnicodeError, RecursionError)


def segment_name(index: int) -> str:
    return f"seg-{index:06d}.crowd"


def list_segments(directory: Path) -> list[Path]:
    return sorted(Path(directory).glob(SEGMENT_GLOB))


def _lock_folder(directory: Path) -> int | None:
    """An exclusive ``flock`` on ``directory`` (its descriptor), None if another holds it."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None
        raise
    return fd


def _remove_stale_temps(directory: Path) -> int:
    removed = 0
    for stale in Path(directory).glob("*" + COMPACT_SUFFIX):
        with contextlib.suppress(FileNotFoundError):
            _zero_and_truncate(stale, 0)
            stale.unlink()
            removed += 1
    return removed


def recover_folder(directory: Path | str) -> int:
    """Remove what a writer killed mid-compaction left in ``directory`` (its ``.compact.tmp``
    copies: the segment beside each is complete); a folder a live writer holds is left alone.
    Returns the number of files removed."""
    directory = Path(directory)
    try:
        fd = _lock_folder(directory)
    except OSError:
        return 0
    if fd is None:
        return 0
    try:
        return _remove_stale_temps(directory)
    finally:
        os.close(fd)


def recover_recordings(root: Path | str) -> int:
    """``recover_folder`` for every recording folder directly under ``root``."""
    root = Path(root)
    if not root.is_dir():
        return 0
    return sum(recover_folder(child) for child in root.iterdir()
               if child.is_dir() and not child.is_symlink() and any(child.glob("*" + COMPACT_SUFFIX)))


class RecordingWriter:
    """Writes events of one recording into ``directory`` as framed segment files."""

    def __init__(
        self,
        directory: Path | str,
        *,
        flush_interval: float = 0.2,
        segment_max_bytes: int = 32 * 1024 * 1024,
        segment_max_seconds: float = 300.0,
        level: int = 3,
        fsync: bool = False,
        compact: bool = False,
        on_error: Callable[[BaseException], None] | None = None,
        on_recover: Callable[[], None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        self._folder_fd = _lock_folder(self.directory)   # None: another live writer has it
        if self._folder_fd is not None:
            _remove_stale_temps(self.directory)
        self.flush_interval = flush_interval
        self.segment_max_bytes = segment_max_bytes
        self.segment_max_seconds = segment_max_seconds
        self.fsync = fsync
        self.compact = compact
        self.on_error = on_error
        self.on_recover = on_recover
        self.failing = False                 # the last write failed (disk full...)
        self._compressor = zstandard.ZstdCompressor(level=level)
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()        # guards _pending
        self._io_lock = threading.Lock()     # serialises file operations
        self._wake = threading.Event()
        self._closed = False
        self._fh = None
        self._segment_index = len(list_segments(self.directory))
        self._segment_started = 0.0
        self.events_written = 0
        self.events_dropped = 0              # unencodable events (see the module docstring)
        self.bytes_written = 0
        self.last_error: BaseException | None = None
        self._compact_queue: list[tuple[Path, Any]] = []   # (finished segment, its open file)
        self._compact_cv = threading.Condition()
        self._compact_lock = threading.Lock()      # one compaction at a time, none during panic
        self._compact_stop = False
        self._compactor: threading.Thread | None = None
        self._thread = threading.Thread(target=self._run, name="crowd-recording-writer", daemon=True)
        self._thread.start()

    # -- hot path -------------------------------------------------------------------------
    def append(self, event: dict[str, Any]) -> None:
        """Queue one event; it reaches the disk within ``flush_interval`` seconds."""
        with self._lock:
            self._pending.append(event)

    def extend(self, events: list[dict[str, Any]]) -> None:
        with self._lock:
            self._pending.extend(events)

    @property
    def backlog(self) -> int:
        """Events waiting because writing fails (0 while writes succeed)."""
        if not self.failing:
            return 0
        with self._lock:
            return len(self._pending)

    @property
    def owns_folder(self) -> bool:
        """True while this writer holds its folder's lock (False: another live writer has it)."""
        return self._folder_fd is not None

    # -- background -------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
            except BaseException:  # noqa: BLE001 - flush reported it; the events stay queued
                pass

    def flush(self) -> int:
        """Write everything pending now; returns the number of events written.

        If a write fails (disk full, permissions) the events not yet written go back to the
        front of the queue and the file is cut back to where that write began, so nothing
        is lost, nothing already written is touched, and the next flush retries. Events
        that cannot be encoded are dropped and reported instead (module docstring).
        """
        with self._io_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            causes: list[BaseException] = []
            chunks, dropped = self._encode(batch, causes)
            if dropped:
                self.events_dropped += len(dropped)
                error = UnencodableEvents(dropped, causes[0])
                self.last_error = error
                if self.on_error:
                    self.on_error(error)
            written = 0
            for i, (events, frame) in enumerate(chunks):
                start: int | None = None
                try:
                    fh = self._segment_for(len(frame))
                    start = self._fh.tell() if self._fh is not None else None
                    _write_all(fh, frame)
                    if self.fsync:
                        os.fsync(fh.fileno())
                except BaseException as exc:
                    unwritten = [e for pending, _ in chunks[i:] for e in pending]
                    with self._lock:
                        self._pending[:0] = unwritten
                    if start is not None:
                        self._discard_partial(start)
                    self.last_error = exc
                    if not self.failing:
                        self.failing = True
                        if self.on_error:
                            self.on_error(exc)
                    raise
                written += len(events)
                self.events_written += len(events)
                self.bytes_written += len(frame)
            if not dropped:
                self.last_error = None
            if self.failing:
                self.failing = False
                if self.on_recover:
                    self.on_recover()
            return written

    def _encode(self, batch: list[dict[str, Any]], causes: list[BaseException]
                ) -> tuple[list[tuple[list[dict[str, Any]], bytes]], list[dict[str, Any]]]:
        """Frames for ``batch`` (in order) and the events that cannot be encoded at all;
        what went wrong is appended to ``causes``. Only a failing batch costs more than one
        encoding: it is split into single events, an oversized frame into halves."""
        try:
            return [(batch, encode_frame(batch, self._compressor))], []
        except FrameTooLarge as exc:
            causes.append(exc)
            if len(batch) == 1:
                return [], batch
            half = len(batch) // 2
            first, bad_first = self._encode(batch[:half], causes)
            second, bad_second = self._encode(batch[half:], causes)
            return first + second, bad_first + bad_second
        except _ENCODE_ERRORS as exc:
            causes.append(exc)
        good: list[dict[str, Any]] = []
        bad: list[dict[str, Any]] = []
        for event in batch:
            try:
                encode_frame([event], self._compressor)
            except _ENCODE_ERRORS:
                bad.append(event)
            else:
                good.append(event)
        if not good:
            return [], bad
        chunks, worse = self._encode(good, causes)
        return chunks, bad + worse

    def _discard_partial(self, start: int) -> None:
        """After a failed write, cut the segment back to ``start``, where that write began."""
        if self._fh is None:
            return
        try:
            self._fh.truncate(start)
            self._fh.seek(start)
        except OSError:
            self._fh = None

    def _segment_for(self, incoming: int):
        now = time.monotonic()
        if self._fh is not None and os.fstat(self._fh.fileno()).st_nlink == 0:
            # deleted under us: writing on into it would lose every event silently
            gone = Path(self._fh.name)
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None
            error = SegmentRemoved(gone)
            self.last_error = error
            if self.on_error:
                self.on_error(error)
        if self._fh is not None:
            size = self._fh.tell()
            if size + incoming > self.segment_max_bytes or now - self._segment_started > self.segment_max_seconds:
                self._close_segment()
        if self._fh is None:
            path = self.directory / segment_name(self._segment_index)
            created = not path.exists()
            fh = open(path, "ab", buffering=0)
            try:
                os.chmod(path, 0o600)
                if fh.tell() == 0:
                    _write_all(fh, FILE_MAGIC)
            except BaseException:
                # a full disk: no empty segment is left, the next try reuses this name
                fh.close()
                if created:
                    with contextlib.suppress(OSError):
                        path.unlink()
                raise
            self._segment_index += 1
            self._fh = fh
            self._segment_started = now
        return self._fh

    def _close_segment(self, compact: bool | None = None) -> None:
        if self._fh is not None:
            path = Path(self._fh.name)
            fh, self._fh = self._fh, None
            try:
                os.fsync(fh.fileno())
            except BaseException:
                fh.close()
                raise
            if self.compact if compact is None else compact:
                # kept open (for writing) until compacted: the uploader takes no segment a
                # process holds open for writing (crowd.transfer.live), so it never bundles the
                # fine-grained copy that compaction is about to replace
                self._queue_compaction([(path, fh)])
            else:
                fh.close()

    # -- compaction (its own thread, see the module docstring) -------------------------------
    def _queue_compaction(self, items: list[tuple[Path, Any]]) -> None:
        """``(path, open file or None)`` of finished segments; the file is closed once done."""
        if not items:
            return
        with self._compact_cv:
            self._compact_queue.extend(items)
            if self._compactor is None:
                self._compact_stop = False
                self._compactor = threading.Thread(target=self._compact_run, name="crowd-recording-compactor",
                                                   daemon=True)
                self._compactor.start()
            self._compact_cv.notify()

    def _compact_run(self) -> None:
        compressor = zstandard.ZstdCompressor(level=9)
        while True:
            with self._compact_cv:
                while not self._compact_queue and not self._compact_stop:
                    self._compact_cv.wait()
                if not self._compact_queue:
                    return
            with self._compact_lock:
                with self._compact_cv:
                    if not self._compact_queue:
                        continue
                    path, held = self._compact_queue.pop(0)
                try:
                    compact_segment(path, compressor)
                except FileNotFoundError:
                    pass   # removed by a panic meanwhile
                except Exception as exc:  # noqa: BLE001 - the fine-grained segment is still complete
                    if self.on_error:
                        self.on_error(exc)
                finally:
                    if held is not None:
                        held.close()

    def _finish_compactions(self) -> None:
        with self._compact_cv:
            thread = self._compactor
            self._compact_stop = True
            self._compact_cv.notify_all()
        if thread is not None:
            thread.join()
        with self._compact_cv:
            self._compactor = None

    def rotate(self) -> None:
        """Finish the current segment (e.g. before handing it to the uploader)."""
        self.flush()
        with self._io_lock:
            self._close_segment()

    def close(self) -> None:
        """Write what is pending and finish the segment; the segment is finished (synced,
        closed) even when that last write fails, and the failure is raised after."""
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=5)
        try:
            self.flush()
        finally:
            try:
                with self._io_lock:
                    self._close_segment()
            finally:
                self._finish_compactions()
                if self._folder_fd is not None:
                    os.close(self._folder_fd)
                    self._folder_fd = None

    # -- panic -------------------------------------------------------------------------------
    def drop_where(self, doomed: Callable[[dict[str, Any]], bool]) -> int:
        """Delete every event for which ``doomed`` is true, in memory and on disk.

        Events are appended in time order, so the doomed ones form a tail: whole later
        segments are overwritten with zeros and removed, and the segment holding the first
        doomed frame is zeroed from that frame on, truncated, and the frame's surviving
        events are written back. No byte of a doomed event stays in the files.
        Returns the number of events removed.
        """
        with self._io_lock, self._compact_lock:
            with self._compact_cv:   # a running compaction has finished (we hold its lock)
                queued, self._compact_queue = self._compact_queue, []
            for _, held in queued:
                if held is not None:
                    held.close()
            with self._lock:
                kept = [e for e in self._pending if not doomed(e)]
                removed = len(self._pending) - len(kept)
                self._pending = kept
            self._close_segment(compact=False)  # rewrite in place only: no copy may survive
            _remove_stale_temps(self.directory)  # left by a crash mid-compaction
            removed += _drop_from_segments(self.directory, doomed, self._compressor)
            remaining = list_segments(self.directory)
            self._segment_index = int(remaining[-1].stem.split("-")[1]) + 1 if remaining else 0
            self._queue_compaction([(p, None) for p, _ in queued if p.exists()])
            return removed



def drop_from_folder(directory: Path | str, doomed: Callable[[dict[str, Any]], bool], *,
                     modified_since: float = 0.0) -> int | None:
    """Delete the doomed events (any stretch of time, not only a tail) from a recording no
    writer holds (a stopped or killed recorder's folder), no byte of them left, and the temp
    copies a killed compaction left. Only segments modified at or after ``modified_since``
    (epoch seconds) are read: an event is written after it is stamped, so older segments
    hold no event of a later window. None when a live writer holds the folder: its owner
    must do it, so that its memory forgets the events too."""
    directory = Path(directory)
    try:
        fd = _lock_folder(directory)
    except OSError:
        return 0
    if fd is None:
        return None
    try:
        _remove_stale_temps(directory)
        return _drop_from_segments(directory, doomed, zstandard.ZstdCompressor(level=3), tail=False,
                                   modified_since=modified_since)
    finally:
        os.close(fd)


def _drop_from_segments(directory: Path, doomed: Callable[[dict[str, Any]], bool],
                        compressor: zstandard.ZstdCompressor, *, tail: bool = True,
                        modified_since: float = 0.0) -> int:
    """From the newest segment back: cut each at its first doomed frame and write that
    frame's and later frames' survivors back. ``tail``: the doomed events are the newest
    ones, so the first segment without any ends the search."""
    removed = 0
    segments = list_segments(directory)
    for path in reversed(segments):
        try:
            if path.stat().st_mtime < modified_since:
                continue
        except FileNotFoundError:
            continue
        data = path.read_bytes()
        frames = [f for f in scan_frames(data, len(FILE_MAGIC)) if isinstance(f, Frame)]
        cut = None
        survivors: list[dict[str, Any]] = []
        for frame in frames:
            hit = [e for e in frame.events if doomed(e)]
            if hit:
                if cut is None:
                    cut = frame.offset
                removed += len(hit)
                survivors.extend(e for e in frame.events if not doomed(e))
            elif cut is not None:
                survivors.extend(frame.events)
        if cut is None:
            if tail and data[len(FILE_MAGIC):] and frames:
                break  # an untouched segment: everything older is older still
            continue
        _zero_and_truncate(path, cut)
        if survivors:
            with open(path, "ab") as fh:
                for i in range(0, len(survivors), SURVIVORS_PER_FRAME):   # a frame has a size limit
                    fh.write(encode_frame(survivors[i:i + SURVIVORS_PER_FRAME], compressor))
                fh.flush()
                os.fsync(fh.fileno())
        elif cut <= len(FILE_MAGIC):
            path.unlink()
        if tail and cut > len(FILE_MAGIC):
            break
    return removed


def compact_segment(path: Path, compressor: zstandard.ZstdCompressor) -> bool:
    """Rewrite a finished segment as a few compact frames (columnar.py); True if rewritten.

    Crash-safe: the compact copy is written and synced beside the segment, then renamed over
    it, so either the old or the new file is complete at every moment. The old file's bytes
    are then zeroed through a descriptor still open on it, so no second copy of the events
    lingers in freed blocks (panic relies on there being exactly one copy).
    """
    data = path.read_bytes()
    frames = []
    for item in scan_frames(data, len(FILE_MAGIC)):
        if not isinstance(item, Frame):
            return False  # damaged: leave it exactly as it is
        frames.append(item)
    if len(frames) <= 1:
        return False
    events = [e for frame in frames for e in frame.events]
    tmp = path.with_name(path.name + COMPACT_SUFFIX)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(FILE_MAGIC)
            for i in range(0, len(events), COMPACT_EVENTS_PER_FRAME):
                fh.write(encode_compact_frame(events[i:i + COMPACT_EVENTS_PER_FRAME], compressor))
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        # e.g. a column delta beyond 64 bits: the segment stays as it is, no half copy beside it
        with contextlib.suppress(OSError):
            _zero_and_truncate(tmp, 0)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with open(path, "r+b") as old:
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        old.write(b"\x00" * len(data))
        old.flush()
        os.fsync(old.fileno())
    return True


def _write_all(fh: Any, data: bytes) -> None:
    """Write all of ``data`` to an unbuffered file (a raw write may take only part of it)."""
    view = memoryview(data)
    while view:
        n = fh.write(view)
        if not n:
            raise OSError(errno.ENOSPC, "short write")
        view = view[n:]


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _zero_and_truncate(path: Path, offset: int) -> None:
    """Overwrite ``path`` from ``offset`` with zeros, sync, then cut it there."""
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.seek(offset)
        remaining = size - offset
        chunk = b"\x00" * min(remaining, 1 << 20)
        while remaining > 0:
            n = min(remaining, len(chunk))
            fh.write(chunk[:n])
            remaining -= n
        fh.flush()
        os.fsync(fh.fileno())
        fh.truncate(offset)
        fh.flush()
        os.fsync(fh.fileno())
