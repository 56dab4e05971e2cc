"""Names and shapes of crowd-code 2.0's on-disk layout, shared by the exporter and importer.

``<export>/crowd-code-<sessionId>-<time>/temp/chunk_NNN.json`` (from 000), each
``{"version": "2.0", "sessionId", "startTime", "chunkIndex", "events": [...]}``;
``temp/snapshots/snapshot_NNN.json`` (from 001), a JSON object path -> content; uploads
``source_part_NNN.tar.gz`` (from 001) holding chunk files and ``snapshots/``.
"""
from __future__ import annotations

import re
import time

CC2_VERSION = "2.0"
CHUNK_SECONDS = 300          # crowd-code 2.0 writes a chunk every 5 minutes
UPLOAD_SECONDS = 1800        # and uploads every 30 minutes
CC2_SOURCES = ("user", "agent", "unknown", "git", "git_checkout")
CHUNK_RE = re.compile(r"(?:^|/)chunk_(\d+)\.json$")
SNAPSHOT_RE = re.compile(r"(?:^|/)snapshots/(snapshot_\d+)\.json$")
PART_RE = re.compile(r"source_part_(\d+)\.tar\.gz$")
FOLDER_RE = re.compile(r"^crowd-code-(?P<session>.+)-(?P<time>\d{4}_\d{2}_\d{2}-\d{2}\.\d{2}\.\d{2})$")


def chunk_name(index: int) -> str:
    return f"chunk_{index:03d}.json"


def snapshot_name(number: int) -> str:
    return f"snapshot_{number:03d}"


def part_name(number: int) -> str:
    return f"source_part_{number:03d}.tar.gz"


def folder_name(session_id: str, start_ms: int) -> str:
    """The session folder name; the time is rendered in UTC so exports are reproducible."""
    stamp = time.strftime("%Y_%m_%d-%H.%M.%S", time.gmtime(start_ms / 1000))
    return f"crowd-code-{session_id}-{stamp}"
