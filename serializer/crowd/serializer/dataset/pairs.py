"""Converter 2: prompt / agent-response pairs with implicit human feedback.

An agent edit batch is a run of agent-attributed edits and file changes with no user action
in between. Each pair holds the prompt (read from the terminal screen when it shows one),
the workspace snapshot id that preceded the batch and the touched files' text before it
(the snapshot context), the agent's response as a unified diff per file, and what the user
did within a horizon: ``kept`` (did not touch those files), ``revised`` (edited them; with
the character edit distance from the agent's result), ``reverted`` (brought them back to
their text before the batch, in the editor or with git) or ``re-prompted`` (prompted the
agent again before editing). A batch ends when anyone but the agent acts.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from crowd.serializer.dataset.signals import Marker, find_markers
from crowd.serializer.replay.patch import unified_diff
from crowd.serializer.replay.state import ReplayState
from crowd.serializer.bulk import bulk

HORIZON_US = 300 * 1_000_000
BATCH_GAP_US = 60 * 1_000_000


def edit_distance(a: str, b: str) -> int:
    """Exact Levenshtein distance in characters (bit-parallel, Myers/Hyyrö).

    The common prefix and suffix are stripped first; the rest runs with Python integers as
    bit vectors, so a revision of a few thousand characters costs milliseconds, not seconds.
    """
    p = 0
    n = min(len(a), len(b))
    while p < n and a[p] == b[p]:
        p += 1
    s = 0
    while s < n - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    a, b = a[p:len(a) - s], b[p:len(b) - s]
    if len(a) < len(b):
        a, b = b, a
    m = len(b)
    if m == 0:
        return len(a)
    peq: dict[str, int] = {}
    for i, c in enumerate(b):
        peq[c] = peq.get(c, 0) | (1 << i)
    full = (1 << m) - 1
    top = 1 << (m - 1)
    pv, mv, score = full, 0, m
    for c in a:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & full)
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        pv = mh | (~(xv | ph) & full)
        mv = ph & xv
    return score


@dataclass
class _Batch:
    first_seq: int
    start_t: int
    agent: str | None
    prompt: Marker | None
    snapshot_id: str | None
    before: dict[str, str | None] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    end_t: int = 0
    after: dict[str, str | None] = field(default_factory=dict)
    outcome: str | None = None
    decided_at: int | None = None
    next_user: dict[str, Any] | None = None
    closed: bool = False
    done: bool = False
    final: dict[str, str | None] = field(default_factory=dict)


@bulk
def convert_pairs(events: list[dict[str, Any]], session_id: str, horizon_us: int = HORIZON_US) -> list[dict[str, Any]]:
    markers = find_markers(events)
    prompts = {m.index: m for m in markers if m.kind == "prompt"}
    state = ReplayState()
    batches: list[_Batch] = []
    current: _Batch | None = None
    watching: list[_Batch] = []
    last_prompt: Marker | None = None
    last_snapshot: str | None = None
    for i, ev in enumerate(events):
        etype, source = ev.get("type"), ev.get("source")
        t = ev.get("t", 0)
        if etype == "snapshot":
            last_snapshot = ev.get("snapshot_id")
        is_agent_change = etype == "action" and source == "agent" and ev.get("kind") in ("edit", "file_change")
        if is_agent_change:
            if current is not None and t - current.end_t > BATCH_GAP_US:
                _close(current, state)
                current = None
            if current is None:
                for b in watching:
                    _finish(b, state)
                watching = []
                current = _Batch(ev.get("seq"), t, ev.get("agent"), last_prompt, last_snapshot)
                batches.append(current)
                last_prompt = None
                last_snapshot = None
            path = ev.get("file")
            for p in filter(None, (path, ev.get("old_file"))):
                if p not in current.before:
                    doc = state.files.get(p)
                    current.before[p] = doc.text if doc is not None and doc.complete else None
            current.actions.append({k: v for k, v in ev.items() if k not in ("type", "wall")})
            current.end_t = t
        elif etype == "action" and source != "agent":  # anyone else acting ends the agent's batch
            if current is not None:
                _close(current, state)
                watching.append(current)
                current = None
            for b in watching:
                if b.next_user is None and source == "user":
                    b.next_user = {"kind": ev.get("kind"), "seq": ev.get("seq"), "dt_s": round((t - b.end_t) / 1e6, 3),
                                   "file": ev.get("file")}
        if i in prompts:  # after closing the batch above: a prompt right after it re-prompts it
            last_prompt = prompts[i]
            for b in watching:
                if b.outcome is None and b.closed:
                    b.outcome, b.decided_at = "re-prompted", ev.get("seq")
        state.apply(ev)
        for b in watching:
            if t - b.end_t > horizon_us:
                _finish(b, state)
            elif etype == "action" and source in ("user", "git", "git_checkout") and ev.get("file") in b.after:
                # the user undoing it in the editor or with git (checkout/restore) both revert it
                if all(_text(state, p) == b.before[p] for p in b.before):
                    b.outcome, b.decided_at = "reverted", ev.get("seq")
                elif b.outcome is None and source == "user":
                    b.outcome, b.decided_at = "revised", ev.get("seq")
        watching = [b for b in watching if not b.done]
    if current is not None:
        _close(current, state)
        watching.append(current)
    for b in watching:
        _finish(b, state)
    return [_row(session_id, n, b) for n, b in enumerate(batches)]


def _text(state: ReplayState, path: str) -> str | None:
    doc = state.files.get(path)
    return doc.text if doc is not None and doc.complete else None


def _close(b: _Batch, state: ReplayState) -> None:
    b.closed = True
    b.after = {p: _text(state, p) for p in b.before}


def _finish(b: _Batch, state: ReplayState) -> None:
    """The horizon is over: what the touched files are now decides a revision's distance."""
    if not b.closed:
        _close(b, state)
    if b.done:
        return
    b.final = {p: _text(state, p) for p in b.before}
    if b.outcome is None:
        b.outcome = "kept"
    b.done = True


def _row(session_id: str, n: int, b: _Batch) -> dict[str, Any]:
    after = b.after
    final = b.final or after
    distance = None
    if b.outcome == "revised":
        distance = sum(edit_distance(after[p] or "", final.get(p) or "") for p in after)
    diffs = {p: unified_diff(b.before[p] or "", after[p] or "", p) for p in sorted(after)
             if b.before[p] is not None and after[p] is not None}
    for act in b.actions:  # files the replay never saw in full (imports): the recorded diffs
        if act.get("file") not in diffs and act.get("diff"):
            diffs[act["file"]] = act["diff"]
    return {
        "session_id": session_id, "pair": n, "agent": b.agent, "first_seq": b.first_seq,
        "start_t": b.start_t, "end_t": b.end_t,
        "prompt": b.prompt.text if b.prompt else None,
        "prompt_source": b.prompt.source if b.prompt else None,
        "snapshot_id": b.snapshot_id, "files": sorted(after),
        "context_json": json.dumps(dict(sorted(b.before.items())), ensure_ascii=False),
        "response_diff": "".join(diffs.values()),
        "response_json": json.dumps(b.actions, ensure_ascii=False, sort_keys=True),
        "feedback": b.outcome, "feedback_seq": b.decided_at, "edit_distance": distance,
        "next_user_action_json": json.dumps(b.next_user, sort_keys=True),
    }
