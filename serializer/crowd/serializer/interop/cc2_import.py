"""Import crowd-code 2.0 sessions (folders, ``temp/`` folders, chunk files, source_part tarballs).

Every cc2 event becomes one of ours (an observation becomes a viewport observation plus, when
a terminal is active, a terminal screen); fields we have no native place for are kept so an
export gives the same cc2 events back: the selection's line/character positions and text go
into ``cc2`` on the selection, the viewport's cursor position into the editor's ``cursor``.
Snapshots become a ``snapshot`` event followed by one ``file_content`` per file, tagged with
the snapshot id. crowd-code 2.0 keys snapshots by absolute path (a privacy leak); the importer
finds the workspace root from the relative paths of the session's own events and keeps only
workspace-relative paths, reporting anything outside.

What real sessions need (issue 15): 2.0 records no file contents and logs only the edits that
touch the visible lines, so each viewport is the truth about the lines it shows: the importer
replays what it emits (a ``ReplayState``) and, where a viewport disagrees with what it knows,
emits a ``file_content`` with ``base: "viewport"`` (``viewport_base``); a view from line 1 that
is shorter than the editor (``editor_height``) covers the whole file. Selections get offsets
from that knowledge. The terminal's raw lines become the screen they show (``screens``). The
session id adds the start time to 2.0's window-wide ``sessionId``.

Damaged input (a chunk that is not JSON, a tarball that does not open or is cut short) is
reported in ``problems`` and the rest still imports; nothing readable is dropped silently.
The files are untrusted: nothing outside the imported folder is read through a symlink, and
tarball members that are links or have absolute or ``..`` names are refused, each with a problem;
nothing is unpacked past ``MAX_ARCHIVE_BYTES`` and no member over ``MAX_MEMBER_BYTES`` is read
(a gzip bomb ends with a problem, the members before it kept).
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
from crowd.serializer.bulk import bulk
from crowd.serializer.interop.cc2_clean import clean
from crowd.serializer.interop.cc2_layout import CHUNK_RE, FOLDER_RE, PART_RE, SNAPSHOT_RE
from crowd.serializer.interop.screens import cc2_screen
from crowd.serializer.replay.state import ReplayState
from crowd.text.document import Document
from crowd.text.lines import line_end


class Cc2ImportError(ValueError):
    """Nothing importable was found at the given path(s)."""


@dataclass
class Cc2Session:
    session_id: str
    start_ms: int
    chunks: list[dict[str, Any]] = field(default_factory=list)
    snapshots: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    folder_time: str | None = None    # the time text of the crowd-code-<id>-<time> folder, if any

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
    if not isinstance(start, int) or isinstance(start, bool):
        start = next((e["timestamp"] for c in ordered for e in c["events"]
                      if isinstance(e, dict) and isinstance(e.get("timestamp"), int)), 0)
    return Cc2Session(session_id, start, ordered, snapshots, problems, _folder_time(paths))


def _folder_time(paths: tuple[Path | str, ...]) -> str | None:
    """The time text of the ``crowd-code-<id>-<time>`` folder the inputs are in (or are)."""
    for path in paths:
        for part in (Path(path).resolve(), *Path(path).resolve().parents):
            m = FOLDER_RE.match(part.name)
            if m:
                return m.group("time")
    return None


def _members(path: Path, problems: list[str]) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every file under ``path``: folders are walked, tarballs opened."""
    if path.is_dir():
        yield from _folder_members(path, problems)
        return
    if PART_RE.search(path.name) or path.name.endswith((".tar.gz", ".tgz", ".tar")):
        yield from _tar_members(path, problems)
        return
    if path.is_file():
        if _fits(path, path.name, problems):
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
            if _fits(child, rel, problems):
                yield rel, child.read_bytes()
    # The uploaded source parts repeat the chunks of temp/; open them only when temp/ is
    # incomplete (no chunks, or a gap), instead of unpacking every chunk twice.
    if not loose or sorted(loose) != list(range(len(loose))):
        for part in parts:
            yield from _tar_members(part, problems)


def _fits(path: Path, label: str, problems: list[str]) -> bool:
    """Whether a loose chunk/snapshot file is within MAX_MEMBER_BYTES (else a problem)."""
    size = path.stat().st_size
    if size > MAX_MEMBER_BYTES:
        problems.append(f"{label}: {size:,} bytes, more than the {MAX_MEMBER_BYTES:,} a crowd-code file "
                        "can hold; skipped")
        return False
    return True


def _inside(link: Path, root: Path) -> bool:
    """Whether ``link`` (inside the imported folder) resolves to a place inside ``root``."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling or looping: nothing to read there
        return False
    return target == root or root in target.parents


# A source part holds 30 minutes of chunks (a few MB of JSON) and the snapshots of that
# window: crowd-code 2.0 caps each cached file at 100 KB and the cache at 5,000 files, so one
# snapshot is at most ~500 MB. Anything unpacking to more is not a real part (a gzip bomb:
# 1 GiB of zeros gzips to ~1 MB); these bounds keep memory and CPU finite on crafted input.
MAX_MEMBER_BYTES = 512 * 1024 * 1024     # one chunk or snapshot file, unpacked
MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024  # everything one tarball unpacks to
MAX_MEMBERS = 100_000                    # members of one tarball (each costs a TarInfo)


class _TooLarge(Exception):
    """The tarball unpacks to more than MAX_ARCHIVE_BYTES."""


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
            tap = _ReadTap(stream, MAX_ARCHIVE_BYTES)
            with tarfile.open(fileobj=tap, mode="r:") as tar:  # type: ignore[call-overload]
                last: tarfile.TarInfo | None = None
                for count, member in enumerate(tar, start=1):
                    last = member
                    if count > MAX_MEMBERS:
                        problems.append(f"{label}: more than {MAX_MEMBERS:,} members, not a crowd-code "
                                        "source part; stopped reading, kept the members before")
                        return
                    refused = _refusal(member)
                    if refused:
                        problems.append(f"{label}: member {member.name!r} {refused}; skipped")
                        continue
                    if not member.isfile():
                        continue  # folders carry nothing
                    if member.size > MAX_MEMBER_BYTES:
                        problems.append(f"{label}: member {member.name!r} unpacks to {member.size:,} bytes, "
                                        f"more than the {MAX_MEMBER_BYTES:,} a crowd-code file can hold; skipped")
                        continue
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
    except _TooLarge:
        problems.append(f"{label}: unpacks to more than {MAX_ARCHIVE_BYTES:,} bytes (a gzip bomb, not a "
                        "crowd-code source part); stopped reading, kept the members before")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        problems.append(f"{label}: tarball damaged or truncated ({exc}); kept what was read before it")


class _ReadTap:
    """A read-only file that remembers where its last read started and what it returned,
    and refuses to go past ``limit`` bytes (a read, or a seek that would unpack that far)."""

    def __init__(self, inner: BinaryIO, limit: int) -> None:
        self.inner = inner
        self.limit = limit
        self.last: tuple[int, bytes] = (0, b"")

    def read(self, size: int = -1) -> bytes:
        at = self.inner.tell()
        room = max(0, self.limit + 1 - at)
        data = self.inner.read(room if size is None or size < 0 else min(size, room))
        if at + len(data) > self.limit:
            raise _TooLarge
        self.last = (at, data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        target = offset if whence == 0 else self.inner.tell() + offset if whence == 1 else None
        if target is not None and target > self.limit:
            raise _TooLarge  # seeking a gzip stream forward unpacks everything on the way
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
        if not isinstance(text, str):
            problems.append(f"{name}: the content of a file is not a string; left out")
            continue
        p = path.replace("\\", "/")
        if not (p.startswith("/") or ":" in p[:3]):
            out[p] = text
            continue
        if root and p.startswith(root.replace("\\", "/").rstrip("/") + "/"):
            out[p[len(root.rstrip('/')) + 1:]] = text
        else:
            problems.append(f"{name}: a file outside the workspace was not imported (absolute path withheld)")
    return out


def editor_height(raw: list[Any]) -> int:
    """The most lines any viewport of the session showed: the editor's height, as far as the
    recording tells (a viewport from line 1 that shows fewer lines ended at the file's end)."""
    most = 0
    for ev in raw:
        if isinstance(ev, dict) and ev.get("type") == "observation":
            vp = (ev.get("observation") or {}).get("viewport")
            if isinstance(vp, dict):
                most = max(most, _int(vp.get("endLine"), 1) - _int(vp.get("startLine"), 1) + 1)
    return most


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def viewport_base(doc: Document | None, start_line: int, end_line: int, content: str,
                  height: int) -> tuple[str, bool] | None:
    """(new text, complete) for a file after seeing ``content`` on lines ``start_line..end_line``
    (0-based), or None when what we know already shows exactly that (or cannot be anchored).

    crowd-code 2.0 records no file contents, and logs only the edits that touch the visible
    ranges: what a viewport shows is the truth at that moment. The seen lines replace the same
    lines of what we know; an unknown file becomes known from its first line when a viewport
    starts there; lines never seen are kept as they are. A viewport from line 1 that shows
    fewer lines than the editor's height (``editor_height``) covers the whole file: the file
    is then complete.
    """
    whole = start_line == 0 and end_line + 1 < height
    if whole:
        new, complete = content, True
    elif doc is None or not doc.text:
        if start_line != 0:
            return None                  # lines above the viewport are unknown: nothing to anchor to
        new, complete = content, False
    else:
        starts = doc.line_starts()
        if start_line < len(starts):
            head = doc.text[:starts[start_line]]
        elif start_line == len(starts) and not doc.complete:
            head = doc.text + "\n"      # a known prefix, continued right below its last line
        else:
            return None
        tail = doc.text[line_end(doc.text, starts[end_line]):] if end_line + 1 < len(starts) else ""
        new, complete = head + content + tail, doc.complete
    if doc is not None and new == doc.text and complete == doc.complete:
        return None
    return new, complete


def cc2_to_events(session: Cc2Session) -> list[dict[str, Any]]:
    """Our events for a cc2 session (see the module docstring for the mapping)."""
    start = session.start_ms
    out: list[dict[str, Any]] = []
    seq = 0
    last_t = 0
    known = ReplayState()  # what the files are, as the events so far tell: the edit base

    def emit(type_: str, kind: str, wall: int, **fields: Any) -> None:
        nonlocal seq, last_t
        seq += 1
        t = max(last_t, (wall - start) * 1000)
        last_t = t
        ev = {"seq": seq, "t": t, "wall": wall, "type": type_, "kind": kind}
        ev.update(fields)
        out.append(ev)
        known.apply(ev)

    begin: dict[str, Any] = {"cc2_folder_time": session.folder_time} if session.folder_time else {}
    # 2.0's sessionId is VS Code's window session: every recording started in one window shares
    # it. Our id adds the start time, so two recordings never collide (in crowd import or a
    # dataset); the same session imported from its folder or its tarballs gets the same id.
    emit("session", "start", start, session_id=f"{session.session_id}-{start}", cc2_session_id=session.session_id,
         format=FORMAT_NAME,
         format_version=FORMAT_VERSION, folders=[], client={"name": "crowd-code", "version": "2.0"},
         settings={}, imported_from="crowd-code-2.0", **begin)
    raw = [c for c in (clean(e, session.problems) for e in session.events()) if c is not None]
    height = editor_height(raw)
    named = [e["action"].get("file") for e in raw if e["type"] == "action"]
    named += [(e["observation"]["viewport"] or {}).get("file") for e in raw if e["type"] == "observation"]
    rel_paths = {p for p in named if isinstance(p, str)}
    abs_keys = [k for snap in session.snapshots.values() for k in snap]
    root = _workspace_root(abs_keys, rel_paths) if abs_keys else None
    active_terminal: str | None = None
    based: set[str] = set()  # files whose text came from a snapshot or a viewport (not only edits)
    screens: dict[tuple[Any, tuple[str, ...]], dict[str, Any]] = {}  # the last screen emulated
    last_seq = 0
    for ev in raw:
        wall = ev.get("timestamp") if isinstance(ev.get("timestamp"), int) else start + last_t // 1000
        if isinstance(ev.get("sequence"), int):
            if ev["sequence"] != last_seq + 1:
                session.problems.append(f"sequence jumps from {last_seq} to {ev['sequence']}")
            last_seq = ev["sequence"]
        etype = ev["type"]
        if etype == "action":
            _import_action(ev.get("action") or {}, wall, emit, session.problems, known)
        elif etype == "observation":
            obs = ev.get("observation") or {}
            vp = obs.get("viewport")
            term = obs.get("activeTerminal")
            if term is None and active_terminal is not None:
                emit("action", "terminal_close", wall, source="unknown", terminal=active_terminal)
                active_terminal = None
            editors = []
            if vp:
                s, e = _int(vp.get("startLine"), 1) - 1, _int(vp.get("endLine"), 1) - 1
                cur = vp.get("cursorPosition") or {}
                content = vp.get("content") if isinstance(vp.get("content"), str) else ""
                path = vp.get("file")
                if isinstance(path, str) and s >= 0 and e >= s:
                    doc = known.files.get(path)
                    if doc is not None and not doc.complete and path not in based:
                        doc = None  # only edits applied to nothing: no knowledge to keep
                    base = viewport_base(doc, s, e, content, height)
                    if base is not None:
                        emit("observation", "file_content", wall, file=path, text=base[0], base="viewport",
                             complete=base[1])
                        based.add(path)
                editors.append({"file": path, "visible_ranges": [[s, e]], "first_line": s,
                                "text": content, "selections": [],
                                "cursor": [cur.get("line", s), cur.get("character", 0)], "active": True})
            emit("observation", "viewport", wall, editors=editors)
            if term is not None:
                lines = [x if isinstance(x, str) else str(x) for x in (term.get("viewport") or [])]
                active_terminal = term.get("id")
                key = (active_terminal, tuple(lines))
                screen = screens.get(key) or cc2_screen(lines)  # 2.0 repeats unchanged lines in each observation
                screens.clear()
                screens[key] = screen
                emit("observation", "terminal_screen", wall, terminal=term.get("id"), name=term.get("name"),
                     rows=screen["rows"], cols=screen["cols"], lines=screen["lines"], cursor=screen["cursor"],
                     focused=True, title=term.get("name") or "", alt_screen=False, cc2_viewport=lines)
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
                based.add(path)
        else:
            session.problems.append(f"unknown cc2 event type {etype!r} skipped")
    return out


def _import_action(act: dict[str, Any], wall: int, emit, problems: list[str], known: ReplayState) -> None:
    kind = act.get("kind")
    source = act.get("source") if act.get("source") in ("user", "agent", "unknown", "git", "git_checkout") else "unknown"
    if kind == "edit":
        diff = act.get("diff") or {}
        emit("action", "edit", wall, source=source, file=act.get("file"),
             changes=[{"offset": int(diff.get("rangeOffset", 0)), "length": int(diff.get("rangeLength", 0)),
                       "text": diff.get("text") or ""}], reason=act.get("reason"), version=None)
    elif kind == "selection":
        start, end = act.get("selectionStart"), act.get("selectionEnd")
        sels = _selection_offsets(known.files.get(act.get("file")), start, end)
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


def _selection_offsets(doc: Document | None, start: Any, end: Any) -> list[dict[str, int]]:
    """Our ``selections`` for 2.0's line/character positions, where the file is known that far
    (else ``[]``: the positions stay in the event's ``cc2`` field)."""
    if isinstance(start, int) and isinstance(end, int):
        return [{"anchor": start, "active": end}]
    if doc is None or not isinstance(start, dict) or not isinstance(end, dict):
        return []
    points = []
    for pos in (start, end):
        line, char = _int(pos.get("line"), -1), _int(pos.get("character"), -1)
        if line < 0 or char < 0 or line >= doc.line_count():
            return []
        points.append(doc.offset_at(line, char))
    return [{"anchor": points[0], "active": points[1]}]


@bulk
def import_cc2(*paths: Path | str) -> tuple[list[dict[str, Any]], list[str]]:
    """Our events and the problems found, for cc2 session files at ``paths``."""
    session = read_cc2(*paths)
    events = cc2_to_events(session)
    return events, session.problems
