"""Editor events as the VS Code extension sends them, and the recording they end up in: tests
drive the real sidecar with these instead of calling its handlers."""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from crowd.format import read_recording
from crowd.server.workspace.folders import path_to_uri

WORDS = ["river", "stone", "maple", "quiet", "amber", "cloud", "tiger", "lemon", "harbor", "violet"]


def open_event(path: Path, text: str | None = None, version: int = 1) -> dict[str, Any]:
    return {"kind": "document_open", "uri": path_to_uri(path),
            "text": path.read_text() if text is None else text, "languageId": "python", "version": version}


def insert(path: Path, offset: int, text: str, version: int) -> dict[str, Any]:
    return {"kind": "document_change", "uri": path_to_uri(path), "version": version,
            "changes": [{"offset": offset, "length": 0, "text": text}], "reason": None,
            "visible": True, "active": True}


def recorded(directory: str | Path) -> list[dict[str, Any]]:
    return read_recording(directory).events


def edit_texts(events: list[dict[str, Any]]) -> list[str]:
    return [c["text"] for e in events if e.get("kind") == "edit" for c in e["changes"]]


def marker(tag: str) -> str:
    """A unique, low-entropy marker (random hex would be redacted as a secret)."""
    return tag + "".join(random.choice(WORDS) for _ in range(4))
