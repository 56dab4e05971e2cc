"""[Baseline copy, before issue 16] Scrubbing events before they are written: every secret becomes ``[REDACTED:<kind>]``.

The recording pipeline (crowd.pipeline) calls ``Redactor.scrub_event(event)`` on each event
before it reaches the writer; the event is changed in place and the returned notes
(``what``, ``where``, ``file``) are recorded as ``redaction`` events, so a dataset knows
text was removed and where.

Every string in the event is scrubbed except header and identifier fields (seq, type, kind,
source, paths, ids): future event fields are covered without a change here. Lists of
strings (terminal screen lines) are scanned joined by newlines so that a PEM block or a
token spread over several rows is still found.

Every string (identifier fields included) also goes through ``LocalPathRewriter``
(local_paths.py): workspace roots, the home directory and a ``login@`` prompt prefix are
rewritten, without a note (they are not secrets), so recordings hold no machine-local path.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.privacy_baseline.detect import MIN_SECRET_LEN, Finding, SecretFinder
from crowd.privacy.local_paths import LocalPathRewriter
from crowd.privacy.paths import SecretPathPolicy

# Fields that hold identifiers, not free text (paths are checked by is_secret_path instead).
SKIP_KEYS = frozenset({
    "seq", "t", "wall", "type", "kind", "source", "agent", "file", "old_file", "previous_file",
    "terminal", "session_id", "snapshot_id", "reason", "change", "phase", "format", "what",
    "where", "folders", "anchor", "active", "focused", "start_t", "end_t", "exit_code",
})


def marker(kind: str) -> str:
    return f"[REDACTED:{kind}]"


class Redactor:
    """Finds and replaces secrets in text and events; thread-safe (it holds no mutable state)."""

    def __init__(self, extra_globs: Iterable[str] = (), *, finder: SecretFinder | None = None,
                 workspace_roots: Iterable[tuple[str, str | Path]] = ()) -> None:
        self.paths = SecretPathPolicy(extra_globs)
        self.finder = finder or SecretFinder()
        self.local_paths = LocalPathRewriter(workspace_roots)
        self._lock = threading.Lock()
        self.redactions = 0

    def set_workspace_roots(self, roots: Iterable[tuple[str, str | Path]]) -> None:
        """Tell the redactor the workspace folders ``(recorded name, absolute root)`` so their
        absolute paths in any text become ``.`` (one folder) or the folder's name."""
        self.local_paths = LocalPathRewriter(roots)

    def is_secret_path(self, rel: str) -> bool:
        return self.paths.is_secret(rel)

    # -- text ----------------------------------------------------------------------------------
    def scrub_text(self, text: str, filename: str | None = None) -> tuple[str, list[Finding]]:
        """Return ``text`` with each secret replaced by its marker, and the findings."""
        findings = self.finder.find(text, filename)
        if not findings:
            return text, []
        out, pos = [], 0
        for f in findings:
            out.append(text[pos:f.start])
            out.append(marker(f.kind))
            pos = f.end
        out.append(text[pos:])
        return "".join(out), findings

    def scrub_lines(self, lines: list[str], filename: str | None = None) -> tuple[list[str], list[Finding]]:
        """Scrub a list of lines as one text (secrets may span rows); keeps the line count."""
        joined = "\n".join(lines)
        findings = self.finder.find(joined, filename)
        if not findings:
            return lines, []
        starts, pos = [], 0
        for line in lines:
            starts.append(pos)
            pos += len(line) + 1
        new_lines = []
        for i, line in enumerate(lines):
            lo, hi = starts[i], starts[i] + len(line)
            pieces, cur = [], lo
            for f in findings:
                if f.end <= lo or f.start >= hi:
                    continue
                s, e = max(f.start, lo), min(f.end, hi)
                pieces.append(joined[cur:s])
                pieces.append(marker(f.kind))
                cur = e
            pieces.append(joined[cur:hi])
            new_lines.append("".join(pieces))
        return new_lines, findings

    # -- events --------------------------------------------------------------------------------
    def scrub_event(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Replace secrets in ``event`` in place; return one note per replacement.

        A note is ``{"what": kind, "where": field path, "file": file or None}``; the session
        records each as a ``redaction`` event.
        """
        if event.get("type") == "redaction":
            return []
        notes: list[dict[str, Any]] = []
        filename = event.get("file") if isinstance(event.get("file"), str) else None
        self._walk(event, "", filename, notes)
        if notes:
            with self._lock:
                self.redactions += len(notes)
        return notes

    def _walk(self, node: dict[str, Any], path: str, filename: str | None, notes: list[dict[str, Any]]) -> None:
        # Hot path (every event): strings too short to hold a secret are skipped before any
        # detector runs, and field paths are only spelled out when something was found.
        local = node.get("file")
        local_file = local if isinstance(local, str) else filename
        rewrite = self.local_paths.rewrite
        for key, value in node.items():
            if isinstance(value, str):
                # local paths and the login name: every string, identifiers included (a
                # terminal's name can be its prompt); same-size assignment, safe while iterating
                new_value = rewrite(value)
                if new_value is not value:
                    node[key] = value = new_value
                if key in SKIP_KEYS or len(value) < MIN_SECRET_LEN:
                    continue
                new, findings = self.scrub_text(value, local_file)
                if findings:
                    node[key] = new
                    where = f"{path}.{key}" if path else str(key)
                    notes.extend(_note(f, where, local_file) for f in findings)
            elif isinstance(value, list):
                if value and isinstance(value[0], str) and all(isinstance(v, str) for v in value):
                    rewritten = [rewrite(v) for v in value]
                    if any(a is not b for a, b in zip(rewritten, value)):
                        node[key] = value = rewritten
                    if key in SKIP_KEYS or sum(map(len, value)) + len(value) - 1 < MIN_SECRET_LEN:
                        continue
                    new_lines, findings = self.scrub_lines(value, local_file)
                    if findings:
                        node[key] = new_lines
                        where = f"{path}.{key}" if path else str(key)
                        notes.extend(_note(f, where, local_file) for f in findings)
                else:
                    self._walk_list(value, f"{path}.{key}" if path else str(key), local_file, notes)
            elif isinstance(value, dict):
                self._walk(value, f"{path}.{key}" if path else str(key), local_file, notes)

    def _walk_list(self, node: list[Any], path: str, filename: str | None, notes: list[dict[str, Any]]) -> None:
        for i, item in enumerate(node):
            if isinstance(item, str):
                new_item = self.local_paths.rewrite(item)
                if new_item is not item:
                    node[i] = new_item
            elif isinstance(item, dict):
                self._walk(item, f"{path}[{i}]", filename, notes)
            elif isinstance(item, list):
                self._walk_list(item, f"{path}[{i}]", filename, notes)


def _note(f: Finding, where: str, file: str | None) -> dict[str, Any]:
    # offset/length: the secret's place in the field's original text (for lists: in the
    # lines joined by "\n"), so a replayer can map later offsets past the shorter marker.
    return {"what": f.kind, "where": where, "file": file, "offset": f.start, "length": f.end - f.start}
