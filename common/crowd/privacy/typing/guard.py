"""``TypingGuard``: the event stream to write, with secret-shaped typed tokens held back.

From the key that makes a token secret-shaped (shapes.py), its keystrokes and every event
recorded after them (viewports, selections, screens: order is preserved) are held until the
token ends (a boundary character, a non-contiguous edit, another stream, ``idle_close_s``
without a key, ``max_hold_s`` in total, or a flush). What the guard holds is always the
newest recorded events, and ``holding`` says how many (the ``crowd/events`` answer reports
it as ``held``). An ended token is checked and rewritten by rewrite.py, then all held events
are released in their original order. Keystrokes written before the token became
secret-shaped (a public prefix such as ``ghp``, or the leading run of one character class)
stay in the recording as typed; docs/privacy.md states the guarantee.

The guard is a pure state machine (no thread, no lock, an injectable clock); the recording
pipeline (crowd.pipeline) drives it and releases idle tokens.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from crowd.privacy.redactor import Redactor
from crowd.privacy.typing.context import LineContext
from crowd.privacy.typing.rewrite import find_secret, rewrite
from crowd.privacy.typing.shapes import (BACKSPACE, BOUNDARY, FIRM, FREE, SECRET_CONTEXT,
                                         TAIL_SEPARATORS, shape_of, tail_start)
from crowd.privacy.typing.tokens import Event, Stream, Token, keystroke

MAX_LINE = 400   # characters of the typed line kept per stream (context for the keywords)


class TypingGuard:
    """Turns a stream of recorded events into the stream to write, holding secret-shaped tokens.

    ``line_context(file, offset)`` (optional) returns the document's text on the line before
    ``offset``, so a value typed after an existing ``password = "`` is held from its first key.
    """

    def __init__(self, redactor: Redactor, *, idle_close_s: float = 2.0, max_hold_s: float = 20.0,
                 clock: Callable[[], float] = time.monotonic,
                 line_context: LineContext | None = None) -> None:
        self.redactor = redactor
        self.idle_close_s = idle_close_s
        self.max_hold_s = max_hold_s
        self.clock = clock
        self.line_context = line_context
        self._held: list[Event] = []
        self._token: Token | None = None
        self._line: dict[Stream, str] = {}   # text typed on the current line per stream
        self.typed_redactions = 0

    @property
    def holding(self) -> int:
        """How many of the newest events are held (not yet released to the writer)."""
        return len(self._held)

    def push(self, event: Event) -> list[Event]:
        """Take one (already scrubbed) event; return the events that may be written now."""
        key = keystroke(event)
        tok = self._token
        if key is None:
            out: list[Event] = []
            if tok is not None and tok.broken_by(event):
                out = self._close()
            if self._held:
                self._held.append(event)
            else:
                out.append(event)
            return out
        out = []
        stream, ch, offset = key
        if tok is not None and (tok.stream != stream or (offset >= 0 and not tok.continues_at(ch, offset))):
            out = self._close()
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
            if tok.tail_start > len(tok.text):
                tok.tail_start = tail_start(tok.text)
                tok.hot = self._hot(tok)
            if tok.state != FREE:
                tok.min_len = min(tok.min_len, len(tok.text))
            before = len(tok.text) + 1
        else:
            if tok is None:
                context = self._context(stream, offset)
                tok = self._token = Token(stream, offset, offset, context=context,
                                          hot=SECRET_CONTEXT.search(context) is not None)
            before = len(tok.text)
            tok.text += ch
            tok.next_offset = offset + 1 if offset >= 0 else -1
            if ch in TAIL_SEPARATORS:
                tok.tail_start = len(tok.text)
                tok.hot = tok.hot or self._hot(tok)
        if tok.state == FREE:
            self._judge(tok, before)
        if tok.state == FREE:
            out.append(event)
            return out
        tok.last = self.clock()
        tok.events.append(event)
        self._held.append(event)
        return out

    def poll(self) -> list[Event]:
        """Release a token that has been idle or held too long (call periodically)."""
        tok = self._token
        if tok is None or tok.state == FREE:
            return []
        now = self.clock()
        if now - tok.last >= self.idle_close_s or now - tok.started >= self.max_hold_s:
            return self._close()
        return []

    def flush(self) -> list[Event]:
        """Close any open token and release everything (stop, rotate)."""
        if self._token is None:
            out, self._held = self._held, []
            return out
        return self._close()

    def discard(self) -> int:
        """Forget everything held, unwritten (a failure while judging it: fail closed)."""
        dropped = len(self._held)
        self._held, self._token = [], None
        return dropped

    def drop_where(self, doomed: Callable[[Event], bool]) -> int:
        before = len(self._held)
        self._held = [e for e in self._held if not doomed(e)]
        if self._token is not None:
            self._token.events = [e for e in self._token.events if not doomed(e)]
            if not self._token.events:
                self._token = None
        return before - len(self._held)

    # -- internals ---------------------------------------------------------------------------
    def _context(self, stream: Stream, offset: int) -> str:
        """The line before a new token: the document's own line when known, else what was typed."""
        if stream[0] == "edit" and self.line_context is not None and offset >= 0:
            try:
                line = self.line_context(stream[1], offset)
            except Exception:  # noqa: BLE001 - context is a hint; the typed line is the fallback
                line = None
            if line is not None:
                return line[-MAX_LINE:]
        return self._line.get(stream, "")

    @staticmethod
    def _hot(tok: Token) -> bool:
        return (SECRET_CONTEXT.search(tok.context) is not None
                or SECRET_CONTEXT.search(tok.text, 0, tok.tail_start) is not None)

    def _judge(self, tok: Token, before: int) -> None:
        """Start holding once the token is secret-shaped (``before``: its length before this
        key). A hold is never given up before the token ends: characters typed and erased
        while held may be a secret too."""
        if (tok.hot and tok.text) or shape_of(tok.text[tok.tail_start:]) == FIRM:
            tok.state = FIRM
            tok.held_from = before
            tok.min_len = len(tok.text)
            tok.started = self.clock()

    def _note_line(self, stream: Stream, text: str) -> None:
        line = self._line.get(stream, "")
        for ch in text:
            if ch in "\r\n":
                line = ""
            elif ch in BACKSPACE:
                line = line[:-1]
            else:
                line += ch
        self._line[stream] = line[-MAX_LINE:]

    def _close(self, closing: str = "") -> list[Event]:
        tok, self._token = self._token, None
        held, self._held = self._held, []
        if tok is None:
            return held
        self._note_line(tok.stream, tok.text)
        if tok.state == FREE or not tok.events or not tok.text:
            return held
        span, kind = find_secret(self.redactor.finder, tok, held, closing)
        if span is None:
            return held
        out, merged = rewrite(tok, held, span, kind)
        if merged:
            self.typed_redactions += 1
        return out
