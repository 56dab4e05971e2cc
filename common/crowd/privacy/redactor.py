"""Scrubbing events before they are written: every secret becomes ``[REDACTED:<kind>]``.

The recording pipeline (crowd.pipeline) calls ``Redactor.scrub_event(event)`` on each event
before it reaches the writer; the event is changed in place and the returned notes
(``what``, ``where``, ``file``) are recorded as ``redaction`` events, so a dataset knows
text was removed and where.

**Every string** in the event is scrubbed, names and header fields included (``file``,
``agent``, ``phase``, ``reason``, ``session/start``'s ``settings`` and ``uploadUrl``): a
secret in a file name or a setting is as much a leak as one in an edit (issue 16). A string
under a secret-named key (``{"apiToken": "9f86d0..."}``) is judged with its key as the name
(checks.name_strength / plausible_value), as an assignment in text would be. Short strings
seen clean are remembered (``CLEAN_CACHE`` entries), so the fixed words every event carries
cost one set lookup, not a scan; so are strings the path rewrite leaves unchanged (until the
workspace roots change).

Lists of strings (terminal screen lines) are scanned joined by newlines so that a PEM block
spread over several rows is still found; a row exactly as wide as the terminal (``cols``)
was wrapped, so it is joined to the next row *without* a newline, and a URL password or a
token wrapped across two rows is one candidate again.

**Split pastes** (``stitch.py``): the last 256 characters inserted in each file (and typed
or pasted into each terminal) are kept in memory; an insertion that continues the previous
one is scanned together with it, and a text that ends inside what could be a secret (a
prefix, an open keyword value) has that end redacted, so a secret pasted in two halves is
replaced in both.

Every string (identifier fields included) also goes through ``LocalPathRewriter``
(local_paths.py): workspace roots, the home directory and a ``login@`` prompt prefix are
rewritten, without a note (they are not secrets), so recordings hold no machine-local path.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from crowd.privacy.checks import name_strength, plausible_value
from crowd.privacy.detect import MIN_SECRET_LEN, Finding, SecretFinder
from crowd.privacy.local_paths import LocalPathRewriter
from crowd.privacy.paths import SecretPathPolicy
from crowd.privacy.stitch import Stitcher

# Fields that never hold free text: numbers and fixed words; not scanned at all.
SKIP_KEYS = frozenset({"seq", "t", "wall", "type", "kind", "source", "change", "format", "what", "where"})
CLEAN_CACHE = 8192          # short strings remembered as clean (then the set is cleared)
CLEAN_MAX_LEN = 160         # longer strings are always scanned


def marker(kind: str) -> str:
    return f"[REDACTED:{kind}]"


class Redactor:
    """Finds and replaces secrets in text and events; thread-safe (its state, the clean-string
    cache and the stitcher's tails, is swapped or locked, never half-updated)."""

    def __init__(self, extra_globs: Iterable[str] = (), *, finder: SecretFinder | None = None,
                 workspace_roots: Iterable[tuple[str, str | Path]] = ()) -> None:
        self.paths = SecretPathPolicy(extra_globs)
        self.finder = finder or SecretFinder()
        self.local_paths = LocalPathRewriter(workspace_roots)
        self._lock = threading.Lock()
        self.redactions = 0
        self._clean: set[str] = set()          # short strings scanned and found clean
        self._plain: set[str] = set()          # short strings the path rewrite leaves as they are
        self.stitcher = Stitcher(self.finder)

    def set_workspace_roots(self, roots: Iterable[tuple[str, str | Path]]) -> None:
        """Tell the redactor the workspace folders ``(recorded name, absolute root)`` so their
        absolute paths in any text become ``.`` (one folder) or the folder's name."""
        self.local_paths = LocalPathRewriter(roots)
        self._plain = set()

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

    def scrub_lines(self, lines: list[str], filename: str | None = None, *,
                    width: int | None = None) -> tuple[list[str], list[Finding]]:
        """Scrub a list of lines as one text (secrets may span rows); keeps the line count.
        With ``width`` (a terminal's columns) a row of exactly that length was wrapped and
        continues on the next row: the two are joined without a newline."""
        starts, pos, parts = [], 0, []
        last = len(lines) - 1
        for i, line in enumerate(lines):
            starts.append(pos)
            parts.append(line)
            pos += len(line)
            if i < last and not (width and len(line) == width):
                parts.append("\n")
                pos += 1
        joined = "".join(parts)
        findings = self.finder.find(joined, filename)
        if not findings:
            return lines, []
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

        A note is ``{"what": kind, "where": field path, "file": file or None, "offset",
        "length"}``; the session records each as a ``redaction`` event.
        """
        if event.get("type") == "redaction":
            return []
        notes: list[dict[str, Any]] = []
        kind = event.get("kind")
        if (kind == "edit" or kind == "terminal_input") and not _one_key(event, kind):
            inserted = self.stitcher.originals(event)
            if inserted is not None:        # before the walk: it needs the text as inserted
                notes.extend(self.stitcher.stitch(event, inserted))
        split = len(notes)
        self._walk(event, "", None, notes)
        if split and isinstance(event.get("file"), str):
            for note in notes[:split]:
                note["file"] = event["file"]           # the name as written (scrubbed too)
        if notes:
            with self._lock:
                self.redactions += len(notes)
        return notes

    def _scrub_string(self, value: str, key: str, filename: str | None, where: str,
                      notes: list[dict[str, Any]]) -> str:
        short = len(value) <= CLEAN_MAX_LEN
        strength = name_strength(key) if key else 0
        if short and not strength and value in self._clean:
            return value          # (under a secret-named key the value is judged again: it may be one there)
        if strength and plausible_value(value, strength, quoted=True):
            notes.append(_note(Finding(0, len(value), "keyword_secret"), where, filename))
            return marker("keyword_secret")
        new, findings = self.scrub_text(value, filename)
        if findings:
            notes.extend(_note(f, where, filename) for f in findings)
            return new
        if short:
            if len(self._clean) >= CLEAN_CACHE:
                self._clean = set()
            self._clean.add(value)
        return value

    def _walk(self, node: dict[str, Any], path: str, filename: str | None, notes: list[dict[str, Any]]) -> None:
        # Hot path (every event): strings too short to hold a secret are skipped before any
        # detector runs, and field paths are only spelled out when something was found.
        local = node.get("file")
        rewrite = self.local_paths.rewrite
        plain = self._plain
        if isinstance(local, str) and len(local) >= MIN_SECRET_LEN and local not in self._clean:
            # the file name first: the notes of this node name the file as it is written
            local = rewrite(local)
            mark = len(notes)
            scrubbed = self._scrub_string(local, "", None, f"{path}.file" if path else "file", notes)
            for note in notes[mark:]:
                note["file"] = scrubbed
            node["file"] = local = scrubbed
        local_file = local if isinstance(local, str) else filename
        for key, value in node.items():
            if isinstance(value, str):
                # local paths and the login name: every string, identifiers included (a
                # terminal's name can be its prompt); same-size assignment, safe while iterating
                if value not in plain:
                    new_value = rewrite(value)
                    if new_value is not value:
                        node[key] = value = new_value
                    elif len(value) <= CLEAN_MAX_LEN:
                        if len(plain) >= CLEAN_CACHE:
                            plain.clear()
                        plain.add(value)
                if key in SKIP_KEYS or len(value) < MIN_SECRET_LEN or (key == "file" and value is local):
                    continue
                mark = len(notes)
                new = self._scrub_string(value, key if isinstance(key, str) else "", local_file, "", notes)
                if new is not value:
                    node[key] = new
                    where = f"{path}.{key}" if path else str(key)
                    for note in notes[mark:]:
                        note["where"] = where
            elif isinstance(value, list):
                if value and isinstance(value[0], str) and all(isinstance(v, str) for v in value):
                    rewritten = [rewrite(v) for v in value]
                    if any(a is not b for a, b in zip(rewritten, value)):
                        node[key] = value = rewritten
                    if sum(map(len, value)) + len(value) - 1 < MIN_SECRET_LEN:
                        continue
                    cols = node.get("cols")
                    new_lines, findings = self.scrub_lines(value, local_file,
                                                           width=cols if isinstance(cols, int) else None)
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
                    node[i] = item = new_item
                if len(item) >= MIN_SECRET_LEN:
                    new_item = self._scrub_string(item, "", filename, f"{path}[{i}]", notes)
                    if new_item is not item:
                        node[i] = new_item
            elif isinstance(item, dict):
                self._walk(item, f"{path}[{i}]", filename, notes)
            elif isinstance(item, list):
                self._walk_list(item, f"{path}[{i}]", filename, notes)


def _one_key(event: dict[str, Any], kind: str) -> bool:
    """A one-character insertion (a key): the typing guard's, not the stitcher's. Inlined
    checks: this runs on every keystroke (bench privacy, per keystroke)."""
    if kind == "edit":
        changes = event.get("changes")
        if changes.__class__ is not list or len(changes) != 1:
            return False
        change = changes[0]
        if change.__class__ is not dict:
            return False
        text = change.get("text")
        return text.__class__ is str and len(text) < 2 and not change.get("length")
    data = event.get("data")
    return data.__class__ is str and len(data) < 2 and data != "\r" and data != "\n"


def _note(f: Finding, where: str, file: str | None) -> dict[str, Any]:
    # offset/length: the secret's place in the field's original text (for lists: in the
    # lines joined by "\n"), so a replayer can map later offsets past the shorter marker.
    return {"what": f.kind, "where": where, "file": file, "offset": f.start, "length": f.end - f.start}
