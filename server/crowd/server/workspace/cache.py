"""In-memory copy of every text file of every workspace folder.

Why: attribution needs the previous content of a file the moment it changes on disk (to
diff an agent's write against it), and replays need a file's full text the first time it
is seen. crowd-code 2.0 kept at most 5,000 files under 100 KB in an LRU and turned every
eviction into a bogus full-file "agent" diff; this cache keeps every tracked file, each
zstd-compressed (source text shrinks 3-5x), with a small LRU of decoded hot files.

The initial scan runs in a background thread; lookups work (and miss) while it runs, so
editor events are never blocked by it. Per-file problems (unreadable, symlink loops,
names that are not UTF-8, too big, binary) are logged and the file is left out.
"""
from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

from crowd.server.workspace.folders import Folder, WorkspaceFolders
from crowd.server.workspace.ignore import IgnoreRules, is_valid_name
from crowd.server.workspace.textfiles import NotRegularFile, binary_reason, read_regular

log = logging.getLogger(__name__)

DEFAULT_MAX_FILE_BYTES = 1024 * 1024
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
HOT_CHARS = 8 * 1024 * 1024          # decoded text kept for recently used files


class _Entry:
    __slots__ = ("blob", "size", "mtime_ns")

    def __init__(self, blob: bytes, size: int, mtime_ns: int) -> None:
        self.blob = blob          # zstd-compressed UTF-8 text
        self.size = size          # UTF-8 byte length
        self.mtime_ns = mtime_ns


@dataclass
class ScanStats:
    files: int = 0
    text_bytes: int = 0
    stored_bytes: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    seconds: float = 0.0
    done: bool = False

    def as_dict(self) -> dict:
        return {"files": self.files, "text_bytes": self.text_bytes, "stored_bytes": self.stored_bytes,
                "skipped": dict(self.skipped), "errors": self.errors,
                "seconds": round(self.seconds, 3), "done": self.done}


class WorkspaceCache:
    """Text of every tracked file, keyed by recorded (workspace-relative) path."""

    def __init__(
        self,
        folders: WorkspaceFolders,
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        excludes: list[str] | None = None,
        is_secret_path: Callable[[str], bool] | None = None,
        level: int = 3,
    ) -> None:
        self.folders = folders
        self.max_file_bytes = max_file_bytes
        self.is_secret_path = is_secret_path
        self.rules: dict[str, IgnoreRules] = {f.name: IgnoreRules(f.root, excludes) for f in folders.folders}
        self._entries: dict[str, _Entry] = {}
        self._skipped: dict[str, str] = {}     # rel -> why the file is not cached
        self._hot: OrderedDict[str, str] = OrderedDict()
        self._hot_chars = 0
        self._lock = threading.RLock()
        self._local = threading.local()
        self._level = level
        self.stats = ScanStats()
        self.scanned = threading.Event()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- paths ----------------------------------------------------------------------------
    def rel_path(self, path: Path | str) -> str | None:
        """Recorded path of an absolute path; None outside every folder, or ignored/excluded."""
        found = self.folders.locate(path)
        if found is None or not found[1]:
            return None
        folder, inner = found
        # a name that is not UTF-8 keeps its surrogate escapes here (the file can be read
        # back with them); the recording repairs it to U+FFFD with a note, never skips it
        if self.rules[folder.name].is_ignored(inner):
            return None
        return self.folders.rel_of(folder, inner)

    def abs_path(self, rel: str) -> Path | None:
        return self.folders.abs_path(rel)

    # -- content --------------------------------------------------------------------------
    def _codec(self) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
        codec = getattr(self._local, "codec", None)
        if codec is None:
            codec = (zstandard.ZstdCompressor(level=self._level), zstandard.ZstdDecompressor())
            self._local.codec = codec
        return codec

    def _store(self, rel: str, data: bytes, mtime_ns: int = 0) -> _Entry:
        # copy to an exact-size object: zstandard returns its compress-bound sized buffer
        # shrunk in place, and the allocator keeps the whole original size resident
        blob = memoryview(self._codec()[0].compress(data)).tobytes()
        if len(blob) >= len(data):
            blob = data  # tiny files: raw UTF-8 (cannot start with the zstd magic, see _text_of)
        entry = _Entry(blob, len(data), mtime_ns)
        with self._lock:
            self._entries[rel] = entry
            self._skipped.pop(rel, None)
        return entry

    def get_text(self, rel: str) -> str | None:
        """The cached text of ``rel`` (None when not cached)."""
        with self._lock:
            text = self._hot.get(rel)
            if text is not None:
                self._hot.move_to_end(rel)
                return text
            entry = self._entries.get(rel)
        if entry is None:
            return None
        text = self._text_of(entry)
        self._remember(rel, text)
        return text

    def _text_of(self, entry: _Entry) -> str:
        blob = entry.blob
        if blob[:4] == _ZSTD_MAGIC:  # 0xB5 right after "(" is never valid UTF-8 text
            blob = self._codec()[1].decompress(blob)
        return blob.decode("utf-8", "surrogatepass")

    def _remember(self, rel: str, text: str) -> None:
        with self._lock:
            old = self._hot.pop(rel, None)
            if old is not None:
                self._hot_chars -= len(old)
            if len(text) > HOT_CHARS // 4:
                return
            self._hot[rel] = text
            self._hot_chars += len(text)
            while self._hot_chars > HOT_CHARS and self._hot:
                _, dropped = self._hot.popitem(last=False)
                self._hot_chars -= len(dropped)

    def set_text(self, rel: str, text: str) -> None:
        """Replace the cached text of ``rel`` (e.g. after the watcher read a change)."""
        data = text.encode("utf-8", "surrogatepass")
        self._store(rel, data, time.time_ns())
        self._remember(rel, text)

    def remove(self, rel: str) -> None:
        with self._lock:
            self._entries.pop(rel, None)
            self._skipped.pop(rel, None)
            old = self._hot.pop(rel, None)
            if old is not None:
                self._hot_chars -= len(old)

    def files(self) -> list[str]:
        with self._lock:
            return sorted(self._entries)

    def __contains__(self, rel: str) -> bool:
        return rel in self._entries

    def skipped(self) -> dict[str, str]:
        with self._lock:
            return dict(self._skipped)

    def is_tracked(self, rel: str) -> bool:
        """Not ignored, not binary, not too big, not a secret file."""
        if rel in self._entries:
            return True
        if rel in self._skipped:
            return False
        found = self.folders.split(rel)
        if found is None:
            return False
        folder, inner = found
        if not inner or self.rules[folder.name].is_ignored(inner):
            return False
        if self.is_secret_path is not None and self.is_secret_path(rel):
            return False
        path = folder.root.joinpath(*inner.split("/"))
        try:
            st = path.stat()
        except OSError:
            return True  # not on disk (yet): tracked by name
        return stat.S_ISREG(st.st_mode) and st.st_size <= self.max_file_bytes

    def load(self, rel: str) -> str | None:
        """Read ``rel`` from disk into the cache now; None (and logged) if it cannot be cached."""
        found = self.folders.split(rel)
        if found is None:
            return None
        folder, inner = found
        path = folder.root.joinpath(*inner.split("/"))
        if self._read_one(folder, inner, rel, str(path)):
            return self.get_text(rel)
        return None

    # -- scanning -------------------------------------------------------------------------
    def start_scan(self) -> threading.Thread:
        """Begin the initial scan in the background (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._scan_all, name="crowd-workspace-scan", daemon=True)
            self._thread.start()
        return self._thread

    def stop_scan(self) -> None:
        self._stop.set()

    def wait_scanned(self, timeout: float | None = None) -> bool:
        return self.scanned.wait(timeout)

    def _skip(self, rel: str, reason: str, level: int = logging.INFO) -> None:
        with self._lock:
            self._skipped[rel] = reason
        key = reason.split(" (")[0]
        self.stats.skipped[key] = self.stats.skipped.get(key, 0) + 1
        log.log(level, "workspace: not caching %s: %s", rel, reason)

    def _scan_all(self) -> None:
        started = time.perf_counter()
        try:
            for folder in self.folders.folders:
                self._scan_folder(folder)
        except Exception:  # noqa: BLE001 - a scan bug must not kill the sidecar
            log.exception("workspace scan failed")
            self.stats.errors += 1
        finally:
            self.stats.seconds = time.perf_counter() - started
            self.stats.done = True
            self.scanned.set()
            log.info("workspace scan: %s", self.stats.as_dict())

    def _scan_folder(self, folder: Folder) -> None:
        rules = self.rules[folder.name]
        seen_dirs: set[tuple[int, int]] = set()
        try:
            st = os.stat(folder.root)
            seen_dirs.add((st.st_dev, st.st_ino))
        except OSError as exc:
            log.error("workspace folder %s cannot be read: %s", folder.name, exc.strerror or exc)
            self.stats.errors += 1
            return
        stack: list[str] = [""]
        while stack and not self._stop.is_set():
            inner_dir = stack.pop()
            dir_path = os.path.join(folder.root, *inner_dir.split("/")) if inner_dir else str(folder.root)
            try:
                with os.scandir(dir_path) as it:
                    entries = list(it)
            except OSError as exc:
                log.error("workspace: cannot list %s: %s", inner_dir or ".", exc.strerror or exc)
                self.stats.errors += 1
                continue
            for entry in entries:
                inner = f"{inner_dir}/{entry.name}" if inner_dir else entry.name
                if not is_valid_name(inner):
                    log.error("workspace: skipping a path whose name is not valid UTF-8: %s",
                              ascii(inner))
                    self.stats.errors += 1
                    self.stats.skipped["non-UTF-8 name"] = self.stats.skipped.get("non-UTF-8 name", 0) + 1
                    continue
                try:
                    is_dir = entry.is_dir()  # follows symlinks
                except OSError:
                    is_dir = False
                if is_dir:
                    if rules.is_ignored(inner, True):
                        continue
                    try:
                        dst = entry.stat()
                    except OSError as exc:
                        log.error("workspace: cannot stat %s: %s", inner, exc.strerror or exc)
                        self.stats.errors += 1
                        continue
                    key = (dst.st_dev, dst.st_ino)
                    if key in seen_dirs:
                        log.error("workspace: not following %s: symlink loop or directory already scanned",
                                  inner)
                        self.stats.errors += 1
                        continue
                    seen_dirs.add(key)
                    stack.append(inner)
                    continue
                if rules.is_ignored(inner):
                    continue
                rel = self.folders.rel_of(folder, inner)
                if self.is_secret_path is not None and self.is_secret_path(rel):
                    self._skip(rel, "secret file")
                    continue
                if entry.is_symlink():
                    try:
                        target = os.path.realpath(entry.path, strict=True)
                    except (OSError, RuntimeError) as exc:
                        log.error("workspace: skipping broken or looping symlink %s: %s", inner, exc)
                        self.stats.errors += 1
                        continue
                    if self.folders.locate(target) is None:
                        self._skip(rel, "symlink to outside the workspace")
                        continue
                self._read_one(folder, inner, rel, entry.path)

    def _read_one(self, folder: Folder, inner: str, rel: str, path: str) -> bool:
        try:
            data, size = read_regular(path, self.max_file_bytes)
        except NotRegularFile as exc:
            self._skip(rel, str(exc), logging.WARNING)
            return False
        except FileNotFoundError:
            return False
        except OSError as exc:
            log.error("workspace: cannot read %s: %s", rel, exc.strerror or exc)
            self.stats.errors += 1
            self._skip(rel, f"unreadable ({exc.strerror or exc})")
            return False
        if data is None:
            self._skip(rel, f"too big ({size:,} bytes > limit {self.max_file_bytes:,})", logging.WARNING)
            return False
        reason = binary_reason(data)
        if reason is not None:
            self._skip(rel, reason)
            return False
        entry = self._store(rel, data)
        self.stats.files += 1
        self.stats.text_bytes += size
        self.stats.stored_bytes += len(entry.blob)
        return True
