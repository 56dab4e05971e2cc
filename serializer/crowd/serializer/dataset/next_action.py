"""Converter 3: teacher-forced next-action sequences for tab completion, append-only.

Each event is rendered by a pure function of (event, replay state before it) and tokenised
on its own; a chunk's ids are the concatenation. So the tokens of the first k events are
always a prefix of the tokens of the first k+1: a model serving completions can keep its KV
cache while the session goes on (no re-tokenisation of joined text ever happens). Edits are
patches anchored to the document at that moment (line:column in UTF-16 units, as editors
count), terminal output contributes only its newly appended lines, a viewport only the lines
that scrolled into view. When the next event would overflow ``max_tokens``, a new chunk
starts with a keyframe — goal, open files, the active editor's visible lines and cursor, the
terminal's tail — rendered from the state alone, so inference can rebuild it exactly. The
loss mask is 1 on the user's actions only; agent, git and external events, observations and
keyframes are environment (mask 0).
"""
from __future__ import annotations

import json
from typing import Any

from crowd.serializer.dataset.common import new_terminal_lines
from crowd.serializer.dataset.signals import find_markers
from crowd.serializer.replay.state import ReplayState
from crowd.serializer.bulk import bulk

FILE_CHARS = 6000       # a first-seen file is shown up to this many characters
VIEW_LINES = 60         # at most this many newly visible lines per viewport change
TERM_LINES = 40         # at most this many new terminal lines per screen


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


class Renderer:
    """Renders events to text; keeps only what rendering needs (last views and screens)."""

    def __init__(self) -> None:
        self.views: dict[str, tuple[int, int]] = {}     # file -> last visible (start, end)
        self.active_view: str | None = None
        self.screens: dict[str, list[str]] = {}
        self.count = 0
        self.writes: dict[tuple[str, str], tuple[int, str]] = {}

    def render(self, ev: dict[str, Any], st: ReplayState) -> str:
        etype, kind = ev.get("type"), ev.get("kind")
        self.count += 1
        if etype == "action" and kind in ("edit", "file_change") and ev.get("source") not in ("user", None):
            # one write, two views (the watcher's diff and the editor's reload edit): render it once
            key = (ev.get("file"), f"{ev.get('source')}:{ev.get('agent')}")
            seen = self.writes.get(key)
            self.writes[key] = (self.count, kind)
            if seen is not None and seen[1] != kind and self.count - seen[0] <= 20:
                return ""
        fn = getattr(self, f"_{etype}_{kind}", None)
        return fn(ev, st) if fn is not None else ""

    # actions -----------------------------------------------------------------------------------
    def _tag(self, ev: dict[str, Any]) -> str:
        src = ev.get("source") or "unknown"
        if src == "user":
            return ""
        return f"[{src}:{ev['agent']}]" if ev.get("agent") else f"[{src}]"

    def _action_edit(self, ev: dict[str, Any], st: ReplayState) -> str:
        doc = st.files.get(ev.get("file"))
        parts = []
        for ch in sorted(ev.get("changes") or [], key=lambda c: -c["offset"]):
            if doc is not None:
                line, col = doc.position(ch["offset"])
                removed = doc.text[doc.to_index(ch["offset"]):doc.to_index(ch["offset"] + ch["length"])]
                where = f"{line + 1}:{col + 1}"
                rem = f" -{_q(removed)}" if removed else ""
            else:
                where, rem = f"@{ch['offset']}", f" -{ch['length']}" if ch["length"] else ""
            parts.append(f"{where}{rem} +{_q(ch['text'])}")
        reason = f" ({ev['reason']})" if ev.get("reason") else ""
        return f"@edit{self._tag(ev)} {ev.get('file')}{reason} " + " ".join(parts) + "\n"

    def _action_selection(self, ev: dict[str, Any], st: ReplayState) -> str:
        doc = st.files.get(ev.get("file"))
        if doc is None or not ev.get("selections"):
            # a crowd-code 2.0 import where the file is unknown: 2.0's own line/character positions
            where = _cc2_positions(ev.get("cc2"))
            return f"@cursor{self._tag(ev)} {ev.get('file')} {where}\n" if where else ""
        out = []
        for s in ev["selections"]:
            al, ac = doc.position(s["anchor"])
            if s["anchor"] == s["active"]:
                out.append(f"{al + 1}:{ac + 1}")
            else:
                bl, bc = doc.position(s["active"])
                out.append(f"{al + 1}:{ac + 1}-{bl + 1}:{bc + 1}")
        return f"@cursor{self._tag(ev)} {ev.get('file')} {','.join(out)}\n"

    def _action_tab_switch(self, ev: dict[str, Any], st: ReplayState) -> str:
        return f"@open{self._tag(ev)} {ev.get('file')}\n"

    def _action_terminal_command(self, ev: dict[str, Any], st: ReplayState) -> str:
        return f"${self._tag(ev)} {ev.get('command')}\n"

    def _action_terminal_input(self, ev: dict[str, Any], st: ReplayState) -> str:
        return f"@keys{self._tag(ev)} {ev.get('terminal')} {_q(ev.get('data') or '')}\n"

    def _action_terminal_focus(self, ev: dict[str, Any], st: ReplayState) -> str:
        return f"@terminal{self._tag(ev)} {ev.get('terminal')}\n"

    def _action_file_change(self, ev: dict[str, Any], st: ReplayState) -> str:
        diff = (ev.get("diff") or "")[:FILE_CHARS]
        old = f" from {ev['old_file']}" if ev.get("old_file") else ""
        return f"@{ev.get('change')}{self._tag(ev)} {ev.get('file')}{old}\n{diff}"

    def _action_editor_command(self, ev: dict[str, Any], st: ReplayState) -> str:
        return f"@command{self._tag(ev)} {ev.get('command')} {ev.get('phase') or ''}".rstrip() + "\n"

    # observations ------------------------------------------------------------------------------
    def _observation_file_content(self, ev: dict[str, Any], st: ReplayState) -> str:
        if ev.get("snapshot") or ev.get("base") == "viewport":
            return ""  # a snapshot's hint, or an import's inference from the viewport @view shows
        text = ev.get("text") or ""
        more = f"\n@truncated {len(text) - FILE_CHARS} chars" if len(text) > FILE_CHARS else ""
        return f"@file {ev.get('file')}\n{text[:FILE_CHARS]}{more}\n@end\n"

    def _observation_viewport(self, ev: dict[str, Any], st: ReplayState) -> str:
        ed = next((e for e in ev.get("editors") or [] if e.get("active")), None)
        if ed is None:
            return ""
        ranges = ed.get("visible_ranges") or []
        if not ranges:
            return ""
        span = (ranges[0][0], ranges[-1][1])
        prev = self.views.get(ed["file"])
        switched = self.active_view != ed["file"]
        self.views[ed["file"]] = span
        self.active_view = ed["file"]
        if prev == span and not switched:
            return ""
        visible = ed.get("text", "").split("\n")
        new_lines = []
        for n, text in zip(range(span[0], span[1] + 1), visible):
            if prev is None or not (prev[0] <= n <= prev[1]):
                new_lines.append(f"{n + 1:>5} {text}")
        body = "\n".join(new_lines[:VIEW_LINES])
        return f"@view {ed['file']} {span[0] + 1}-{span[1] + 1}\n" + (body + "\n" if body else "")

    def _observation_terminal_screen(self, ev: dict[str, Any], st: ReplayState) -> str:
        tid = ev.get("terminal")
        lines = ev.get("lines") or []
        added = new_terminal_lines(self.screens.get(tid, []), lines)
        self.screens[tid] = lines
        if not added:
            return ""
        return f"@output {tid}\n" + "\n".join(added[-TERM_LINES:]) + "\n"

    def _snapshot_snapshot(self, ev: dict[str, Any], st: ReplayState) -> str:
        return f"@snapshot {ev.get('snapshot_id')}\n"

    # keyframe ------------------------------------------------------------------------------------
    def keyframe(self, st: ReplayState, goal: str) -> str:
        """Everything needed to continue, from the state alone (deterministic)."""
        out = ["@keyframe", f"@goal {_q(goal)}",
               "@files " + " ".join(sorted(p for p, d in st.files.items() if d.complete))]
        ed = next((e for e in st.editors if e.get("active")), None)
        if ed is not None and ed.get("visible_ranges"):
            span = (ed["visible_ranges"][0][0], ed["visible_ranges"][-1][1])
            out.append(f"@view {ed['file']} {span[0] + 1}-{span[1] + 1}")
            doc = st.files.get(ed["file"])
            lines = doc.lines()[span[0]:span[1] + 1] if doc is not None and doc.complete else ed.get("text", "").split("\n")
            out.extend(f"{n + 1:>5} {t}" for n, t in zip(range(span[0], span[1] + 1), lines[:VIEW_LINES]))
            sels = st.selections.get(ed["file"]) or []
            if sels and doc is not None:
                line, col = doc.position(sels[0]["active"])
                out.append(f"@cursor {ed['file']} {line + 1}:{col + 1}")
        term = st.terminals.get(st.active_terminal) if st.active_terminal else None
        if term is not None and term.lines:
            tail = [x.rstrip() for x in term.lines]
            while tail and not tail[-1]:
                tail.pop()
            out.append(f"@output {term.id}")
            out.extend(tail[-10:])
        out.append("@end-keyframe")
        return "\n".join(out) + "\n"


@bulk
def sequence_chunks(events: list[dict[str, Any]], tokenizer, max_tokens: int = 8192) -> list[dict[str, Any]]:
    """Chunks of ``{input_ids, loss_mask, first_seq, last_seq, n_events, event_starts}``."""
    markers = {m.index: m for m in find_markers(events) if m.kind in ("prompt", "commit")}
    state = ReplayState()
    renderer = Renderer()
    goal = ""
    chunks: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for i, ev in enumerate(events):
        text = renderer.render(ev, state)
        if i in markers:
            goal = markers[i].text
        if text:
            ids = tokenizer.encode(text)
            user = ev.get("type") == "action" and ev.get("source") == "user"
            if current is None or len(current["input_ids"]) + len(ids) > max_tokens:
                key = tokenizer.encode(renderer.keyframe(state, goal))
                current = {"input_ids": list(key), "loss_mask": [0] * len(key), "keyframe_tokens": len(key),
                           "first_seq": ev.get("seq"), "last_seq": ev.get("seq"), "n_events": 0, "event_starts": []}
                chunks.append(current)
                room = max_tokens - len(key)
                if len(ids) > room:  # one huge event: keep its deterministic prefix
                    ids = ids[:max(room, 0)]
            current["event_starts"].append(len(current["input_ids"]))
            current["input_ids"].extend(ids)
            current["loss_mask"].extend([1 if user else 0] * len(ids))
            current["last_seq"] = ev.get("seq")
            current["n_events"] += 1
        state.apply(ev)
    return chunks


@bulk
def convert_next_action(events: list[dict[str, Any]], session_id: str, tokenizer, max_tokens: int = 8192) -> list[dict[str, Any]]:
    rows = []
    for n, ch in enumerate(sequence_chunks(events, tokenizer, max_tokens)):
        rows.append({"session_id": session_id, "chunk": n, **ch})
    return rows


def _cc2_positions(cc2: Any) -> str | None:
    """``L:C`` or ``L:C-L:C`` (1-based) of a 2.0 selection's ``selectionStart``/``selectionEnd``."""
    if not isinstance(cc2, dict):
        return None
    points = []
    for key in ("selectionStart", "selectionEnd"):
        pos = cc2.get(key)
        if not isinstance(pos, dict):
            return None
        line, char = pos.get("line"), pos.get("character")
        if not isinstance(line, int) or not isinstance(char, int) or isinstance(line, bool) or isinstance(char, bool):
            return None
        points.append((line + 1, char + 1))
    (al, ac), (bl, bc) = points
    return f"{al}:{ac}" if points[0] == points[1] else f"{al}:{ac}-{bl}:{bc}"
