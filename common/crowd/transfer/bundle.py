"""What gets uploaded: finished files of one session, packed into one tar per bundle.

Two kinds of recordings produce files:
- editor recordings: ``<recordings>/<session_id>/seg-NNNNNN.crowd`` plus a ``snapshots/``
  store (blobs and manifests);
- desktop recordings (crowd-cast layout): ``recording_<uuid>_segNNNN.mp4`` and
  ``input_<uuid>_segNNNN.msgpack`` in one folder.

A file is *finished* when the recorder will not write to it again: a later segment of the
same session exists, the caller says the session ended (``final``), or it has not been
modified for ``idle_s`` (a crashed recorder). A file that a process still holds open for
writing (crowd.transfer.live) is never finished, whatever its age or ``final`` says, and
its session is not over (issue 13 item 6: a paused sidecar's segment was deleted). Bundles are plain tars (the payloads are already
compressed) with a ``manifest.json`` first, listing every member's size and sha256 so the
receiving side can check a bundle on its own.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import time
from dataclasses import dataclass, field
from collections.abc import Collection
from pathlib import Path

from crowd.transfer.live import locked_folders, open_for_writing

EDITOR_SEGMENT = re.compile(r"^seg-(\d{6})\.crowd$")
DESKTOP_FILE = re.compile(r"^(recording|input)_([0-9a-fA-F-]{8,64})_seg(\d{4,})\.(mp4|msgpack)$")
DEFAULT_IDLE_S = 600.0


@dataclass
class Candidate:
    """Files of one session that are ready to be bundled."""
    session_id: str
    kind: str                 # "editor" | "desktop"
    base: Path                # member names are relative to this folder
    files: list[Path] = field(default_factory=list)
    final: bool = False       # the session is over: its folder can go once all is uploaded


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                return h.hexdigest()
            h.update(block)


def editor_candidate(folder: Path, *, final: bool = False, idle_s: float = DEFAULT_IDLE_S,
                     now: float | None = None, held: Collection[Path] | None = None) -> Candidate:
    """Finished segments and snapshot files of one editor recording folder.

    ``held``: files open for writing and folders a live writer locks (default: asked of
    the kernel, crowd.transfer.live). In a live folder the newest segment stays, whatever
    its age, and the session is not over.
    """
    now = time.time() if now is None else now
    folder = Path(folder)
    segments = sorted(p for p in folder.iterdir() if p.is_file() and EDITOR_SEGMENT.match(p.name))
    if held is None:
        held = open_for_writing(segments) | locked_folders([folder])
    held = set(held)
    live = folder in held or any(seg in held for seg in segments)
    final = final and not live
    files: list[Path] = []
    for i, seg in enumerate(segments):
        is_last = i == len(segments) - 1
        if seg in held:
            continue
        if not is_last or final or now - seg.stat().st_mtime >= idle_s:
            files.append(seg)
    snaps = folder / "snapshots"
    if snaps.is_dir():
        for p in sorted(snaps.rglob("*")):
            if p.is_file() and not p.name.endswith((".tmp", ".part")) and not p.name.startswith("."):
                files.append(p)
    done = not live and (final or (bool(segments) and now - segments[-1].stat().st_mtime >= idle_s))
    return Candidate(folder.name, "editor", folder, files, final=done)


def desktop_candidates(folder: Path, *, final: bool = False, idle_s: float = DEFAULT_IDLE_S,
                       now: float | None = None, live: frozenset[str] | set[str] = frozenset(),
                       held: Collection[Path] | None = None) -> list[Candidate]:
    """Finished crowd-cast segment pairs in ``folder``, one candidate per recording uuid.

    ``live``: sessions a running recorder is writing; their newest segment is never taken,
    however long it sat idle (a paused recorder resumes into it). ``held``: files open for
    writing (default: asked of the kernel); a session with one is live too.
    """
    now = time.time() if now is None else now
    by_session: dict[str, dict[int, list[Path]]] = {}
    for p in Path(folder).iterdir():
        m = DESKTOP_FILE.match(p.name)
        if m and p.is_file():
            by_session.setdefault(m.group(2), {}).setdefault(int(m.group(3)), []).append(p)
    if held is None:
        held = open_for_writing([p for segs in by_session.values() for ps in segs.values() for p in ps])
    held = set(held)
    out = []
    for uuid, segs in sorted(by_session.items()):
        numbers = sorted(segs)
        files: list[Path] = []
        newest = max(p.stat().st_mtime for ps in segs.values() for p in ps)
        is_live = uuid in live or any(p in held for ps in segs.values() for p in ps)
        for n in numbers:
            is_last = n == numbers[-1]
            if any(p in held for p in segs[n]):
                continue
            if not is_last or (not is_live and (final or now - max(p.stat().st_mtime for p in segs[n]) >= idle_s)):
                files.extend(sorted(segs[n]))
        done = not is_live and (final or now - newest >= idle_s)
        out.append(Candidate(uuid, "desktop", Path(folder), files, final=done))
    return out


def write_bundle(dest: Path, candidate: Candidate, files: list[Path], *, user_id: str,
                 bundle_id: str) -> tuple[int, str]:
    """Write the tar atomically (``.part`` then rename, fsynced); return (size, sha256)."""
    entries = []
    for p in files:
        entries.append({"name": p.relative_to(candidate.base).as_posix(), "size": p.stat().st_size,
                        "sha256": sha256_file(p)})
    manifest = {"bundle": bundle_id, "session_id": candidate.session_id, "kind": candidate.kind,
                "user_id": user_id, "created": time.time(), "final": candidate.final, "files": entries}
    part = dest.with_name(dest.name + ".part")
    with open(part, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            data = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo(f"{candidate.session_id}/manifest.json")
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(data))
            for p, entry in zip(files, entries):
                info = tarfile.TarInfo(f"{candidate.session_id}/{entry['name']}")
                info.size, info.mtime, info.mode = entry["size"], int(p.stat().st_mtime), 0o600
                with open(p, "rb") as fh:
                    tar.addfile(info, fh)
        raw.flush()
        os.fsync(raw.fileno())
    os.chmod(part, 0o600)
    os.replace(part, dest)
    return dest.stat().st_size, sha256_file(dest)
