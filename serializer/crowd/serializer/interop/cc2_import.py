"""Import crowd-code 2.0 sessions (folders, ``temp/`` folders, chunk files, source_part tarballs).

Every cc2 event becomes one of ours (an observation becomes a viewport observation plus, when
a terminal is active, a terminal screen); fields we have no native place for are kept so an
export gives the same cc2 events back: the selection's line/character positions and text go
into ``cc2`` on the selection, the viewport's cursor position into the editor's ``cursor``.
Snapshots become a ``snapshot`` event followed by one ``file_content`` per file, tagged with
the snapshot id. crowd-code 2.0 keys snapshots by absolute path (a privacy leak); the importer
finds the workspace root from the relative paths of the session's own events and keeps only
workspace-relative paths, reporting anything outside.

Damaged input (a chunk that is not JSON, a tarball that does not open or is cut short) is
reported in ``problems`` and the rest still imports; nothing readable is dropped silently.
The files are untrusted: nothing outside the imported folder is read through a symlink, and
tarball members that are links or have absolute or ``..`` names are refused, each with a problem.
"""
from __future__ import annotations

import contextlib
import gzip
import json
import os
import posixpath
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from crowd.format.schema import FORMAT_NAME, FORMAT_VERSION
from crowd.serializer.interop.cc2_layout import CHUNK_RE, FOLDER_RE, PART_RE, SNAPSHOT_RE
from crowd.serializer.bulk import bulk


class Cc2ImportError(ValueError):
    """Nothing importable was found at the given path(s)."""


@dataclass
class Cc2Session:
    session_id: str
    start_ms: int
    chunks: list[dict[str, Any]] = field(default_factory=list)
    snapshots: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def events(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for chunk in self.chunks:
            out.extend(chunk.get("events") or [])
        return out


def is_cc2(path: Path) -> bool:
    path = Path(path)
    if path.is_file():
        return bool(PART_RE.search(path.name) or CHUNK_RE.search(path.name))
    if path.is_dir():
        return (FOLDER_RE.match(path.name) is not None or (path / "temp").is_dir()
                or any(path.glob("chunk_*.json")) or any(path.glob("source_part_*.tar.gz")))
    return False


def read_cc2(*paths: Path | str) -> Cc2Session:
    """Gather the chunks and snapshots of one cc2 session from any mix of its files."""
    chunks: dict[int, dict[str, Any]] = {}
    snapshots: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    seen: dict[str, bytes] = {}
    for path in paths:
        for name, data in _members(Path(path), problems):
            m = CHUNK_RE.search(name)
            s = SNAPSHOT_RE.search(name)
            if not m and not s:
                continue
            key = m.group(0).lstrip("/") if m else s.group(1)
            if seen.get(key) == data:
                continue  # the same file again (loose in temp/ and inside a source_part): parse once
            seen[key] = data
            try:
                obj = json.loads(data.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                problems.append(f"{name}: not valid JSON ({exc}); skipped")
                continue
            if m:
                if not isinstance(obj, dict) or not isinstance(obj.get("events"), list):
                    problems.append(f"{name}: not a crowd-code chunk (no events list); skipped")
                    continue
                if obj.get("version") != "2.0":
                    problems.append(f"{name}: version {obj.get('version')!r}, expected '2.0'; importing anyway")
                index = obj.get("chunkIndex", int(m.group(1)))
                if index in chunks and chunks[index] != obj:
                    problems.append(f"{name}: chunk {index} seen twice with different content; kept the first")
                    continue
                chunks[index] = obj
            else:
                if not isinstance(obj, dict):
                    problems.append(f"{name}: snapshot is not an object; skipped")
                    continue
                snapshots[s.group(1)] = obj
    if not chunks:
        raise Cc2ImportError(f"no crowd-code 2.0 chunk_NNN.json found in {', '.join(map(str, paths))}"
                             + (f" ({'; '.join(problems)})" if problems else ""))
    ordered = [chunks[i] for i in sorted(chunks)]
    expected = list(range(min(chunks), min(chunks) + len(chunks)))
    if sorted(chunks) != expected or min(chunks) != 0:
        problems.append(f"chunk indices {sorted(chunks)} have gaps: events in missing chunks are lost")
    first = ordered[0]
    session_id = str(first.get("sessionId") or "unknown-session")
    start = first.get("startTime")
    if not isinstance(start, int):
        start = next((e.get("timestamp") for c in ordered for e in c["events"] if isinstance(e, dict)), 0)
    return Cc2Session(session_id, start, ordered, snapshots, problems)


def _members(path: Path, problems: list[str]) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every file under ``path``: folders are walked, tarballs opened."""
    if path.is_dir():
        yield from _folder_members(path, problems)
        return
    if PART_RE.search(path.name) or path.name.endswith((".tar.gz", ".tgz", ".tar")):
        yield from _tar_members(path, problems)
        return
    if path.is_file():
        yield path.name, path.read_bytes()
        return
    raise Cc2ImportError(f"{path} does not exist")


def _folder_members(folder: Path, problems: list[str]) -> Iterator[tuple[str, bytes]]:
    """The chunk and snapshot files under ``folder``, never reading outside it.

    The folder is untrusted: a symlink that leads outside it (to ``~/.ssh/id_rsa`` named
    ``chunk_000.json``, or to a folder elsewhere) is refused with a problem; links that stay
    inside are read where they point. Folders reached through a link are not walked (their
    contents are read under their real place, if that is inside).
    """
    root = folder.resolve()
    loose: list[int] = []
    parts: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        dirnames.sort()
        for name in list(dirnames):
            child = here / name
            if child.is_symlink() and not _inside(child, root):
                problems.append(f"{child.relative_to(folder).as_posix()}: a link to a folder outside "
                                f"{folder.name} was not followed")
        for name in sorted(filenames):
            child = here / name
            rel = child.relative_to(folder).as_posix()
            wanted = PART_RE.search(name) or CHUNK_RE.search(rel) or SNAPSHOT_RE.search(rel)
            if not wanted:
                continue
            if child.is_symlink() and not _inside(child, root):
                problems.append(f"{rel}: a link that leads outside {folder.name} (or nowhere) was not "
                                "followed; skipped")
                continue
            if not child.is_file():
                problems.append(f"{rel}: not a regular file; skipped")
                continue
            if PART_RE.search(name):
                parts.append(child)
                continue
            m = CHUNK_RE.search(rel)
            if m:
                loose.append(int(m.group(1)))
            yield rel, child.read_bytes()
    # The uploaded source parts repeat the chunks of temp/; open them only when temp/ is
    # incomplete (no chunks, or a gap), instead of unpacking every chunk twice.
    if not loose or sorted(loose) != list(range(len(loose))):
        for part in parts:
            yield from _tar_members(part, problems)


def _inside(link: Path, root: Path) -> bool:
    """Whether ``link`` (inside the imported folder) resolves to a place inside ``root``."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling or looping: nothing to read there
        return False
    return target == root or root in target.parents


def _tar_members(path: Path, problems: list[str]) -> Iterator[tuple[str, bytes]]:
    """The regular files of a tarball, each checked; what was read before damage is kept.

    Links (symbolic or hard), devices and names that are absolute or climb with ``..`` are
    refused with a problem each. A truncated archive -- a gzip stream cut short, a member cut
    short, or no end-of-archive marker -- is reported, and every member read before the
    damage is still imported.
    """
    label = path.name
    try:
        with _tar_stream(path) as stream:
            tap = _ReadTap(stream)
            with tarfile.open(fileobj=tap, mode="r:") as tar:  # type: ignore[call-overload]
                last: tarfile.TarInfo | None = None
                for member in tar:
                    last = member
                    refused = _refusal(member)
                    if refused:
                        problems.append(f"{label}: member {member.name!r} {refused}; skipped")
                        continue
                    if not member.isfile():
                        continue  # folders carry nothing
                    fh = tar.extractfile(member)
                    if fh is not None:
                        data = fh.read()
                        if len(data) != member.size:
                            raise tarfile.ReadError(f"member {member.name!r} is cut short")
                        yield member.name, data
            if last is not None:
                # tarfile ends quietly at a cut-off or unreadable header: the last block it read
                # must be the end-of-archive marker (zeros) right after the last member
                end = last.offset_data + -(-last.size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
                at, block = tap.last
                if at != end or len(block) < tarfile.BLOCKSIZE or block.strip(b"\0"):
                    problems.append(f"{label}: truncated or damaged after member {last.name!r} (no "
                                    "end-of-archive marker); members after it, if any, are lost")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        problems.append(f"{label}: tarball damaged or truncated ({exc}); kept what was read before it")


class _ReadTap:
    """A read-only file that remembers where its last read started and what it returned."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.last: tuple[int, bytes] = (0, b"")

    def read(self, size: int = -1) -> bytes:
        at = self.inner.tell()
        data = self.inner.read(size)
        self.last = (at, data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.inner.seek(offset, whence)

    def tell(self) -> int:
        return self.inner.tell()


@contextlib.contextmanager
def _tar_stream(path: Path) -> Iterator[BinaryIO]:
    """The archive's bytes, gunzipped when it is gzip (by its magic, not its name)."""
    with open(path, "rb") as raw:
        if raw.read(2) == b"\x1f\x8b":
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                yield gz  # type: ignore[misc]
        else:
            raw.seek(0)
            yield raw


def _refusal(member: tarfile.TarInfo) -> str | None:
    """Why ``member`` may not be imported, or None."""
    name = member.name.replace("\\", "/")
    if member.issym() or member.islnk():
        return f"is a link (to {member.linkname!r}), not a file"
    if name.startswith("/") or ":" in name[:3] or ".." in name.split("/"):
        return "has an absolute or '..' path"
    if not (member.isfile() or member.isdir()):
        return "is not a regular file"
    return None


def _workspace_root(abs_paths: list[str], rel_paths: set[str]) -> str | None:
    """The folder that absolute snapshot paths are relative to, learnt from known relative paths."""
    for p in abs_paths:
        for rel in rel_paths:
            if rel and p.endswith("/" + rel):
                return p[: -len(rel) - 1]
    absolute = [p for p in abs_paths if p.startswith("/") or ":" in p[:3]]
    if len(absolute) >= 1:
        common = posixpath.commonpath([p.replace("\\", "/") for p in absolute]) if len(absolute) > 1 else posixpath.dirname(absolute[0])
        return common
    return None


def _relativize(files: dict[str, str], root: str | None, problems: list[str], name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for path, text in files.items():
        p = path.replace("\\", "/")
        if not (p.startswith("/") or ":" in p[:3]):
            out[p] = text
            continue
        if root and p.startswith(root.replace("\\", "/").rstrip("/") + "/"):
            out[p[len(root.rstrip('/')) + 1:]] = text
        else:
            problems.append(f"{name}: a file outside the workspace was not imported (absolute path withheld)")
    return out


def cc2_to_events(session: Cc2Session) -> list[dict[str, Any]]:
    """Our events for a cc2 session (see the module docstring for the mapping)."""
    start = session.start_ms
    out: list[dict[str, Any]] = []
    seq = 0
    last_t = 0

    def emit(type_: str, kind: str, wall: int, **fields: Any) -> None:
        nonlocal seq, last_t
        seq += 1
        t = max(last_t, (wall - start) * 1000)
        last_t = t
        ev = {"seq": seq, "t": t, "wall": wall, "type": type_, "kind": kind}
        ev.update(fields)
        out.append(ev)

    emit("session", "start", start, session_id=session.session_id, format=FORMAT_NAME,
         format_version=FORMAT_VERSION, folders=[], client={"name": "crowd-code", "version": "2.0"},
         settings={}, imported_from="crowd-code-2.0")
    raw = session.events()
    rel_paths = {e.get("action", {}).get("file") for e in raw if isinstance(e, dict) and e.get("type") == "action"}
    rel_paths |= {((e.get("observation") or {}).get("viewport") or {}).get("file") for e in raw if isinstance(e, dict)}
    rel_paths.discard(None)
    abs_keys = [k for snap in session.snapshots.values() for k in snap]
    root = _workspace_root(abs_keys, rel_paths) if abs_keys else None
    active_terminal: str | None = None
    last_seq = 0
    for ev in raw:
        if not isinstance(ev, dict) or "type" not in ev:
            session.problems.append(f"an event that is not an object with a type was skipped: {str(ev)[:80]}")
            continue
        wall = ev.get("timestamp") if isinstance(ev.get("timestamp"), int) else start + last_t // 1000
        if isinstance(ev.get("sequence"), int):
            if ev["sequence"] != last_seq + 1:
                session.problems.append(f"sequence jumps from {last_seq} to {ev['sequence']}")
            last_seq = ev["sequence"]
        etype = ev["type"]
        if etype == "action":
            _import_action(ev.get("action") or {}, wall, emit, session.problems)
        elif etype == "observation":
            obs = ev.get("observation") or {}
            vp = obs.get("viewport")
            term = obs.get("activeTerminal")
            if term is None and active_terminal is not None:
                emit("action", "terminal_close", wall, source="unknown", terminal=active_terminal)
                active_terminal = None
            editors = []
            if vp:
                s, e = int(vp.get("startLine", 1)) - 1, int(vp.get("endLine", 1)) - 1
                cur = vp.get("cursorPosition") or {}
                editors.append({"file": vp.get("file"), "visible_ranges": [[s, e]], "first_line": s,
                                "text": vp.get("content") or "", "selections": [],
                                "cursor": [cur.get("line", s), cur.get("character", 0)], "active": True})
            emit("observation", "viewport", wall, editors=editors)
            if term is not None:
                lines = list(term.get("viewport") or [])
                active_terminal = term.get("id")
                emit("observation", "terminal_screen", wall, terminal=term.get("id"), name=term.get("name"),
                     rows=len(lines), cols=max((len(x) for x in lines), default=0), lines=lines,
                     cursor=[max(0, len(lines) - 1), len(lines[-1]) if lines else 0], focused=True,
                     title=term.get("name") or "", alt_screen=False)
        elif etype == "workspace_snapshot":
            name = ev.get("snapshotId")
            files = session.snapshots.get(name)
            if files is None:
                session.problems.append(f"{name}: snapshot file missing; the marker is kept without contents")
                files = {}
            files = _relativize(files, root, session.problems, name)
            emit("snapshot", "snapshot", wall, snapshot_id=name, files=len(files))
            for path, text in files.items():
                emit("observation", "file_content", wall, file=path, text=text, snapshot=name)
        else:
            session.problems.append(f"unknown cc2 event type {etype!r} skipped")
    return out


def _import_action(act: dict[str, Any], wall: int, emit, problems: list[str]) -> None:
    kind = act.get("kind")
    source = act.get("source") if act.get("source") in ("user", "agent", "unknown", "git", "git_checkout") else "unknown"
    if kind == "edit":
        diff = act.get("diff") or {}
        emit("action", "edit", wall, source=source, file=act.get("file"),
             changes=[{"offset": int(diff.get("rangeOffset", 0)), "length": int(diff.get("rangeLength", 0)),
                       "text": diff.get("text") or ""}], reason=act.get("reason"), version=None)
    elif kind == "selection":
        start, end = act.get("selectionStart"), act.get("selectionEnd")
        sels = [{"anchor": start, "active": end}] if isinstance(start, int) and isinstance(end, int) else []
        extra = {k: act[k] for k in ("selectionStart", "selectionEnd", "selectedText") if k in act}
        emit("action", "selection", wall, source=source, file=act.get("file"), selections=sels, cc2=extra)
    elif kind == "tab_switch":
        emit("action", "tab_switch", wall, source=source, file=act.get("file"), previous_file=act.get("previousFile"))
    elif kind == "terminal_focus":
        emit("action", "terminal_focus", wall, source=source, terminal=act.get("terminalId"), name=act.get("terminalName"))
    elif kind == "terminal_command":
        emit("action", "terminal_command", wall, source=source, terminal=act.get("terminalId"),
             name=act.get("terminalName"), command=act.get("command") or "", cwd=None, exit_code=None,
             start_t=None, end_t=None)
    elif kind == "file_change":
        emit("action", "file_change", wall, source=source, file=act.get("file"),
             change=act.get("changeType") or "change", diff=act.get("diff"))
    else:
        problems.append(f"unknown cc2 action kind {kind!r} skipped")


@bulk
def import_cc2(*paths: Path | str) -> tuple[list[dict[str, Any]], list[str]]:
    """Our events and the problems found, for cc2 session files at ``paths``."""
    session = read_cc2(*paths)
    events = cc2_to_events(session)
    return events, session.problems
