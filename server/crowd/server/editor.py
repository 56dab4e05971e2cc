"""Turning the editor bridge's events into document state and recorded actions/observations.

One small handler per event kind (docs/protocol.md lists them). Handlers always update
the sidecar's own document state (so recording can start at any moment with correct
text) and record only while the session is recording. Per event the hot path is a few
dict operations and one ``Session.record`` call; no handler touches the disk.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from crowd.format.schema import SOURCES
from crowd.text.document import EditError, OpenDocument
from crowd.text.utf16 import clean_text
from crowd.server.session import Session
from crowd.server.workspace.folders import uri_to_path

log = logging.getLogger(__name__)

Event = dict[str, Any]
MAX_ERRORS_REPORTED = 10
BUS_ONLY = frozenset({"user_input", "terminal_open", "terminal_close", "terminal_focus", "terminal_resize",
                      "terminal_data", "terminal_exec_start", "terminal_exec_end", "terminal_input"})
# published in every state (paused, stopped, before consent): a terminal's screen is the sum of
# all its output, so its model must see every byte; Session.record refuses to write meanwhile
ALWAYS_PUBLISHED = frozenset(k for k in BUS_ONLY if k.startswith("terminal_"))


# viewports: VS Code splits a view at each folded region, and a tall screen shows ~200 lines
MAX_VISIBLE_RANGES = 256
MAX_VIEWPORT_LINES = 2_000
MAX_VIEWPORT_EDITORS = 64


def _line(value: Any) -> int | None:
    """A line number from the wire (an int, or a float holding one), None if it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    if not isinstance(value, int) or value < 0:
        return None
    return value


class BadEvent(ValueError):
    """An event that cannot be handled; the message says why (it is logged and reported)."""


class BatchResult:
    __slots__ = ("accepted", "rejected", "recorded", "errors")

    def __init__(self) -> None:
        self.accepted = 0
        self.rejected = 0
        self.recorded = 0
        self.errors: list[str] = []

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "rejected": self.rejected, "recorded": self.recorded,
                "errors": self.errors[:MAX_ERRORS_REPORTED]}


class EditorCore:
    """Document state, viewports and the mapping of editor events to the recording."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.docs = session.documents
        self.out_of_sync: set[str] = set()      # URIs whose text the sidecar no longer knows
        self.active_uri: str | None = None
        self.last_viewport: list[Event] | None = None
        self._rel_cache: dict[str, str | None] = {}
        self.handlers: dict[str, Callable[[Event], Event | None]] = {
            "document_open": self.on_open,
            "document_change": self.on_change,
            "document_save": self.on_save,
            "document_close": self.on_close,
            "selection": self.on_selection,
            "viewport": self.on_viewport,
            "active_editor": self.on_active_editor,
            "file_op": self.on_file_op,
            "editor_command": self.on_editor_command,
            "window_focus": self.on_window_focus,
        }

    # -- batch ----------------------------------------------------------------------------
    def handle_batch(self, events: Any) -> BatchResult:
        result = BatchResult()
        if not isinstance(events, list):
            self.error(result, f"'events' must be a list, got {type(events).__name__}")
            return result
        session = self.session
        bus = session.bus
        for event in events:
            kind = event.get("kind") if isinstance(event, dict) else None
            if kind is not None and not isinstance(kind, str):
                self.error(result, f"event kind must be a string, got {type(kind).__name__}")
                continue
            handler = self.handlers.get(kind) if kind is not None else None
            try:
                if handler is not None:
                    recorded = handler(event)
                elif kind in BUS_ONLY:
                    recorded = None
                else:
                    raise BadEvent(f"unknown event kind {kind[:80]!r}" if kind is not None
                                   else f"event without a kind ({type(event).__name__})")
            except BadEvent as exc:
                self.error(result, str(exc))
                continue
            except (KeyError, TypeError, AttributeError, ValueError, IndexError, OverflowError) as exc:
                self.error(result, f"malformed {kind} event ({type(exc).__name__}: {str(exc)[:200]})")
                continue
            except Exception as exc:  # noqa: BLE001 - one event never fails its whole batch
                log.exception("handling a %s event failed", kind)
                self.error(result, f"{kind} event could not be handled ({type(exc).__name__})")
                continue
            result.accepted += 1
            if recorded is not None:
                result.recorded += 1
            if (session.state.value == "recording" or kind in ALWAYS_PUBLISHED) and bus.has_subscribers(kind):
                published = dict(event)
                uri = event.get("uri")
                if uri is not None:
                    published["file"] = self.rel(uri)
                published["t"] = session.now()[0]
                bus.publish(published)
        return result

    def error(self, result: BatchResult | None, message: str) -> None:
        log.warning("bad event: %s", message)
        if result is not None:
            result.rejected += 1
            if len(result.errors) < MAX_ERRORS_REPORTED:
                result.errors.append(message)
        self.session.record("session", "error", message=message[:500])

    # -- paths ----------------------------------------------------------------------------
    def rel(self, uri: str | None) -> str | None:
        """Recorded path for a URI (None: outside the workspace, ignored, secret or not a file)."""
        if not uri:
            return None
        try:
            return self._rel_cache[uri]
        except KeyError:
            pass
        rel: str | None = None
        if uri.startswith("untitled:"):
            rel = "untitled:" + uri.partition(":")[2].rsplit("/", 1)[-1]
        else:
            path = uri_to_path(uri)
            if path is not None:
                ws = self.session.workspace
                rel = ws.rel_path(path)
                if rel is not None and ws.is_secret_path is not None and ws.is_secret_path(rel):
                    rel = None
        if rel is not None:
            rel, _ = clean_text(rel)
        if len(self._rel_cache) > 10_000:
            self._rel_cache.clear()
        self._rel_cache[uri] = rel
        return rel

    def _doc(self, event: Event) -> OpenDocument:
        uri = event["uri"]
        doc = self.docs.get(uri)
        if doc is None:
            raise BadEvent(f"{event['kind']} for a document that was never opened ({self.rel(uri) or 'outside the workspace'})")
        return doc

    def _ensure_known(self, doc: OpenDocument) -> None:
        """The recording must hold a file's text before the first action on it."""
        if doc.rel is not None and not self.session.knows_content(doc.rel):
            self.session.record_file_content(doc.rel, doc.text)

    # -- documents ------------------------------------------------------------------------
    def on_open(self, event: Event) -> Event | None:
        uri = event["uri"]
        text, repaired = clean_text(event["text"])
        if not isinstance(text, str):
            raise BadEvent("document_open needs 'text' (string)")
        if repaired:
            self.error(None, f"document_open text of {self.rel(uri) or 'a document'} held lone UTF-16 surrogates; replaced by U+FFFD")
        doc = self.docs.open(uri, self.rel(uri), text, int(event.get("version") or 0), event.get("languageId") or "")
        self.out_of_sync.discard(uri)
        if doc.rel is None:
            return None
        recorded = self.session.record("action", "open", source="user", file=doc.rel, language=doc.language_id)
        self.session.record_file_content(doc.rel, doc.text)
        return recorded

    def on_change(self, event: Event) -> Event | None:
        doc = self._doc(event)
        uri = doc.uri
        if uri in self.out_of_sync:
            raise BadEvent(f"edit of {doc.rel or 'a document'} ignored: out of sync since a refused edit "
                           "(send document_open with the full text)")
        changes = []
        for change in event["changes"]:
            text, repaired = clean_text(change["text"])
            if repaired:
                self.error(None, f"edit of {doc.rel or 'a document'} held lone UTF-16 surrogates; replaced by U+FFFD")
            changes.append({"offset": change["offset"], "length": change["length"], "text": text})
        recording = self.session.recording and doc.rel is not None
        if recording:
            self._ensure_known(doc)
        version = event.get("version")
        try:
            doc.apply_checked(changes, version)
        except EditError as exc:
            self.out_of_sync.add(uri)
            raise BadEvent(f"edit of {doc.rel or 'a document'} refused: {exc}; document out of sync until it is reopened") from None
        if not recording:
            return None
        source, agent = self._source(event)
        fields: dict[str, Any] = {"file": doc.rel, "source": source, "changes": changes,
                                  "reason": event.get("reason"), "version": version}
        if agent:
            fields["agent"] = agent
        return self.session.record("action", "edit", **fields)

    def _source(self, event: Event) -> tuple[str, str | None]:
        claimed = event.get("source")
        if claimed in SOURCES:
            return claimed, event.get("agent")
        for classify in self.session.edit_classifiers:
            try:
                decided = classify(event)
            except Exception:  # noqa: BLE001
                log.exception("edit classifier %r failed", classify)
                continue
            if decided is not None:
                return decided
        if event.get("visible", True) or event.get("active", True):
            return "user", None
        return "unknown", None

    def on_save(self, event: Event) -> Event | None:
        doc = self._doc(event)
        if doc.rel is None:
            return None
        return self.session.record("action", "save", source="user", file=doc.rel, version=event.get("version"))

    def on_close(self, event: Event) -> Event | None:
        doc = self.docs.close(event["uri"])
        self.out_of_sync.discard(event["uri"])
        if doc is None or doc.rel is None:
            return None
        if self.session.knows_content(doc.rel):
            # the recording has followed every edit: it now holds the closed text
            self.session.note_content(doc.rel, doc.text)
        return self.session.record("action", "close", source="user", file=doc.rel)

    # -- selections and viewports ---------------------------------------------------------
    def _selections(self, doc: OpenDocument, raw: list[Any]) -> list[dict[str, int]]:
        out = []
        for sel in raw:
            anchor, active = sel["anchor"], sel["active"]
            if isinstance(anchor, dict):
                anchor = doc.offset_at(anchor["line"], anchor["character"])
            if isinstance(active, dict):
                active = doc.offset_at(active["line"], active["character"])
            if not isinstance(anchor, int) or not isinstance(active, int):
                raise BadEvent("selection anchor/active must be offsets or {line, character}")
            out.append({"anchor": anchor, "active": active})
        return out

    def on_selection(self, event: Event) -> Event | None:
        doc = self._doc(event)
        if doc.rel is None or not self.session.recording:
            return None
        self._ensure_known(doc)
        return self.session.record("action", "selection", source="user", file=doc.rel,
                                   selections=self._selections(doc, event["selections"]))

    def _ranges(self, doc: OpenDocument, raw: Any) -> list[list[int]]:
        """The visible line ranges, checked and bounded: each within the document, sorted,
        overlaps merged, at most ``MAX_VISIBLE_RANGES`` and ``MAX_VIEWPORT_LINES`` lines in
        all (20,000 ranges of a whole file took the sidecar to ~3 GB). A malformed range is
        skipped with an error; the other ranges and editors are kept."""
        if not isinstance(raw, list):
            raise BadEvent("viewport 'visibleRanges' must be a list")
        last = doc.line_count() - 1
        ranges: list[list[int]] = []
        bad = 0
        for r in raw[:MAX_VISIBLE_RANGES]:
            if isinstance(r, dict):
                start = _line(r.get("start", {}).get("line") if isinstance(r.get("start"), dict) else None)
                end = _line(r.get("end", {}).get("line") if isinstance(r.get("end"), dict) else None)
            elif isinstance(r, list) and len(r) == 2:
                start, end = _line(r[0]), _line(r[1])
            else:
                start = end = None
            if start is None or end is None or end < start:
                bad += 1
                continue
            ranges.append([min(start, last), min(end, last)])
        if bad or len(raw) > MAX_VISIBLE_RANGES:
            self.error(None, f"viewport of {doc.rel}: {bad} malformed visible range(s) skipped"
                       + (f", {len(raw) - MAX_VISIBLE_RANGES} beyond {MAX_VISIBLE_RANGES} dropped"
                          if len(raw) > MAX_VISIBLE_RANGES else ""))
        merged: list[list[int]] = []
        budget = MAX_VIEWPORT_LINES
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1] + 1:
                grown = max(merged[-1][1], end)
                budget -= grown - merged[-1][1]
                merged[-1][1] = grown
            else:
                budget -= end - start + 1
                merged.append([start, end])
            if budget <= 0:
                merged[-1][1] += budget      # the ranges end where the line budget does
                break
        return merged

    def on_viewport(self, event: Event) -> Event | None:
        editors = event["editors"]
        if not isinstance(editors, list):
            raise BadEvent("viewport 'editors' must be a list")
        self.last_viewport = editors
        return self.record_viewport(editors)

    def record_viewport(self, editors: list[Event]) -> Event | None:
        if not self.session.recording:
            return None
        observed = []
        for editor in editors[:MAX_VIEWPORT_EDITORS]:
            uri = editor.get("uri") if isinstance(editor, dict) else None
            doc = self.docs.get(uri) if isinstance(uri, str) else None
            if doc is None or doc.rel is None or doc.uri in self.out_of_sync:
                continue
            self._ensure_known(doc)
            ranges = self._ranges(doc, editor.get("visibleRanges") or [])
            text = "\n".join(doc.lines_text(s, e) for s, e in ranges)
            observed.append({
                "file": doc.rel, "visible_ranges": ranges, "first_line": ranges[0][0] if ranges else 0,
                "text": text, "selections": self._selections(doc, editor.get("selections") or []),
                "active": bool(editor.get("active")),
            })
        if not observed and editors:
            return None
        return self.session.record("observation", "viewport", editors=observed)

    def on_active_editor(self, event: Event) -> Event | None:
        uri = event.get("uri")
        previous = event.get("previous", self.active_uri)
        self.active_uri = uri
        file, previous_file = self.rel(uri), self.rel(previous)
        if file is None and previous_file is None:
            return None
        doc = self.docs.get(uri) if uri else None
        if doc is not None and self.session.recording:
            self._ensure_known(doc)
        return self.session.record("action", "tab_switch", source="user", file=file, previous_file=previous_file)

    # -- files, commands, focus -----------------------------------------------------------
    def on_file_op(self, event: Event) -> Event | None:
        op = event["op"]
        if op not in ("create", "delete", "rename"):
            raise BadEvent(f"file_op 'op' must be create, delete or rename, got {op!r}")
        recorded = None
        for item in event["files"]:
            if op == "rename":
                old, new = self.rel(item["oldUri"]), self.rel(item["newUri"])
                self._rel_cache.pop(item["oldUri"], None)
                if old is None and new is None:
                    continue
                recorded = self.session.record("action", "file_change", source="user", file=new, old_file=old,
                                               change="rename", diff=None)
            else:
                uri = item["uri"] if isinstance(item, dict) else item
                rel = self.rel(uri)
                if rel is None:
                    continue
                recorded = self.session.record("action", "file_change", source="user", file=rel, change=op, diff=None)
        return recorded

    def on_editor_command(self, event: Event) -> Event | None:
        return self.session.record("action", "editor_command", source="user", command=str(event["command"]),
                                   phase=event.get("phase"))

    def on_window_focus(self, event: Event) -> Event | None:
        return self.session.record("action", "window_focus", source="user", focused=bool(event["focused"]))

    # -- session transitions --------------------------------------------------------------
    def replay_state(self) -> None:
        """After start/resume: record the viewport the editor shows now (texts included)."""
        if self.last_viewport:
            self.record_viewport(self.last_viewport)
