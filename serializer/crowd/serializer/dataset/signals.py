"""Where a session's intent shows: agent prompts, commits and branch switches, by event index.

One cheap pass (terminal screens only, no document replay) finds them, so every converter
cuts and labels with the same markers:

- an agent prompt is read from the emulated terminal screen when the user presses Enter in
  a terminal (the prompt box of Claude Code / Codex), else from the next screen of that
  terminal; a command line like ``claude "fix it"`` is a prompt too; only when no screen shows
  it, the typed keys of an agent terminal are used (source recorded either way);
- a commit is a ``git commit -m "..."`` command (its message becomes a goal);
- a branch switch is ``git checkout``/``git switch`` to a branch, a ``git.checkout`` command,
  or the first ``git_checkout``-attributed change after other activity.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from crowd.serializer.dataset.common import agent_command, branch_switch, commit_message, prompt_on_screen

AGENT_NAMES = ("claude", "codex", "aider", "gemini", "cursor", "opencode", "copilot")


@dataclass(frozen=True)
class Marker:
    index: int          # event index where it happens
    kind: str           # prompt | commit | branch
    text: str           # prompt text, commit message, branch name ("" when unknown)
    source: str         # where the text was read: terminal_screen, agent_command, terminal_input, commit_message...
    terminal: str | None = None


def find_markers(events: list[dict[str, Any]]) -> list[Marker]:
    markers: list[Marker] = []
    screens: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    pending: dict[str, tuple[int, str]] = {}   # terminal -> (index of Enter, typed text)
    last_kind_git = False
    times: list[int] = []   # t of every event so far (monotonic), to place commands at their start
    for i, ev in enumerate(events):
        etype, kind = ev.get("type"), ev.get("kind")
        times.append(ev.get("t", times[-1] if times else 0))
        if etype == "observation" and kind == "terminal_screen":
            tid = ev.get("terminal")
            screens[tid] = ev.get("lines") or []
            if ev.get("program"):  # the foreground program, as the terminal recorder reports it
                names[tid] = ev["program"]
            elif ev.get("title"):
                names.setdefault(tid, ev["title"])
            if tid in pending:
                at, typed = pending.pop(tid)
                text = prompt_on_screen(screens[tid])
                if text:
                    markers.append(Marker(at, "prompt", text, "terminal_screen", tid))
                elif _is_agent_terminal(names.get(tid, ""), screens[tid]) and typed.strip():
                    markers.append(Marker(at, "prompt", typed.strip(), "terminal_input", tid))
            continue
        if etype != "action":
            continue
        tid = ev.get("terminal")
        if kind in ("terminal_open", "terminal_focus") and ev.get("name"):
            names[tid] = ev["name"]
        if kind == "terminal_command" and ev.get("program"):
            names[tid] = ev["program"]
        if kind == "terminal_input" and ev.get("source") == "user":
            data = ev.get("data") or ""
            if "\r" in data or "\n" in data:
                typed = data.split("\r")[0].split("\n")[0]
                text = prompt_on_screen(screens.get(tid, []))
                if text and _is_agent_terminal(names.get(tid, ""), screens.get(tid, [])) and text.startswith(typed[:8]):
                    markers.append(Marker(i, "prompt", text, "terminal_screen", tid))
                else:
                    pending[tid] = (i, typed)
        elif kind == "terminal_command":
            # The event is written when the command ends; what it started (an agent's edits, a
            # checkout's file changes) is already in the stream, so prompts and branch switches
            # are placed where the command started. A commit closes work: it stays at its end.
            cmd = ev.get("command") or ""
            start = ev.get("start_t")
            began = bisect_left(times, start) if isinstance(start, int) else i
            agent = agent_command(cmd)
            msg = commit_message(cmd)
            branch = branch_switch(cmd)
            if agent:
                markers.append(Marker(min(began, i), "prompt", agent[1], "agent_command", tid))
            if msg:
                markers.append(Marker(i, "commit", msg, "commit_message", tid))
            if branch:
                markers.append(Marker(min(began, i), "branch", branch, "git_command", tid))
        elif kind == "editor_command" and ev.get("command") == "git.checkout":
            markers.append(Marker(i, "branch", ev.get("branch") or "", "editor_command"))
        is_git = ev.get("source") == "git_checkout"
        if is_git and not last_kind_git and kind != "editor_command":
            recent = [m for m in markers[-3:] if m.kind == "branch" and abs(i - m.index) <= 20]
            if not recent:
                markers.append(Marker(i, "branch", "", "git_checkout_change"))
        last_kind_git = is_git
    markers.sort(key=lambda m: (m.index, m.kind))
    return markers


def _is_agent_terminal(name: str, lines: list[str]) -> bool:
    low = name.lower()
    if any(a in low for a in AGENT_NAMES):
        return True
    head = " ".join(lines[:3]).lower()
    return any(a in head for a in AGENT_NAMES)
