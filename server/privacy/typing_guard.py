"""Holding keystrokes until the token being typed is complete, so typed secrets are caught.

A secret typed one character at a time never appears whole in any single edit event, and
scrubbing the following viewport only hides it from the viewport: replaying the edits would
still rebuild it. So keystroke events (a one-character user edit contiguous with the
previous one, or a one-character ``terminal_input``) open a *token*; the token and every
event recorded after it (viewports, selections, screens: order is preserved) are held
until the token ends (a boundary character such as a space or a quote, a non-contiguous
edit, another file, ``idle_close_s`` without a keystroke, or ``max_hold_s`` in total).

When the token ends it is checked with the redactor, with its context: the text typed on
the same line before it and the lines of the held observations that contain it (so
``password = "hunter2x"`` is recognised by its keyword). If a secret is found:
- the token's keystroke events are merged into one event inserting the token with the
  secret replaced by the marker (the first keystroke's seq/t/wall are kept);
- a ``redaction`` note takes the seq of the second keystroke (seq stays increasing);
- in every other held event the secret and each prefix of it of at least
  ``PREFIX_MIN`` characters (what the screen showed while it was typed) become the marker.
Then all held events are released in their original order.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crowd.server.privacy.redactor import Redactor, marker

PREFIX_MIN = 4
BOUNDARY = set(" \t\r\n\"'`,;()[]{}<>|&")
BACKSPACE = {"\x7f", "\x08"}


@dataclass
class _Token:
    stream: tuple[str, str]           # ("edit", file) or ("term", terminal id)
    start_offset: int                 # document offset of the first typed char (edits)
    next_offset: int
    text: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    started: float = 0.0
    last: float = 0.0


def _keystroke(event: dict[str, Any]) -> tuple[tuple[str, str], str, int] | None:
    """(stream, char or BACKSPACE, offset) when ``event`` is a single typed key, else None."""
    if event.get("type") != "action":
        return None
    kind = event.get("kind")
    if kind == "edit" and event.get("source") == "user" and not event.get("reason"):
        changes = event.get("changes") or []
        if len(changes) != 1:
            return None
        c = changes[0]
        text, length, offset = c.get("text", ""), c.get("length", 0), c.get("offset", 0)
        if length == 0 and len(text) == 1:
            return ("edit", str(event.get("file"))), text, offset
        if length == 1 and text == "":
            return ("edit", str(event.get("file"))), "\x7f", offset
        return None
    if kind == "terminal_input" and not event.get("paste"):
        data = event.get("data")
        if isinstance(data, str) and len(data) == 1 and (data.isprintable() or data in BACKSPACE):
            return ("term", str(event.get("terminal"))), data, -1
    return None


class TypingGuard:
    """Turns a stream of recorded events into the stream to write, holding open tokens."""

    def __init__(self, redactor: Redactor, *, idle_close_s: float = 2.0, max_hold_s: float = 20.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.redactor = redactor
        self.idle_close_s = idle_close_s
        self.max_hold_s = max_hold_s
        self.clock = clock
        self._held: list[dict[str, Any]] = []
        self._token: _Token | None = None
        self._line: dict[tuple[str, str], str] = {}   # text typed on the current line per stream
        self.typed_redactions = 0

    @property
    def holding(self) -> int:
        return len(self._held)

    def push(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Take one (already scrubbed) event; return the events that may be written now."""
        out: list[dict[str, Any]] = []
        key = _keystroke(event)
        tok = self._token
        now = self.clock()
        if key is None:
            if tok is not None and self._breaks_token(event, tok):
                out += self._close()
            if self._token is None:
                out.append(event)
            else:
                self._held.append(event)
            return out
        stream, ch, offset = key
        if tok is not None and (tok.stream != stream or (offset >= 0 and not self._contiguous(tok, ch, offset))):
            out += self._close()
            tok = None
        if ch in BOUNDARY:
            if tok is not None:
                out += self._close(closing=ch)
            self._note_line(stream, ch)
            out.append(event)
            return out
        if ch in BACKSPACE:
            if tok is None:
                self._note_line(stream, ch)
                out.append(event)
                return out
            tok.text = tok.text[:-1]
            tok.next_offset = offset if offset >= 0 else tok.next_offset
        else:
            if tok is None:
                tok = self._token = _Token(stream, offset, offset, started=now)
            tok.text += ch
            tok.next_offset = offset + 1 if offset >= 0 else -1
        tok.last = now
        tok.events.append(event)
        self._held.append(event)
        return out

    def poll(self) -> list[dict[str, Any]]:
        """Release a token that has been idle or held too long (call periodically)."""
        tok = self._token
        if tok is None:
            return []
        now = self.clock()
        if now - tok.last >= self.idle_close_s or now - tok.started >= self.max_hold_s:
            return self._close()
        return []

    def flush(self) -> list[dict[str, Any]]:
        """Close any open token and release everything (stop, rotate)."""
        if self._token is None:
            out, self._held = self._held, []
            return out
        return self._close()

    def drop_where(self, doomed: Callable[[dict[str, Any]], bool]) -> int:
        before = len(self._held)
        self._held = [e for e in self._held if not doomed(e)]
        if self._token is not None:
            self._token.events = [e for e in self._token.events if not doomed(e)]
            if not self._token.events:
                self._token = None
        return before - len(self._held)

    # -- internals ---------------------------------------------------------------------------
    @staticmethod
    def _contiguous(tok: _Token, ch: str, offset: int) -> bool:
        if ch in BACKSPACE:
            return offset == tok.next_offset - 1 and offset >= tok.start_offset
        return offset == tok.next_offset

    @staticmethod
    def _breaks_token(event: dict[str, Any], tok: _Token) -> bool:
        """Another action on the token's own stream (a paste, an undo) ends the token."""
        if event.get("type") != "action":
            return False
        if tok.stream[0] == "edit":
            return event.get("kind") in ("edit", "file_change") and str(event.get("file")) == tok.stream[1]
        return event.get("kind") == "terminal_input" and str(event.get("terminal")) == tok.stream[1]

    def _note_line(self, stream: tuple[str, str], text: str) -> None:
        line = self._line.get(stream, "")
        for ch in text:
            if ch in "\r\n":
                line = ""
            elif ch in BACKSPACE:
                line = line[:-1]
            else:
                line += ch
        self._line[stream] = line[-400:]

    def _close(self, closing: str = "") -> list[dict[str, Any]]:
        tok, self._token = self._token, None
        held, self._held = self._held, []
        if tok is None or not tok.text:
            if tok is not None:
                self._note_line(tok.stream, tok.text)
            return held
        prefix = self._line.get(tok.stream, "")
        self._note_line(tok.stream, tok.text)
        secret, kind = self._find_secret(tok, prefix, held, closing)
        if secret is None:
            return held
        return self._rewrite(tok, held, secret, kind)

    def _find_secret(self, tok: _Token, prefix: str, held: list[dict[str, Any]],
                     closing: str) -> tuple[str | None, str]:
        contexts = [(prefix + tok.text + closing.strip(), len(prefix))]
        token_ids = {id(e) for e in tok.events}
        for event in held:
            if id(event) in token_ids:
                continue
            for text in _strings(event):
                pos = text.find(tok.text)
                if pos >= 0:
                    lo = text.rfind("\n", 0, pos) + 1
                    hi = text.find("\n", pos)
                    contexts.append((text[lo: hi if hi >= 0 else len(text)], pos - lo))
        filename = tok.stream[1] if tok.stream[0] == "edit" else None
        for context, at in contexts:
            for f in self.redactor.finder.find(context, filename):
                lo, hi = max(f.start, at), min(f.end, at + len(tok.text))
                if hi - lo >= 1 and (hi - lo >= 6 or hi - lo == f.end - f.start):
                    return context[lo:hi], f.kind
        return None, ""

    def _rewrite(self, tok: _Token, held: list[dict[str, Any]], secret: str, kind: str) -> list[dict[str, Any]]:
        mark = marker(kind)
        scrubbed = tok.text.replace(secret, mark)
        first = tok.events[0]
        merged = dict(first)
        if tok.stream[0] == "edit":
            last_change = tok.events[-1]
            merged["changes"] = [{"offset": tok.start_offset, "length": 0, "text": scrubbed}]
            if "version" in last_change:
                merged["version"] = last_change["version"]
            where = "changes[0].text"
        else:
            merged["data"] = scrubbed
            where = "data"
        note_src = tok.events[1] if len(tok.events) > 1 else first
        note = {"seq": note_src.get("seq"), "t": note_src.get("t"), "wall": note_src.get("wall"),
                "type": "redaction", "kind": "redaction", "what": kind, "where": where,
                "file": tok.stream[1] if tok.stream[0] == "edit" else None, "typed": True,
                "offset": tok.start_offset + tok.text.find(secret) if tok.stream[0] == "edit" else None,
                "length": len(secret)}
        token_ids = {id(e) for e in tok.events}
        out: list[dict[str, Any]] = []
        for event in held:
            if id(event) in token_ids:
                if event is first:
                    out.append(merged)
                if event is note_src:
                    out.append(note)
                continue
            _replace_prefixes(event, secret, mark)
            out.append(event)
        self.typed_redactions += 1
        return out


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        if node and all(isinstance(v, str) for v in node):
            return ["\n".join(node)]
        return [s for v in node for s in _strings(v)]
    return []


def _replace_prefixes(node: Any, secret: str, mark: str) -> Any:
    """Replace ``secret`` and its prefixes (longest first) in every string of ``node``."""
    def fix(text: str) -> str:
        for k in range(len(secret), PREFIX_MIN - 1, -1):
            if secret[:k] in text:
                text = text.replace(secret[:k], mark)
        return text

    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("seq", "t", "wall", "type", "kind", "file", "terminal"):
                continue
            if isinstance(value, str):
                node[key] = fix(value)
            else:
                _replace_prefixes(value, secret, mark)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, str):
                node[i] = fix(value)
            else:
                _replace_prefixes(value, secret, mark)
    return node


class GuardedWriter:
    """A drop-in for ``RecordingWriter`` that passes events through a ``TypingGuard``.

    The session appends to it exactly as to the writer; a small thread releases tokens that
    went idle. ``close``/``rotate`` release everything first; ``drop_where`` (panic) also
    drops held events.
    """

    def __init__(self, writer: Any, guard: TypingGuard, *, poll_interval: float = 0.1) -> None:
        self.writer = writer
        self.guard = guard
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(poll_interval,), name="crowd-typing-guard",
                                        daemon=True)
        self._thread.start()

    def append(self, event: dict[str, Any]) -> None:
        with self._lock:
            ready = self.guard.push(event)
            if ready:
                self.writer.extend(ready)

    def extend(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self.append(event)

    def release(self) -> None:
        with self._lock:
            ready = self.guard.flush()
            if ready:
                self.writer.extend(ready)

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            with self._lock:
                ready = self.guard.poll()
                if ready:
                    self.writer.extend(ready)

    def flush(self) -> int:
        """An explicit flush means "everything on disk now": open tokens are closed first."""
        self.release()
        return self.writer.flush()

    def rotate(self) -> None:
        self.release()
        self.writer.rotate()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.release()
        self.writer.close()

    def drop_where(self, doomed: Callable[[dict[str, Any]], bool]) -> int:
        with self._lock:
            removed = self.guard.drop_where(doomed)
        return removed + self.writer.drop_where(doomed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.writer, name)
