"""Holding keystrokes of secret-shaped tokens until they are complete, so typed secrets are caught.

A secret typed one character at a time never appears whole in any single edit event, and
scrubbing the following viewport only hides it from the viewport: replaying the edits would
still rebuild it. So keystroke events (a one-character user edit contiguous with the
previous one, or a one-character ``terminal_input``) are grouped into *tokens* (the run of
characters between boundaries such as spaces and quotes).

Holding costs durability (held events are not on disk yet; a kill -9 loses them) and
latency, so only tokens that could be a secret *by shape* are held (``shape_of``):
- after a secret keyword on the same line (``password``, ``token``, ``key``, ``auth``,
  ``secret``, ``Bearer``, ``://`` ...) or in the token itself (``GH_TOKEN=...``): *firm*;
- once the token starts with a known credential prefix (``sk-``, ``ghp_``, ``AKIA``,
  ``xox``, ``-----BEGIN`` ...): *firm*;
- once the token mixes character classes (letters and digits, or an inner capital), as
  every generated key does: *firm*.
Ordinary words (lowercase, snake_case, capitalised, no digits) are never held: each of
their keystrokes goes to the writer at once. From the key that makes a token secret-shaped,
its keystrokes and every event recorded after them (viewports, selections, screens: order
is preserved) are held until the token ends (a boundary character, a non-contiguous edit,
another stream, ``idle_close_s`` without a key, ``max_hold_s`` in total, or a flush). What
the guard holds is always the newest recorded events, and ``holding`` says how many (the
``crowd/events`` answer reports it as ``held``).

When a held token ends it is checked with the redactor, with its context: the text on the
same line before it and the lines of the held observations that contain it (so
``password = "hunter2x"`` is recognised by its keyword). If a secret is found:
- the token's held keystroke events are merged into one event that makes the same change
  with the secret replaced by the marker, and also replaces the secret's characters that
  were written before the hold, so the document holds only the marker (the first held
  keystroke's seq/t/wall are kept);
- a ``redaction`` note takes the seq of the second held keystroke (seq stays increasing);
- in every other held event the secret and each prefix of it of at least ``PREFIX_MIN``
  characters (what the screen showed while it was typed) become the marker.
Then all held events are released in their original order. Keystrokes written before the
token became secret-shaped (a public prefix such as ``ghp``, or the leading run of one
character class) stay in the recording as typed; docs/privacy.md states the guarantee.
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crowd.privacy.redactor import Redactor, marker

PREFIX_MIN = 4
BOUNDARY = frozenset(" \t\r\n\"'`,;()[]{}<>|&")
BACKSPACE = frozenset({"\x7f", "\x08"})
# Inside a token these start a new "tail" (the part a credential prefix or class mix is
# judged on): ``GH_TOKEN=ghp_...``, ``https://user:pw@host``.
TAIL_SEPARATORS = frozenset("=:@/")

FREE, FIRM = 0, 1

# Well-known credential prefixes (public parts of the formats detect.py recognises).
KNOWN_PREFIXES: tuple[str, ...] = (
    "sk-", "sk_live_", "sk_test_", "rk_live_", "pk_live_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
    "github_pat_", "glpat-", "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIza", "xox", "hf_", "npm_",
    "pypi-", "SG.", "eyJ", "-----BEGIN", "PuTTY-User-Key", "dop_v1_", "shpat_", "sq0atp-", "key-",
)
# Words after which a value on the same line can be recognised as a secret by its context
# alone (detect.py's keyword, assignment, flag, header and URL detectors key on them).
SECRET_CONTEXT = re.compile(r"(?i)pass|pwd|secret|token|key|auth|cred|bearer|contrase|://|-u\s")


def shape_of(tail: str) -> int:
    """FIRM when ``tail`` starts with a known prefix or mixes character classes as generated
    keys do (letters and digits, or a capital after the first letter next to lowercase ones);
    FREE otherwise: ordinary words (``value``, ``Hello``, ``MAX_SIZE``, ``snake_case``) and
    numbers."""
    if not tail:
        return FREE
    if tail.startswith(KNOWN_PREFIXES):
        return FIRM
    if tail.isalpha():
        letters = tail
    else:
        if _DIGIT.search(tail) is not None:
            return FIRM if _LETTER.search(tail) is not None else FREE
        letters = _NOT_LETTER.sub("", tail)
    rest = letters[1:]
    return FIRM if rest and not rest.islower() and not letters.isupper() else FREE


_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")
_NOT_LETTER = re.compile(r"[\W\d_]+")


@dataclass
class _Token:
    stream: tuple[str, str]           # ("edit", file) or ("term", terminal id)
    start_offset: int                 # document offset of the first typed char (edits)
    next_offset: int
    context: str = ""                 # the line before the token
    hot: bool = False                 # a secret keyword before the token's tail
    text: str = ""
    tail_start: int = 0               # where the part after the last TAIL_SEPARATOR begins
    state: int = FREE                 # FREE (written at once) or FIRM (held)
    held_from: int = 0                # len(text) when the hold began (chars before: written)
    min_len: int = 0                  # shortest len(text) since the hold began (backspaces)
    events: list[dict[str, Any]] = field(default_factory=list)   # held keystroke events
    started: float = 0.0              # when the hold began
    last: float = 0.0


def _keystroke(event: dict[str, Any]) -> tuple[tuple[str, str], str, int] | None:
    """(stream, char or BACKSPACE, offset) when ``event`` is a single typed key, else None."""
    if event.get("type") != "action":
        return None
    kind = event.get("kind")
    if kind == "edit":
        if event.get("source") != "user" or event.get("reason"):
            return None
        changes = event.get("changes")
        if not changes or len(changes) != 1:
            return None
        c = changes[0]
        text, length = c.get("text", ""), c.get("length", 0)
        if length == 0 and len(text) == 1:
            return ("edit", str(event.get("file"))), text, c.get("offset", 0)
        if length == 1 and text == "":
            return ("edit", str(event.get("file"))), "\x7f", c.get("offset", 0)
        return None
    if kind == "terminal_input" and not event.get("paste"):
        data = event.get("data")
        if isinstance(data, str) and len(data) == 1 and (data.isprintable() or data in BACKSPACE):
            return ("term", str(event.get("terminal"))), data, -1
    return None


LineContext = Callable[[str, int], "str | None"]


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
        self._held: list[dict[str, Any]] = []
        self._token: _Token | None = None
        self._line: dict[tuple[str, str], str] = {}   # text typed on the current line per stream
        self.typed_redactions = 0

    @property
    def holding(self) -> int:
        """How many of the newest events are held (not yet released to the writer)."""
        return len(self._held)

    def push(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Take one (already scrubbed) event; return the events that may be written now."""
        key = _keystroke(event)
        tok = self._token
        if key is None:
            out: list[dict[str, Any]] = []
            if tok is not None and self._breaks_token(event, tok):
                out = self._close()
            if self._held:
                self._held.append(event)
            else:
                out.append(event)
            return out
        out = []
        stream, ch, offset = key
        if tok is not None and (tok.stream != stream or (offset >= 0 and not self._contiguous(tok, ch, offset))):
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
                tok.tail_start = _tail_start(tok.text)
                tok.hot = self._hot(tok)
            if tok.state != FREE:
                tok.min_len = min(tok.min_len, len(tok.text))
            before = len(tok.text) + 1
        else:
            if tok is None:
                context = self._context(stream, offset)
                tok = self._token = _Token(stream, offset, offset, context=context,
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

    def poll(self) -> list[dict[str, Any]]:
        """Release a token that has been idle or held too long (call periodically)."""
        tok = self._token
        if tok is None or tok.state == FREE:
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
    def _context(self, stream: tuple[str, str], offset: int) -> str:
        """The line before a new token: the document's own line when known, else what was typed."""
        if stream[0] == "edit" and self.line_context is not None and offset >= 0:
            try:
                line = self.line_context(stream[1], offset)
            except Exception:  # noqa: BLE001 - context is a hint; the typed line is the fallback
                line = None
            if line is not None:
                return line[-400:]
        return self._line.get(stream, "")

    @staticmethod
    def _hot(tok: _Token) -> bool:
        return (SECRET_CONTEXT.search(tok.context) is not None
                or SECRET_CONTEXT.search(tok.text, 0, tok.tail_start) is not None)

    def _judge(self, tok: _Token, before: int) -> None:
        """Start holding once the token is secret-shaped (``before``: its length before this
        key). A hold is never given up before the token ends: characters typed and erased
        while held may be a secret too."""
        if (tok.hot and tok.text) or shape_of(tok.text[tok.tail_start:]) == FIRM:
            tok.state = FIRM
            tok.held_from = before
            tok.min_len = len(tok.text)
            tok.started = self.clock()

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
        if tok is None:
            return held
        self._note_line(tok.stream, tok.text)
        if tok.state == FREE or not tok.events or not tok.text:
            return held
        secret, kind = self._find_secret(tok, held, closing)
        if secret is None:
            return held
        return self._rewrite(tok, held, secret, kind)

    def _find_secret(self, tok: _Token, held: list[dict[str, Any]],
                     closing: str) -> tuple[tuple[int, int] | None, str]:
        """The secret's span in ``tok.text`` (and its kind), judged with the token's context."""
        prefix = tok.context
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
                    return (lo - at, hi - at), f.kind
        return None, ""

    def _rewrite(self, tok: _Token, held: list[dict[str, Any]], span: tuple[int, int],
                 kind: str) -> list[dict[str, Any]]:
        mark = marker(kind)
        a, b = span
        secret = tok.text[a:b]
        # The held keystrokes, taken together, replaced text[m:held_from] (written before the
        # hold, then backspaced over) by text[m:]. The merged event replaces text[lo:held_from]
        # (lo <= m also takes the secret's characters written before the hold, which are still
        # in the document) by the new text with the secret replaced by the marker.
        m = min(tok.min_len, tok.held_from)
        if b <= m:
            return self._scrub_observations(tok, held, secret, mark)   # nothing of it is held
        lo = min(a, m)
        deleted = tok.held_from - lo
        scrubbed = tok.text[lo:a] + mark + tok.text[b:]
        first = tok.events[0]
        merged = dict(first)
        if tok.stream[0] == "edit":
            merged["changes"] = [{"offset": tok.start_offset + lo, "length": deleted, "text": scrubbed}]
            if "version" in tok.events[-1]:
                merged["version"] = tok.events[-1]["version"]
            where = "changes[0].text"
        else:
            merged["data"] = "\x7f" * deleted + scrubbed
            where = "data"
        note_src = tok.events[1] if len(tok.events) > 1 else first
        note = {"seq": note_src.get("seq"), "t": note_src.get("t"), "wall": note_src.get("wall"),
                "type": "redaction", "kind": "redaction", "what": kind, "where": where,
                "file": tok.stream[1] if tok.stream[0] == "edit" else None, "typed": True,
                "offset": tok.start_offset + a if tok.stream[0] == "edit" else None,
                "length": b - a}
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

    @staticmethod
    def _scrub_observations(tok: _Token, held: list[dict[str, Any]], secret: str,
                            mark: str) -> list[dict[str, Any]]:
        token_ids = {id(e) for e in tok.events}
        for event in held:
            if id(event) not in token_ids:
                _replace_prefixes(event, secret, mark)
        return held


def _tail_start(text: str) -> int:
    for i in range(len(text) - 1, -1, -1):
        if text[i] in TAIL_SEPARATORS:
            return i + 1
    return 0


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

    @property
    def holding(self) -> int:
        """Events recorded but held by the guard (the newest ones); 0 = all handed to the writer."""
        return self.guard.holding

    def append(self, event: dict[str, Any]) -> None:
        with self._lock:
            ready = self.guard.push(event)
            if ready:
                self.writer.extend(ready)

    def extend(self, events: list[dict[str, Any]]) -> None:
        with self._lock:
            push = self.guard.push
            ready: list[dict[str, Any]] = []
            for event in events:
                ready += push(event)
            if ready:
                self.writer.extend(ready)

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
