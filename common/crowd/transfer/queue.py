"""The persisted upload queue (sqlite3, WAL): bundles, the files they hold, and settings.

Why sqlite: one file, atomic transactions, survives a killed process without a journal of
our own. Invariants the uploader relies on:
- a bundle row exists only once its tar is complete on disk (written, fsynced, renamed);
- a bundle is marked ``done`` only after the store confirmed its checksum, and local files
  are deleted only after that mark is committed (``cleanup`` finishes deletions a crash
  interrupted);
- panic removes only the held bundles whose content reaches past the cutoff, with their
  ``files`` entries, so their surviving source files are bundled again later.
Times are wall-clock seconds so that a hold or a backoff survives a restart.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crowd.transfer.bundle import Candidate, write_bundle

DEFAULT_HOLD_S = 600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bundles (
    id TEXT PRIMARY KEY, session_id TEXT NOT NULL, kind TEXT NOT NULL, file_name TEXT NOT NULL,
    path TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, created REAL NOT NULL,
    ready_at REAL NOT NULL, content_start REAL NOT NULL, content_end REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0, last_error TEXT, sources TEXT NOT NULL,
    base TEXT NOT NULL, final INTEGER NOT NULL DEFAULT 0, uploaded REAL
);
CREATE INDEX IF NOT EXISTS bundles_due ON bundles(state, ready_at, next_try);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, bundle_id TEXT NOT NULL, size INTEGER NOT NULL, mtime REAL NOT NULL,
    deletable INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class Bundle:
    id: str
    session_id: str
    kind: str
    file_name: str
    path: Path
    size: int
    sha256: str
    created: float
    ready_at: float
    content_start: float
    content_end: float
    state: str
    attempts: int
    next_try: float
    last_error: str | None
    sources: list[str]
    base: str
    final: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Bundle":
        return cls(row["id"], row["session_id"], row["kind"], row["file_name"], Path(row["path"]),
                   row["size"], row["sha256"], row["created"], row["ready_at"], row["content_start"],
                   row["content_end"], row["state"], row["attempts"], row["next_try"], row["last_error"],
                   json.loads(row["sources"]), row["base"], bool(row["final"]))


class UploadQueue:
    """A folder holding bundle tars plus ``queue.sqlite3``; safe to use from several threads."""

    def __init__(self, directory: Path | str, *, hold_s: float | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        self.bundle_dir = self.directory / "bundles"
        self.bundle_dir.mkdir(exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.directory / "queue.sqlite3", check_same_thread=False,
                                   isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        if hold_s is not None:
            self.set("hold_s", str(hold_s))
        self.recovered = self.cleanup()

    # -- settings -----------------------------------------------------------------------------
    def get(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT INTO kv(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                             (key, value))

    @property
    def hold_s(self) -> float:
        return float(self.get("hold_s", str(DEFAULT_HOLD_S)))

    def user_id(self) -> str:
        """A random per-user id, made once; it identifies uploads without naming anyone."""
        with self._lock:
            value = self.get("user_id")
            if value is None:
                value = str(uuid.uuid4())
                self.set("user_id", value)
            return value

    @property
    def consent(self) -> bool:
        return self.get("consent") == "granted"

    @property
    def paused(self) -> bool:
        return self.get("paused") == "1"

    # -- adding --------------------------------------------------------------------------------
    def known(self, path: Path) -> bool:
        """True when ``path`` (unchanged since) is already in a bundle."""
        with self._lock:
            row = self._db.execute("SELECT size, mtime FROM files WHERE path=?", (str(path),)).fetchone()
        if row is None:
            return False
        try:
            st = path.stat()
        except FileNotFoundError:
            return True
        return row["size"] == st.st_size and abs(row["mtime"] - st.st_mtime) < 1e-6

    def add(self, candidate: Candidate, *, now: float | None = None) -> Bundle | None:
        """Bundle the candidate's files not yet queued; None when there is nothing new."""
        files = [p for p in candidate.files if p.exists() and not self.known(p)]
        if not files:
            return None
        now = time.time() if now is None else now
        bundle_id = uuid.uuid4().hex
        file_name = f"{candidate.kind}_{candidate.session_id}_{int(now)}_{bundle_id[:12]}.tar"
        dest = self.bundle_dir / f"{bundle_id}.tar"
        try:
            stats = [(p, p.stat()) for p in files]
            size, sha = write_bundle(dest, candidate, files, user_id=self.user_id(), bundle_id=bundle_id)
        except BaseException:
            # a source vanished mid-way (e.g. panic deleted it): no copy may stay behind
            for leftover in (dest, dest.with_name(dest.name + ".part")):
                _shred(leftover)
            raise
        start = min(st.st_mtime for _, st in stats)
        end = max(st.st_mtime for _, st in stats)
        # snapshot files of a live session stay (the store still reads them); segments go
        deletable = [candidate.final or p.parent == candidate.base and p.suffix in (".crowd", ".mp4", ".msgpack")
                     for p in files]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO bundles(id, session_id, kind, file_name, path, size, sha256, created, ready_at,"
                    " content_start, content_end, sources, base, final) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (bundle_id, candidate.session_id, candidate.kind, file_name, str(dest), size, sha, now,
                     now + self.hold_s, start, end, json.dumps([str(p) for p in files]), str(candidate.base),
                     int(candidate.final)))
                self._db.executemany(
                    "INSERT INTO files(path, bundle_id, size, mtime, deletable) VALUES(?,?,?,?,?)"
                    " ON CONFLICT(path) DO UPDATE SET bundle_id=excluded.bundle_id, size=excluded.size,"
                    " mtime=excluded.mtime, deletable=excluded.deletable",
                    [(str(p), bundle_id, st.st_size, st.st_mtime, int(d)) for (p, st), d in zip(stats, deletable)])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                dest.unlink(missing_ok=True)
                raise
        return self.bundle(bundle_id)

    # -- reading -------------------------------------------------------------------------------
    def bundle(self, bundle_id: str) -> Bundle | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM bundles WHERE id=?", (bundle_id,)).fetchone()
        return Bundle.from_row(row) if row else None

    def bundles(self, state: str | None = None) -> list[Bundle]:
        with self._lock:
            if state is None:
                rows = self._db.execute("SELECT * FROM bundles ORDER BY created").fetchall()
            else:
                rows = self._db.execute("SELECT * FROM bundles WHERE state=? ORDER BY created", (state,)).fetchall()
        return [Bundle.from_row(r) for r in rows]

    def due(self, now: float, limit: int = 100, exclude: Iterable[str] = ()) -> list[Bundle]:
        """Queued bundles past their hold and their backoff, oldest first."""
        skip = set(exclude)
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM bundles WHERE state='queued' AND ready_at<=? AND next_try<=? ORDER BY created LIMIT ?",
                (now, now, limit + len(skip))).fetchall()
        return [Bundle.from_row(r) for r in rows if r["id"] not in skip][:limit]

    def next_wakeup(self) -> float | None:
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(MAX(ready_at, next_try)) FROM bundles WHERE state='queued'").fetchone()
        return row[0]

    def counts(self, now: float | None = None) -> dict[str, int]:
        now = time.time() if now is None else now
        with self._lock:
            held = self._db.execute("SELECT COUNT(*) FROM bundles WHERE state='queued' AND ready_at>?", (now,)).fetchone()[0]
            queued = self._db.execute("SELECT COUNT(*) FROM bundles WHERE state='queued'").fetchone()[0]
            done = self._db.execute("SELECT COUNT(*) FROM bundles WHERE state='done'").fetchone()[0]
        return {"held": held, "waiting": queued - held, "uploaded": done}

    # -- outcomes ------------------------------------------------------------------------------
    def mark_failed(self, bundle_id: str, error: str, next_try: float) -> None:
        with self._lock:
            self._db.execute("UPDATE bundles SET attempts=attempts+1, next_try=?, last_error=? WHERE id=? AND state='queued'",
                             (next_try, error[:500], bundle_id))

    def mark_done(self, bundle_id: str, *, now: float | None = None) -> bool:
        """Record the store's confirmation (committed before anything is deleted); False
        when the bundle is no longer queued (a panic purged it meanwhile)."""
        with self._lock:
            cur = self._db.execute("UPDATE bundles SET state='done', uploaded=?, last_error=NULL WHERE id=?",
                                   (time.time() if now is None else now, bundle_id))
            return cur.rowcount == 1

    def delete_local(self, bundle: Bundle) -> int:
        """Delete a confirmed bundle's tar and its deletable sources; returns files removed."""
        removed = 0
        with self._lock:
            row = self._db.execute("SELECT state FROM bundles WHERE id=?", (bundle.id,)).fetchone()
            if row is None or row["state"] != "done":
                raise RuntimeError(f"bundle {bundle.id} is not confirmed by the server; refusing to delete")
            rows = self._db.execute("SELECT path FROM files WHERE bundle_id=? AND deletable=1", (bundle.id,)).fetchall()
            paths = [Path(r["path"]) for r in rows]
            # bundles upload concurrently: the session's final bundle may be confirmed before
            # earlier ones, so whichever is confirmed once the session is over sweeps
            session_over = bundle.final or self._db.execute(
                "SELECT 1 FROM bundles WHERE session_id=? AND kind=? AND final=1 AND state='done' LIMIT 1",
                (bundle.session_id, bundle.kind)).fetchone() is not None
            still_queued = 0
            if session_over:
                # every uploaded file of it can go now (snapshot files were kept while it was live)
                rows = self._db.execute(
                    "SELECT f.path FROM files f JOIN bundles b ON b.id=f.bundle_id"
                    " WHERE b.session_id=? AND b.kind=? AND b.state='done'", (bundle.session_id, bundle.kind)).fetchall()
                paths += [Path(r["path"]) for r in rows]
                still_queued = self._db.execute(
                    "SELECT COUNT(*) FROM bundles WHERE session_id=? AND kind=? AND state='queued'",
                    (bundle.session_id, bundle.kind)).fetchone()[0]
        for p in set(paths):
            try:
                p.unlink()
                removed += 1
            except FileNotFoundError:
                pass
        bundle.path.unlink(missing_ok=True)
        if session_over and not still_queued:
            _prune_empty(Path(bundle.base), keep=bundle.kind == "desktop")
        return removed

    def cleanup(self) -> dict[str, int]:
        """After a restart: finish deletions a crash interrupted, drop orphan tars."""
        stats = {"orphans": 0, "finished_deletes": 0, "queued": 0}
        with self._lock:
            known = {Path(r["path"]).name for r in self._db.execute("SELECT path FROM bundles WHERE state='queued'")}
            done = [Bundle.from_row(r) for r in self._db.execute("SELECT * FROM bundles WHERE state='done'")]
            stats["queued"] = len(known)
        for p in self.bundle_dir.iterdir():
            if p.name not in known and (p.name.endswith(".part") or p.suffix == ".tar"):
                if p.name.endswith(".part") or not any(b.path.name == p.name for b in done):
                    p.unlink(missing_ok=True)
                    stats["orphans"] += 1
        for b in done:
            if b.path.exists():
                self.delete_local(b)
                stats["finished_deletes"] += 1
        return stats

    # -- panic ---------------------------------------------------------------------------------
    def purge(self, cutoff_wall: float, *, session_id: str | None = None, kind: str | None = None) -> list[str]:
        """Delete every bundle not yet in the store, held *or* due, holding content at or
        after ``cutoff_wall`` (epoch seconds); returns their ids.

        Panic calls this (issue 13 item 2: a bundle past its hold but not yet sent used to be
        uploaded later). The tars are overwritten with zeros before unlinking and their
        ``files`` entries go, so whatever survives in the source files is bundled again.
        ``session_id`` / ``kind`` ("editor", "desktop") narrow it to one recorder's bundles.
        A bundle whose PUT is already on the wire may still land in the store: the uploader
        finds its row gone and keeps nothing of it locally (docs/privacy.md, "Upload").
        """
        with self._lock:
            sql = "SELECT * FROM bundles WHERE state='queued' AND content_end>=?"
            args: list[Any] = [cutoff_wall]
            if session_id is not None:
                sql += " AND session_id=?"
                args.append(session_id)
            if kind is not None:
                sql += " AND kind=?"
                args.append(kind)
            doomed = [Bundle.from_row(r) for r in self._db.execute(sql, args).fetchall()]
            self._db.execute("BEGIN IMMEDIATE")
            for b in doomed:
                self._db.execute("DELETE FROM files WHERE bundle_id=?", (b.id,))
                self._db.execute("DELETE FROM bundles WHERE id=?", (b.id,))
            self._db.execute("COMMIT")
        for b in doomed:
            _shred(b.path)
        return [b.id for b in doomed]

    def panic(self, cutoff_wall: float, *, session_id: str | None = None, kind: str | None = None,
              now: float | None = None) -> list[str]:
        """The panic button's part here: :meth:`purge` (``now`` is kept for old callers)."""
        return self.purge(cutoff_wall, session_id=session_id, kind=kind)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _shred(path: Path) -> None:
    try:
        size = path.stat().st_size
        with open(path, "r+b") as fh:
            fh.write(b"\x00" * size)
            fh.flush()
            os.fsync(fh.fileno())
        path.unlink()
    except FileNotFoundError:
        pass


def _prune_empty(base: Path, *, keep: bool) -> None:
    """Remove empty folders under (and, for editor recordings, including) ``base``."""
    if not base.is_dir():
        return
    for d in sorted((p for p in base.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        try:
            d.rmdir()
        except OSError:
            pass
    if not keep:
        try:
            base.rmdir()
        except OSError:
            pass
