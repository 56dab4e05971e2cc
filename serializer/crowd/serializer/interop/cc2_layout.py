"""Names and shapes of crowd-code 2.0's on-disk layout, shared by the exporter and importer.

``<export>/crowd-code-<sessionId>-<time>/temp/chunk_NNN.json`` (from 000), each
``{"version": "2.0", "sessionId", "startTime", "chunkIndex", "events": [...]}``;
``temp/snapshots/snapshot_NNN.json`` (from 001), a JSON object path -> content; uploads
``source_part_NNN.tar.gz`` (from 001) holding chunk files and ``snapshots/``.

A session id comes from the file being imported (or from a recording that was itself
imported), so it is untrusted: ``path_component`` is the one place that turns it into a
folder name, and both the exporter and ``crowd import`` build paths only through it, so a
``sessionId`` such as ``../../X`` or ``/etc`` can never place a file outside the output folder.
"""
from __future__ import annotations

import hashlib
import re
import time

CC2_VERSION = "2.0"
CHUNK_SECONDS = 300          # crowd-code 2.0 writes a chunk every 5 minutes
UPLOAD_SECONDS = 1800        # and uploads every 30 minutes
CC2_SOURCES = ("user", "agent", "unknown", "git", "git_checkout")
CHUNK_RE = re.compile(r"(?:^|/)chunk_(\d+)\.json$")
SNAPSHOT_RE = re.compile(r"(?:^|/)snapshots/(snapshot_\d+)\.json$")
PART_RE = re.compile(r"source_part_(\d+)\.tar\.gz$")
# crowd-code names its folder ``crowd-code-<sessionId>-YYYY_MM_DD-HH.MM.SS.mmm`` in the
# recorder's *local* time; the milliseconds are padded to two digits only (``.07``, ``.123``).
# Older copies without milliseconds are still recognised.
FOLDER_RE = re.compile(r"^crowd-code-(?P<session>.+)-(?P<time>\d{4}_\d{2}_\d{2}-\d{2}\.\d{2}\.\d{2}(?:\.\d{1,3})?)$")


# what a session id may keep as is: letters, digits and "._-" (never "/", "\\", NUL or controls)
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_COMPONENT_BYTES = 120   # leaves room for "crowd-code-" + the time under the usual 255-byte limit


def path_component(untrusted: object) -> str:
    """``untrusted`` as one safe path component (a file or folder name, never a path).

    Ids made of ASCII letters, digits and ``._-`` that start with a letter or digit (every
    id crowd and crowd-code write: UUIDs, ``synthetic-0003``) come back unchanged. Anything
    else -- separators, ``..``, a leading dot, controls, non-ASCII, empty or over
    ``MAX_COMPONENT_BYTES`` -- has each unsafe character replaced by ``_`` and gets a short
    hash of the original appended, so two different ids never share a folder.
    """
    text = untrusted if isinstance(untrusted, str) else str(untrusted)
    if _SAFE_ID.fullmatch(text) and len(text) <= MAX_COMPONENT_BYTES:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    kept = re.sub(r"[^A-Za-z0-9._-]", "_", text).lstrip("._-")[:MAX_COMPONENT_BYTES - 13]
    return f"{kept}-{digest}" if kept else f"id-{digest}"


def chunk_name(index: int) -> str:
    return f"chunk_{index:03d}.json"


def snapshot_name(number: int) -> str:
    return f"snapshot_{number:03d}"


def part_name(number: int) -> str:
    return f"source_part_{number:03d}.tar.gz"


def folder_stamp(start_ms: int) -> str:
    """``YYYY_MM_DD-HH.MM.SS.mmm`` of ``start_ms`` in local time, as crowd-code writes it
    (milliseconds padded to two digits, like its ``padStart(2)``)."""
    try:
        seconds, ms = divmod(int(start_ms), 1000)
        return time.strftime("%Y_%m_%d-%H.%M.%S", time.localtime(seconds)) + f".{ms:02d}"
    except (OverflowError, OSError, ValueError, TypeError):  # a start time no calendar holds
        return "0000_00_00-00.00.00.00"


def parse_stamp(stamp: str) -> int | None:
    """Epoch ms of a folder's ``YYYY_MM_DD-HH.MM.SS[.mmm]`` read as local time, or None."""
    m = re.fullmatch(r"(\d{4}_\d{2}_\d{2}-\d{2}\.\d{2}\.\d{2})(?:\.(\d{1,3}))?", stamp)
    if not m:
        return None
    try:
        seconds = time.mktime(time.strptime(m.group(1), "%Y_%m_%d-%H.%M.%S"))
    except (ValueError, OverflowError):
        return None
    return int(seconds) * 1000 + int(m.group(2) or 0)


def folder_name(session_id: str, start_ms: int, stamp: str | None = None) -> str:
    """The session folder name (the id made safe by ``path_component``) with the start time
    as crowd-code writes it (local time, milliseconds); ``stamp`` keeps the time text of the
    folder a session was imported from, so a re-export is named like the original."""
    if stamp is None or not re.fullmatch(r"\d{4}_\d{2}_\d{2}-\d{2}\.\d{2}\.\d{2}(?:\.\d{1,3})?", stamp):
        stamp = folder_stamp(start_ms)
    return f"crowd-code-{path_component(session_id)}-{stamp}"
