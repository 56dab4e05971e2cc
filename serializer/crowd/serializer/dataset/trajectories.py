"""Converter 1: goal-conditioned trajectories for behaviour cloning.

A session is cut into episodes at idle gaps, after commits, at branch switches and at agent
prompts. Each episode carries a goal and where it came from: the agent prompt that opened
it (read from the terminal screen), else the commit message that closed it, else empty for
later labelling. Steps are the actions (every actor, each with its ``source``) with the
observation that followed: the active editor's file, visible lines and cursor, and the lines
the terminal added. Instead of repeating viewport text at every keystroke, an episode holds
the text of each file it touches as of its first touch, from which the recorded edits rebuild
every viewport exactly (the replay tests prove that property).
"""
from __future__ import annotations

import json
from typing import Any

from crowd.serializer.dataset.common import new_terminal_lines
from crowd.serializer.dataset.signals import Marker, find_markers
from crowd.serializer.replay.state import ReplayState
from crowd.serializer.bulk import bulk

IDLE_GAP_US = 300 * 1_000_000
_HEADER = ("seq", "t", "wall", "type", "kind", "source", "agent")


class _Episode:
    def __init__(self, index: int, start_reason: str, marker: Marker | None) -> None:
        self.index = index
        self.start_reason = start_reason
        self.opening = marker
        self.closing: Marker | None = None
        self.end_reason = "end_of_session"
        self.steps: list[dict[str, Any]] = []
        self.files: dict[str, str | None] = {}
        self.snapshots: list[str] = []
        self.last_action_t: int | None = None


@bulk
def convert_trajectories(events: list[dict[str, Any]], session_id: str,
                         idle_gap_us: int = IDLE_GAP_US) -> list[dict[str, Any]]:
    markers = find_markers(events)
    by_index: dict[int, list[Marker]] = {}
    for m in markers:
        by_index.setdefault(m.index, []).append(m)
    state = ReplayState()
    episodes: list[_Episode] = []
    ep = _Episode(0, "session_start", None)
    screens: dict[str, list[str]] = {}
    close_after = False

    def start(reason: str, marker: Marker | None) -> None:
        nonlocal ep
        if ep.steps:
            episodes.append(ep)
            ep = _Episode(ep.index + 1, reason, marker)
        else:
            ep.start_reason, ep.opening = reason, marker

    pending: list[Marker] = []   # markers placed on an observation apply at the next action
    for i, ev in enumerate(events):
        etype = ev.get("type")
        pending.extend(by_index.get(i, []))
        here: list[Marker] = []
        if etype == "action":
            here, pending = pending, []
            if close_after:
                start("after_commit", None)
                close_after = False
            elif ep.last_action_t is not None and ev.get("t", 0) - ep.last_action_t > idle_gap_us:
                ep.end_reason = "idle"
                start("idle", None)
            for m in here:
                if m.kind in ("prompt", "branch"):
                    ep.end_reason = m.kind
                    start(m.kind, m if m.kind == "prompt" else None)
            path = ev.get("file")
            if isinstance(path, str) and path not in ep.files:
                doc = state.files.get(path)
                ep.files[path] = doc.text if doc is not None and doc.complete else None
            ep.steps.append({"seq": ev.get("seq"), "t": ev.get("t"), "source": ev.get("source"),
                             "agent": ev.get("agent"), "kind": ev.get("kind"),
                             "action": {k: v for k, v in ev.items() if k not in _HEADER},
                             "observation": None, "terminal": None})
            ep.last_action_t = ev.get("t", 0)
            for m in here:
                if m.kind == "commit":
                    ep.closing = m
                    ep.end_reason = "commit"
                    close_after = True
        elif etype == "snapshot":
            ep.snapshots.append(ev.get("snapshot_id"))
        state.apply(ev)
        if etype == "observation" and ep.steps:
            kind = ev.get("kind")
            step = ep.steps[-1]
            if kind == "viewport":
                ed = next((e for e in ev.get("editors") or [] if e.get("active")), None)
                if ed is not None:
                    doc = state.files.get(ed["file"])
                    sels = ed.get("selections") or []
                    cursor = ed.get("cursor") or (list(doc.position(sels[0]["active"])) if sels and doc else None)
                    step["observation"] = {"file": ed["file"], "visible_ranges": ed.get("visible_ranges"),
                                           "cursor": cursor}
                    if ed["file"] not in ep.files:
                        ep.files[ed["file"]] = doc.text if doc is not None and doc.complete else None
            elif kind == "terminal_screen":
                tid = ev.get("terminal")
                lines = ev.get("lines") or []
                added = new_terminal_lines(screens.get(tid, []), lines)
                screens[tid] = lines
                if added:
                    step["terminal"] = {"terminal": tid, "new_lines": added}
    if ep.steps:
        episodes.append(ep)
    rows = []
    for ep in episodes:
        goal, goal_source, detail = "", "none", None
        if ep.opening is not None:
            goal, goal_source, detail = ep.opening.text, "agent_prompt", ep.opening.source
        elif ep.closing is not None:
            goal, goal_source, detail = ep.closing.text, "commit_message", ep.closing.source
        rows.append({
            "session_id": session_id, "episode": ep.index, "goal": goal, "goal_source": goal_source,
            "goal_detail": detail, "start_reason": ep.start_reason, "end_reason": ep.end_reason,
            "start_seq": ep.steps[0]["seq"], "end_seq": ep.steps[-1]["seq"],
            "start_t": ep.steps[0]["t"], "end_t": ep.steps[-1]["t"], "n_steps": len(ep.steps),
            "n_user_steps": sum(1 for s in ep.steps if s["source"] == "user"),
            "snapshots": ep.snapshots,
            "files_json": json.dumps(dict(sorted(ep.files.items())), ensure_ascii=False),
            "steps_json": json.dumps(ep.steps, ensure_ascii=False, sort_keys=True),
        })
    return rows
