"""Content-addressed snapshot store: zstd blobs by sha256 plus one delta manifest per snapshot.

Layout under ``<recording>/snapshots/``::

    packs/snapshot_001.pack             the new blobs of snapshot 001: zstd frames end to end
    packs/snapshot_001.idx              {sha: [offset, length]} of those frames (JSON)
    blobs/<sha[:2]>/<sha[2:]>.zst       one blob per file: stores written before packs (read
                                        only), or ``SnapshotStore(..., packed=False)``
    manifests/snapshot_001.json         {"id", "index", "t", "wall", "parent", "files",
                                         "set": {rel: sha}, "removed": [rel],
                                         "withheld": [rel]  (only when not empty)}

WHY packs: one file per blob made the first snapshot of a 20,000-file / 69 MB workspace
wait for 20,000 file creations (temp + rename each), and this disk creates only 500-6,700
small files/s: 3-40 s of the 5 s the snapshot may take (issue 16). A pack is three file
operations per snapshot whatever its size. Order on disk: pack (temp + rename), then its
index (temp + rename), then the manifest; a pack without an index, or whose index names no
blob that a manifest references (a crash before the manifest), is ignored when the store is
read and deleted by the next panic. A pack's name is only a name: a blob is found through
the indexes, and a later snapshot referencing a blob that an earlier pack holds writes no
copy of it (dedupe across snapshots as before). Panic rewrites a pack that holds both blobs
to delete and blobs kept snapshots still reference (new pack and index first, then the old
index and pack are deleted), so deleted content is gone from disk, not just unindexed.

WHY deltas: crowd-code 2.0 serialised the whole cache as JSON per agent batch, which costs
O(workspace) per snapshot in time and bytes. Here a manifest holds only the paths whose
content differs from the previous snapshot, and a blob already stored is never written
again, so a snapshot costs O(files changed since the previous one). The full file list of a
snapshot is the chain of deltas from the first one; ``restore`` replays it.

Paths are workspace-relative POSIX paths; nothing absolute is ever written.

``withheld`` lists paths whose new content the ``scrub`` step refused (redaction could not
run, see crowd.snapshots.redaction): no blob is written for them and from that snapshot on
they are absent from the chain (``files``/``restore``/``export`` leave them out) until their
content changes and is scrubbed again. Restoring a file with an old content would be wrong,
and writing it unscrubbed would be fail open.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import zstandard

log = logging.getLogger(__name__)

MANIFEST_DIR = "manifests"
Scrub = Callable[[str, bytes], "bytes | None"]   # (rel, content) -> what to store; None: withhold
BLOB_DIR = "blobs"
PACK_DIR = "packs"
_PACK_STEM = re.compile(r"snapshot_\d+(?:-\d+)?")    # what we name packs; anything else is not ours


class SnapshotError(ValueError):
    """A snapshot that does not exist, a damaged store, or an unsafe destination."""


@dataclass(frozen=True)
class SnapshotInfo:
    snapshot_id: str
    index: int
    t: int
    wall: int
    files: int          # files in the snapshot (the whole workspace as it was)
    changed: int        # paths set or removed relative to the previous snapshot
    bytes_added: int    # new content this snapshot stores (before zstd) + its manifest


def snapshot_id(index: int) -> str:
    """``snapshot_001``, the crowd-code 2.0 naming (it grows past three digits)."""
    return f"snapshot_{index:03d}"


def _check_rel(rel: str) -> str:
    """Refuse absolute paths and ``..`` so a manifest can never write outside a folder."""
    p = PurePosixPath(rel)
    if not rel or p.is_absolute() or ".." in p.parts or "\\" in rel:
        raise SnapshotError(f"not a workspace-relative path: {rel!r}")
    return rel


SHA256_HEX = frozenset("0123456789abcdef")


def _check_sha(sha: object) -> str:
    """A blob name is exactly 64 lowercase hex digits: a manifest is read from disk (maybe a
    recording someone sent), and its sha becomes a path that ``blob`` reads and ``panic``
    deletes; ``"../../x"`` would reach outside the store."""
    if not isinstance(sha, str) or len(sha) != 64 or not SHA256_HEX.issuperset(sha):
        raise SnapshotError(f"not a sha256 blob name: {str(sha)[:80]!r}")
    return sha


def _check_manifest(manifest: object, name: str) -> dict:
    """The fields a manifest must have, with their types; paths and blob names checked."""
    def bad(why: str) -> SnapshotError:
        return SnapshotError(f"damaged snapshot manifest {name}: {why}")

    if not isinstance(manifest, dict):
        raise bad("not a JSON object")
    for key in ("index", "t", "wall", "files"):
        if isinstance(manifest.get(key), bool) or not isinstance(manifest.get(key), int):
            raise bad(f"{key!r} must be an integer")
    if manifest.get("id") != name.removesuffix(".json"):
        # panic deletes manifests/<id>.json: the id must be the file's own name
        raise bad(f"'id' {str(manifest.get('id'))[:80]!r} is not the manifest's name")
    set_ = manifest.get("set", {})
    if not isinstance(set_, dict):
        raise bad("'set' must be an object")
    try:
        for rel, sha in set_.items():
            _check_rel(rel)
            _check_sha(sha)
        for key in ("removed", "withheld"):
            listed = manifest.get(key, [])
            if not isinstance(listed, list) or not all(isinstance(rel, str) for rel in listed):
                raise bad(f"{key!r} must be a list of paths")
            for rel in listed:
                _check_rel(rel)
    except SnapshotError as exc:
        raise bad(str(exc)) from None
    return manifest


def _check_index(index: object, name: str, pack_size: int) -> dict[str, tuple[int, int]]:
    """A pack index read from disk is untrusted like a manifest: every key a sha256 name,
    every [offset, length] a range inside its pack (``blob`` still verifies the hash of what
    it decompresses, so a wrong range is a clear error, never another blob's bytes)."""
    def bad(why: str) -> SnapshotError:
        return SnapshotError(f"damaged pack index {name}: {why}")

    if not isinstance(index, dict):
        raise bad("not a JSON object")
    out: dict[str, tuple[int, int]] = {}
    for sha, where in index.items():
        try:
            _check_sha(sha)
        except SnapshotError as exc:
            raise bad(str(exc)) from None
        if (not isinstance(where, list) or len(where) != 2
                or any(isinstance(v, bool) or not isinstance(v, int) for v in where)):
            raise bad(f"{sha}: not [offset, length]")
        offset, length = where
        if offset < 0 or length <= 0 or offset + length > pack_size:
            raise bad(f"{sha}: [{offset}, {length}] is outside the pack ({pack_size} bytes)")
        out[sha] = (offset, length)
    return out


class _PackWriter:
    """Appends zstd frames to a pack's temp file; ``commit`` renames it and writes its index."""

    def __init__(self, folder: Path, stem: str, cctx: zstandard.ZstdCompressor) -> None:
        self.pack = folder / f"{stem}.pack"
        self.stem = stem
        self.index: dict[str, tuple[int, int]] = {}
        self._cctx = cctx
        self._tmp = folder / f".{stem}.pack.{os.getpid()}.{threading.get_ident()}.tmp"
        self._fh = open(self._tmp, "wb")  # noqa: SIM115 - closed by commit/abort
        self.size = 0

    def add(self, sha: str, data: bytes) -> None:
        if sha not in self.index:
            self.add_frame(sha, self._cctx.compress(data))

    def add_frame(self, sha: str, frame: bytes) -> None:
        """A frame already compressed (panic copying the blobs a pack keeps)."""
        self._fh.write(frame)
        self.index[sha] = (self.size, len(frame))
        self.size += len(frame)

    def commit(self) -> None:
        self._fh.close()
        os.replace(self._tmp, self.pack)
        index = {sha: [offset, length] for sha, (offset, length) in self.index.items()}
        _atomic_write(self.pack.with_suffix(".idx"), json.dumps(index, separators=(",", ":")).encode())

    def abort(self) -> None:
        self._fh.close()
        self._tmp.unlink(missing_ok=True)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


class SnapshotStore:
    """Takes, lists, restores, exports and panics snapshots of one recording.

    ``take`` is given a reader (rel -> bytes or None when the file is absent) and the paths
    that may have changed since the previous snapshot; the store remembers the last
    snapshot's {rel: sha} so unchanged files cost nothing. Thread-safe.

    ``packed=False`` writes one file per blob as stores did before packs (the baseline of
    ``bench privacy``); either store reads both layouts.
    """

    def __init__(self, root: Path | str, *, level: int = 3, packed: bool = True) -> None:
        self.root = Path(root)
        self._manifests = self.root / MANIFEST_DIR
        self._blobs = self.root / BLOB_DIR
        self._packs = self.root / PACK_DIR
        self._packed = packed
        self._where: dict[str, tuple[str, int, int]] = {}    # sha -> (pack stem, offset, length)
        self._has_loose = self._blobs.is_dir()
        self._level = level
        self._lock = threading.RLock()
        self._cctx = zstandard.ZstdCompressor(level=level)
        self._known_blobs: set[str] = set()
        self._known_raw: set[str] = set()      # hashes of content read before scrubbing (memory only)
        self._last: dict[str, str] = {}
        self._infos: list[SnapshotInfo] = []
        self._stale = True  # the next take must look at every path (first one, after panic)
        self._jobs: queue.Queue = queue.Queue()
        self._writer: threading.Thread | None = None
        self._made_dirs: set[Path] = set()
        self.write_errors: list[BaseException] = []
        self.stored_bytes = 0          # compressed bytes written by this process (blobs)
        self._load()

    # -- reading the store -----------------------------------------------------------------
    def _load(self) -> None:
        manifests = self._read_manifests() if self._manifests.is_dir() else []
        referenced = {sha for m in manifests for sha in m.get("set", {}).values()}
        for stem, index in self._read_indexes().items():
            if referenced.isdisjoint(index):
                continue        # written by a snapshot whose manifest never came (a crash): ignored
            for sha, (offset, length) in index.items():
                self._where[sha] = (stem, offset, length)
        for manifest in manifests:
            self._apply(self._last, manifest)
            self._infos.append(self._info(manifest, bytes_added=0))
        self._stale = True

    def _read_indexes(self) -> dict[str, dict[str, tuple[int, int]]]:
        """{pack stem: index} of every pack that has both its pack file and its index."""
        found: dict[str, dict[str, tuple[int, int]]] = {}
        if not self._packs.is_dir():
            return found
        for path in sorted(self._packs.glob("snapshot_*.idx")):
            stem = path.name.removesuffix(".idx")
            pack = self._packs / f"{stem}.pack"
            if not _PACK_STEM.fullmatch(stem) or not pack.is_file():
                continue
            try:
                index = json.loads(path.read_bytes())
                size = pack.stat().st_size
            except (OSError, ValueError, RecursionError) as exc:
                raise SnapshotError(f"damaged pack index {path.name}: {exc}") from exc
            found[stem] = _check_index(index, path.name, size)
        return found

    def _read_manifests(self) -> list[dict]:
        found = []
        for path in self._manifests.glob("snapshot_*.json"):
            try:
                manifest = json.loads(path.read_bytes())
            except (OSError, ValueError, RecursionError) as exc:
                raise SnapshotError(f"damaged snapshot manifest {path.name}: {exc}") from exc
            found.append(_check_manifest(manifest, path.name))
        found.sort(key=lambda m: m["index"])
        return found

    @staticmethod
    def _apply(state: dict[str, str], manifest: dict) -> None:
        for rel in manifest.get("removed", ()):
            state.pop(rel, None)
        state.update(manifest.get("set", {}))
        for rel in manifest.get("withheld", ()):
            state.pop(rel, None)

    @staticmethod
    def _info(manifest: dict, bytes_added: int) -> SnapshotInfo:
        return SnapshotInfo(manifest["id"], manifest["index"], manifest["t"], manifest["wall"],
                            manifest["files"], len(manifest.get("set", {})) + len(manifest.get("removed", ()))
                            + len(manifest.get("withheld", ())), bytes_added)

    def list(self) -> list[SnapshotInfo]:
        with self._lock:
            return list(self._infos)

    @property
    def needs_full_scan(self) -> bool:
        """True when the next ``take`` compares every path (first snapshot, after panic)."""
        return self._stale

    def files(self, snap_id: str) -> dict[str, str]:
        """{rel: sha256} of every file in snapshot ``snap_id``."""
        self.flush()
        with self._lock:
            state: dict[str, str] = {}
            target = None
            for manifest in self._read_manifests():
                self._apply(state, manifest)
                if manifest["id"] == snap_id:
                    target = manifest
                    break
            if target is None:
                raise SnapshotError(f"no snapshot {snap_id!r} in {self.root}")
            return state

    def blob(self, sha: str) -> bytes:
        path = self._blob_path(sha)
        where = self._where.get(sha)
        try:
            if where is None:
                packed = path.read_bytes()
            else:
                packed = self._read_frame(*where)
            data = zstandard.ZstdDecompressor().decompress(packed)
        except (OSError, zstandard.ZstdError) as exc:
            raise SnapshotError(f"missing or damaged blob {sha}: {exc}") from exc
        if hashlib.sha256(data).hexdigest() != sha:
            raise SnapshotError(f"blob {sha} does not match its hash")
        return data

    def _read_frame(self, stem: str, offset: int, length: int) -> bytes:
        with open(self._packs / f"{stem}.pack", "rb") as fh:
            fh.seek(offset)
            frame = fh.read(length)
        if len(frame) != length:
            raise OSError(f"pack {stem} ends before [{offset}, {length}]")
        return frame

    def _blob_path(self, sha: str) -> Path:
        _check_sha(sha)
        return self._blobs / sha[:2] / f"{sha[2:]}.zst"

    # -- writing -----------------------------------------------------------------------------
    def _stored(self, sha: str) -> bool:
        """Whether a blob is on disk already (or on its way there): written once, ever."""
        if sha in self._known_blobs or sha in self._where:
            return True
        if self._has_loose and self._blob_path(sha).exists():
            self._known_blobs.add(sha)
            return True
        return False

    def _put_blob(self, data: bytes, fresh: list[tuple[str, bytes]]) -> tuple[str, int]:
        sha = hashlib.sha256(data).hexdigest()
        if self._stored(sha):
            return sha, 0
        self._known_blobs.add(sha)
        if self._packed:
            fresh.append((sha, data))               # the snapshot's pack, written off the caller's thread
        else:
            self._submit(self._write_blob, self._blob_path(sha), data)
        return sha, len(data)

    def _open_pack(self, snap_id: str) -> _PackWriter:
        """A pack named for the snapshot (``snapshot_007-1`` when that name is taken)."""
        self._mkdir(self._packs)
        stem, n = snap_id, 0
        while (self._packs / f"{stem}.pack").exists() or (self._packs / f"{stem}.idx").exists():
            n += 1
            stem = f"{snap_id}-{n}"
        return _PackWriter(self._packs, stem, self._cctx)

    def _write_pack(self, snap_id: str, fresh: list[tuple[str, bytes]]) -> None:
        pack = self._open_pack(snap_id)
        try:
            for sha, data in fresh:
                pack.add(sha, data)
            pack.commit()
        except BaseException:
            pack.abort()
            raise
        self._indexed(pack)

    def _indexed(self, pack: _PackWriter) -> None:
        for sha, (offset, length) in pack.index.items():
            self._where[sha] = (pack.stem, offset, length)
        self.stored_bytes += pack.size

    # -- the background writer: a snapshot is decided in memory, written off the hot path --
    def _submit(self, fn, *args) -> None:  # noqa: ANN001
        if self._writer is None or not self._writer.is_alive():
            self._writer = threading.Thread(target=self._write_loop, name="crowd-snapshot-writer", daemon=True)
            self._writer.start()
        self._jobs.put((fn, args))

    def _write_loop(self) -> None:
        while True:
            fn, args = self._jobs.get()
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - reported by flush(), never lost silently
                log.exception("writing a snapshot failed")
                self.write_errors.append(exc)
            finally:
                self._jobs.task_done()

    def _mkdir(self, path: Path) -> None:
        if path not in self._made_dirs:
            path.mkdir(parents=True, exist_ok=True)
            self._made_dirs.add(path)

    def _write_blob(self, path: Path, data: bytes) -> None:
        self._has_loose = True
        self._mkdir(path.parent)
        packed = self._cctx.compress(data)
        _atomic_write(path, packed)
        self.stored_bytes += len(packed)

    def _write_manifest(self, name: str, data: bytes) -> None:
        if self.root not in self._made_dirs:
            self._mkdir(self._manifests)
            os.chmod(self.root, 0o700)
            self._made_dirs.add(self.root)
        _atomic_write(self._manifests / name, data)

    def close(self) -> None:
        self.flush()

    def flush(self) -> None:
        """Wait until every snapshot taken so far is on disk."""
        self._jobs.join()
        if self.write_errors:
            raise SnapshotError(f"writing snapshots failed: {self.write_errors[-1]}")

    def take(
        self,
        read: Callable[[str], bytes | None],
        changed: Iterable[str],
        all_paths: Callable[[], Iterable[str]],
        *,
        t: int,
        wall: int,
        scrub: Scrub | None = None,
        after: Callable[[str], None] | None = None,
    ) -> SnapshotInfo:
        """Record the workspace as ``read`` sees it now and return the new snapshot's info.

        ``changed`` lists every path whose content may differ from the previous snapshot
        (created, changed or deleted since); ``all_paths`` is called only when the store
        needs a full comparison (first snapshot, after a panic).

        ``scrub(rel, data) -> bytes | None`` (secret redaction) is applied to every new content
        before it is stored; None withholds that content (no blob, listed under ``withheld``). It runs on the background writer, not in the caller's thread:
        the caller only reads and hashes (the raw hashes stay in memory, to find what
        changed); the writer scrubs, stores the scrubbed bytes under their own hash, writes
        the manifest, and then calls ``after(snapshot_id)``. So the bytes on disk never held a secret
        and the snapshot's latency stays O(files changed) hashing.
        """
        if scrub is not None:
            return self._take_scrubbed(read, changed, all_paths, t=t, wall=wall, scrub=scrub, after=after)
        with self._lock:
            paths = self._paths_to_compare(changed, all_paths)
            set_: dict[str, str] = {}
            removed: list[str] = []
            fresh: list[tuple[str, bytes]] = []
            added = 0
            for rel in sorted(paths):
                _check_rel(rel)
                data = read(rel)
                if data is None:
                    if rel in self._last:
                        removed.append(rel)
                    continue
                sha, n = self._put_blob(data, fresh)
                added += n
                if self._last.get(rel) != sha:
                    set_[rel] = sha
            index = (self._infos[-1].index + 1) if self._infos else 1
            if fresh:
                self._submit(self._write_pack, snapshot_id(index), fresh)
            manifest = {
                "id": snapshot_id(index), "index": index, "t": int(t), "wall": int(wall),
                "parent": self._infos[-1].snapshot_id if self._infos else None,
                "files": 0, "set": set_, "removed": removed,
            }
            self._apply(self._last, manifest)
            manifest["files"] = len(self._last)
            data = json.dumps(manifest, separators=(",", ":"), ensure_ascii=False).encode()
            self._submit(self._write_manifest, f"{manifest['id']}.json", data)
            info = self._info(manifest, bytes_added=added + len(data))
            self._infos.append(info)
            self._stale = False
            if after is not None:
                self._submit(after, info.snapshot_id)
            return info

    def _paths_to_compare(self, changed: Iterable[str], all_paths: Callable[[], Iterable[str]]) -> set[str]:
        paths = set(changed)
        if self._stale:
            paths.update(all_paths())
            paths.update(self._last)
        return paths

    def _take_scrubbed(self, read: Callable[[str], bytes | None], changed: Iterable[str],
                       all_paths: Callable[[], Iterable[str]], *, t: int, wall: int,
                       scrub: Scrub, after: Callable[[str], None] | None) -> SnapshotInfo:
        with self._lock:
            paths = self._paths_to_compare(changed, all_paths)
            new: dict[str, bytes] = {}
            raw_set: dict[str, str] = {}
            removed: list[str] = []
            added = 0
            for rel in sorted(paths):
                _check_rel(rel)
                data = read(rel)
                if data is None:
                    if rel in self._last:
                        removed.append(rel)
                    continue
                sha = hashlib.sha256(data).hexdigest()
                if self._last.get(rel) != sha:
                    raw_set[rel] = sha
                    new[rel] = data
                    if sha not in self._known_raw:
                        self._known_raw.add(sha)
                        added += len(data)
            index = (self._infos[-1].index + 1) if self._infos else 1
            manifest = {
                "id": snapshot_id(index), "index": index, "t": int(t), "wall": int(wall),
                "parent": self._infos[-1].snapshot_id if self._infos else None,
                "files": 0, "set": {}, "removed": removed,
            }
            self._apply(self._last, {"set": raw_set, "removed": removed})
            manifest["files"] = len(self._last)
            self._submit(self._write_scrubbed, manifest, new, scrub, after)
            manifest_bytes = 120 + sum(len(rel.encode()) + 70 for rel in raw_set) + sum(len(r) + 3 for r in removed)
            info = SnapshotInfo(manifest["id"], index, int(t), int(wall), manifest["files"],
                                len(raw_set) + len(removed), added + manifest_bytes)
            self._infos.append(info)
            self._stale = False
            return info

    def _write_scrubbed(self, manifest: dict, new: dict[str, bytes], scrub: Scrub,
                        after: Callable[[str], None] | None) -> None:
        """On the writer thread: scrub, store under the scrubbed bytes' hash, then the manifest.
        Content ``scrub`` refuses (None) is withheld; a scrub that raises stores nothing of
        that snapshot. Never the raw bytes."""
        set_: dict[str, str] = {}
        withheld: list[str] = []
        pack: _PackWriter | None = None
        try:
            for rel, data in new.items():
                stored = scrub(rel, data)
                if stored is None:
                    withheld.append(rel)
                    continue
                sha = hashlib.sha256(stored).hexdigest()
                set_[rel] = sha
                if self._stored(sha):
                    continue
                if not self._packed:
                    self._known_blobs.add(sha)
                    self._write_blob(self._blob_path(sha), stored)
                    continue
                if pack is None:
                    pack = self._open_pack(manifest["id"])
                pack.add(sha, stored)
            if pack is not None:
                pack.commit()
        except BaseException:
            if pack is not None:
                pack.abort()     # nothing of this snapshot stays; its blobs are not known
            raise
        if pack is not None:
            self._indexed(pack)
        manifest["set"] = set_
        if withheld:
            manifest["withheld"] = withheld
        data = json.dumps(manifest, separators=(",", ":"), ensure_ascii=False).encode()
        self._write_manifest(f"{manifest['id']}.json", data)
        if after is not None:
            after(manifest["id"])

    # -- using snapshots ---------------------------------------------------------------------
    def restore(self, snap_id: str, dest: Path | str) -> int:
        """Write snapshot ``snap_id`` into ``dest`` (absent or empty), byte for byte."""
        dest = Path(dest)
        if dest.exists() and any(dest.iterdir()):
            raise SnapshotError(f"restore destination {dest} is not empty")
        files = self.files(snap_id)
        dest.mkdir(parents=True, exist_ok=True)
        for rel, sha in files.items():
            target = dest / _check_rel(rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.blob(sha))
        return len(files)

    def export_json(self, snap_id: str, out_file: Path | str) -> tuple[int, list[str]]:
        """Write the crowd-code 2.0 form ``{relpath: content}``; returns (written, skipped).

        crowd-code 2.0 snapshots hold text only, so files that are not UTF-8 are left out
        and named in the returned list rather than mangled.
        """
        content: dict[str, str] = {}
        skipped: list[str] = []
        for rel, sha in sorted(self.files(snap_id).items()):
            try:
                content[rel] = self.blob(sha).decode("utf-8")
            except UnicodeDecodeError:
                skipped.append(rel)
        Path(out_file).write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
        return len(content), skipped

    def panic(self, cutoff_t: int) -> int:
        """Delete snapshots taken at or after ``cutoff_t`` and blobs only they referenced."""
        return self._panic(lambda m: m["t"] >= cutoff_t)

    def panic_wall(self, covers: Callable[[int], bool]) -> int:
        """Delete snapshots whose wall clock (epoch ms) ``covers`` says is in a panic window
        (crowd.panic: another recorder's panic, or one resumed after a crash), and blobs only
        they referenced. A later snapshot's delta then no longer sets what a deleted one set."""
        return self._panic(lambda m: covers(m["wall"]))

    def _panic(self, doomed: Callable[[dict], bool]) -> int:
        self.flush()
        with self._lock:
            manifests = self._read_manifests()
            keep = [m for m in manifests if not doomed(m)]
            drop = [m for m in manifests if doomed(m)]
            if not drop:
                self._sweep_packs({sha for m in keep for sha in m.get("set", {}).values()})
                return 0
            referenced = {sha for m in keep for sha in m.get("set", {}).values()}
            candidates = {sha for m in drop for sha in m.get("set", {}).values()} - referenced
            for m in drop:
                (self._manifests / f"{m['id']}.json").unlink(missing_ok=True)
            for sha in candidates:
                self._blob_path(sha).unlink(missing_ok=True)
                self._known_blobs.discard(sha)
            self._sweep_packs(referenced)
            self._last = {}
            for m in keep:
                self._apply(self._last, m)
            dropped = {m["id"] for m in drop}
            self._infos = [i for i in self._infos if i.snapshot_id not in dropped]
            self._known_raw.clear()
            self._stale = True
            return len(drop)

    def _sweep_packs(self, referenced: set[str]) -> None:
        """Leave on disk only the packed blobs that ``referenced`` (the kept manifests) needs.

        A pack holding nothing referenced is deleted (index first, so no index ever points at
        a missing pack); one holding some is rewritten with only those (new pack and index
        first, then the old ones go). Packs without an index and temp files of a crashed
        writer are deleted. Runs with no writer busy (``_panic`` flushed, and crowd.panic
        leaves folders that a live recorder holds to that recorder)."""
        if not self._packs.is_dir():
            return
        indexes = self._read_indexes()
        live = set(indexes)
        seen: set[str] = set()       # a blob in two packs (one of a crash, written again) is kept once
        for stem, index in indexes.items():
            keep = {sha: where for sha, where in index.items() if sha in referenced and sha not in seen}
            seen.update(keep)
            if len(keep) == len(index):
                continue
            old_pack, old_index = self._packs / f"{stem}.pack", self._packs / f"{stem}.idx"
            if keep:
                pack = self._open_pack(stem.split("-")[0])
                try:
                    for sha, (offset, length) in keep.items():
                        pack.add_frame(sha, self._read_frame(stem, offset, length))
                    pack.commit()
                except BaseException:
                    pack.abort()
                    raise
            old_index.unlink(missing_ok=True)
            old_pack.unlink(missing_ok=True)
            self._known_blobs.difference_update(index)
            live.discard(stem)
            if keep:
                live.add(pack.stem)
        for path in list(self._packs.iterdir()):
            if path.name.startswith(".") and path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)          # a writer that died mid-pack
            elif path.suffix in (".pack", ".idx") and path.name[: -len(path.suffix)] not in live:
                path.unlink(missing_ok=True)          # a pack whose index never came, or the reverse
        self._where = {sha: (stem, offset, length) for stem, index in self._read_indexes().items()
                       for sha, (offset, length) in index.items()}
