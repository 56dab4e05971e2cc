"""Secrets split across adjacent insertions: each half is clean alone, the file is not.

WHY: a secret pasted in two halves (or a paste that continues typed text) reaches the
recorder as two edits, and the detector never sees it whole in one string (issue 16). The
typing guard (crowd.privacy.typing) covers one key at a time; this covers the rest:

- per stream (a file's edits, a terminal's input) the last ``TAIL`` characters inserted are
  kept in memory (never written), with the offset where they end;
- an insertion of 2+ characters at exactly that offset (or the next input of the same
  terminal, until Enter) is scanned together with that tail: a finding that starts in the
  tail and reaches into the new text has its new part replaced;
- an insertion that *ends inside* what could be a secret is caught two ways: its end is a
  known format's prefix and body so far (``Rule.open_end``: ``ghp_x7Qm`` at the end), or it is
  scanned with a random filler appended (and a closing quote): a finding of a named kind (a prefix, an
  open keyword value; not a bare random token, which the filler itself would make) that
  runs into the filler has its part in the new text replaced. So the first half is
  redacted too, not only the second.

Findings wholly inside one insertion are left to the ordinary scan of the event.
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from crowd.privacy.detect import Finding, SecretFinder
from crowd.privacy.rules import PREFIX_RULES

TAIL = 256
OPEN_WINDOW = 420     # the end of a text searched for a format's open start
FILLER = "Q7x9Kp2mZ4vB8nL3wR6tY1uH5jF0cD8sA2eG4iM6oU"   # random-looking: completes any token format
CLOSERS = ("", '"', "'", "@example.com")   # as is, a closing quote, a URL's host
Inserted = tuple[str, str, list[tuple[Any, int, int, str]]]    # stream, name, (index, offset, length, text)


class Stitcher:
    """Remembers each stream's last insertion and redacts secrets that span two of them."""

    def __init__(self, finder: SecretFinder) -> None:
        self.finder = finder
        self._tails: dict[tuple[str, str], tuple[int, str]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def originals(event: dict[str, Any]) -> Inserted | None:
        """The text this event inserts, before anything is scrubbed (None: not an insertion)."""
        kind = event.get("kind")
        if kind == "edit":
            file, changes = event.get("file"), event.get("changes")
            if not isinstance(file, str) or not isinstance(changes, list):
                return None
            if len(changes) == 1 and isinstance(changes[0], dict):
                text = changes[0].get("text")
                if isinstance(text, str) and len(text) < 2 and not changes[0].get("length"):
                    return None      # a key: the typing guard's (it also moves no tail: not adjacent)
            items = []
            for i, change in enumerate(changes):
                if isinstance(change, dict) and isinstance(change.get("text"), str) \
                        and isinstance(change.get("offset"), int):
                    length = change.get("length")
                    items.append((i, change["offset"], length if isinstance(length, int) else 0, change["text"]))
            return ("edit", file, items)
        if kind == "terminal_input":
            terminal, data = event.get("terminal"), event.get("data")
            if isinstance(data, str):
                if len(data) < 2 and data not in ("\r", "\n"):
                    return None      # a key (Enter still ends the terminal's line)
                return ("term", str(terminal), [(None, 0, 0, data)])
        return None

    def stitch(self, event: dict[str, Any], inserted: Inserted) -> list[dict[str, Any]]:
        """Redact, in ``event``'s inserted text, the parts of secrets that span the previous
        insertion or run past this one's end; return the notes."""
        stream, name, items = inserted
        key = (stream, name)
        with self._lock:
            if len(items) != 1:
                self._tails.pop(key, None)
                return []
            index, offset, length, text = items[0]
            prev = self._tails.get(key)
            adjacent = prev is not None and (stream == "term" or (length == 0 and offset == prev[0]))
            tail = prev[1] if adjacent and prev is not None else ""
            combined = tail + text
            keep = combined[-TAIL:]
            if stream == "term":
                cut = max(keep.rfind("\r"), keep.rfind("\n"))
                keep = keep[cut + 1:]
            self._tails[key] = (offset + len(text), keep)
        if len(text) < 2:
            return []        # one key: the typing guard holds secret-shaped tokens
        spans = self._spans(tail, combined)
        if not spans:
            return []
        return self._apply(event, stream, index, text, spans)

    def _spans(self, tail: str, combined: str) -> list[Finding]:
        """Spans (in the new text) to redact: findings that start in the tail, and a
        finding that the text ends inside."""
        cut = len(tail)
        out: list[Finding] = []
        if tail:
            for f in self.finder.find(combined):
                if f.start < cut < f.end:
                    out.append(Finding(0, f.end - cut, f.kind))
        end = combined[-OPEN_WINDOW:]
        for kind, rx in _open_ends():
            m = rx.search(end)
            if m is not None:
                start = len(combined) - len(end) + m.start()
                if len(combined) > cut:
                    out.append(Finding(max(start, cut) - cut, len(combined) - cut, kind))
                break
        for closer in CLOSERS:
            probe = combined + FILLER + closer
            open_end = [f for f in self.finder.find(probe)
                        if f.kind != "high_entropy_string" and f.start < len(combined) < f.end and f.end > cut]
            if open_end:
                f = open_end[0]
                out.append(Finding(max(f.start, cut) - cut, len(combined) - cut, f.kind))
                break
        return _union(out)

    @staticmethod
    def _apply(event: dict[str, Any], stream: str, index: Any, text: str,
               spans: list[Finding]) -> list[dict[str, Any]]:
        pieces, pos = [], 0
        for f in spans:
            pieces.append(text[pos:f.start])
            pieces.append(f"[REDACTED:{f.kind}]")
            pos = f.end
        pieces.append(text[pos:])
        new = "".join(pieces)
        if stream == "edit":
            event["changes"][index]["text"] = new
            where = f"changes[{index}].text"
        else:
            event["data"] = new
            where = "data"
        file = event.get("file") if isinstance(event.get("file"), str) else None
        return [{"what": f.kind, "where": where, "file": file, "offset": f.start, "length": f.end - f.start,
                 "split": True} for f in spans]


@lru_cache(maxsize=1)
def _open_ends() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((r.kind, re.compile(r.open_end, re.I if r.caseless else 0)) for r in PREFIX_RULES if r.open_end)


def _union(spans: list[Finding]) -> list[Finding]:
    spans = sorted(spans, key=lambda f: f.start)
    out: list[Finding] = []
    for f in spans:
        if out and f.start <= out[-1].end:
            last = out[-1]
            out[-1] = Finding(last.start, max(last.end, f.end), last.kind)
        else:
            out.append(f)
    return out
