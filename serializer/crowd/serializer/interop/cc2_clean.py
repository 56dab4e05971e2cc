"""One crowd-code 2.0 event, checked field by field before the importer reads it.

A 2.0 file is untrusted input: any field can hold any JSON value. The importer used to read
fields as it found them, and a wrong type anywhere (``"viewport": []``, ``"rangeOffset": "x"``,
``"terminalId": {}``, ``"diff": [..]``...) raised a TypeError/AttributeError/ValueError out of
``crowd import``, losing the whole session (found by a mutation fuzz of valid sessions:
16 distinct crashes in 400 mutants). ``clean`` returns the event with every field the importer
reads of the right type, or None; each repair or drop is one problem naming the event's
``sequence`` and the field, so nothing is lost silently:

- a field that is optional in 2.0 (``previousFile``, ``reason``, ``terminalName``, the
  viewport's cursor, a file_change's ``diff``) and has the wrong type becomes absent/None;
- an observation part of the wrong shape (viewport, activeTerminal) is dropped, the rest kept;
- an action without what it is about (an edit without integer offsets and string text, a
  file without a string path) is dropped.
"""
from __future__ import annotations

from typing import Any

_ACTIONS = ("edit", "selection", "tab_switch", "terminal_focus", "terminal_command", "file_change")
_SOURCES = ("user", "agent", "unknown", "git", "git_checkout")
_CHANGES = ("create", "change", "delete")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _count(value: Any) -> bool:
    return _is_int(value) and value >= 0


def _position(value: Any) -> dict[str, int] | None:
    if isinstance(value, dict) and _count(value.get("line")) and _count(value.get("character")):
        return {"line": value["line"], "character": value["character"]}
    return None


class _Checker:
    def __init__(self, ev: dict[str, Any], problems: list[str]) -> None:
        self.where = f"event {ev.get('sequence')!r}" if _is_int(ev.get("sequence")) else "an event"
        self.problems = problems

    def say(self, what: str) -> None:
        self.problems.append(f"{self.where}: {what}")

    def optional_str(self, body: dict[str, Any], key: str) -> None:
        if key in body and body[key] is not None and not isinstance(body[key], str):
            self.say(f"{key} is not a string; left out")
            body[key] = None


def clean(ev: Any, problems: list[str]) -> dict[str, Any] | None:
    """``ev`` with the fields the importer reads checked and repaired, or None (see above)."""
    if not isinstance(ev, dict) or not isinstance(ev.get("type"), str):
        problems.append(f"an event that is not an object with a type was skipped: {str(ev)[:80]}")
        return None
    out = dict(ev)
    check = _Checker(ev, problems)
    if "timestamp" in out and not _is_int(out["timestamp"]):
        check.say("timestamp is not an integer; the time of the event before is used")
        del out["timestamp"]
    if "sequence" in out and not _is_int(out["sequence"]):
        del out["sequence"]
    if out["type"] == "action":
        action = _action(out.get("action"), check)
        if action is None:
            return None
        out["action"] = action
    elif out["type"] == "observation":
        out["observation"] = _observation(out.get("observation"), check)
    elif out["type"] == "workspace_snapshot" and not isinstance(out.get("snapshotId"), str):
        check.say("workspace_snapshot without a string snapshotId; skipped")
        return None
    return out


def _action(raw: Any, check: _Checker) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
        check.say("action without an object with a kind; skipped")
        return None
    act = dict(raw)
    kind = act["kind"]
    if kind not in _ACTIONS:
        return act  # reported as an unknown kind by the importer
    if act.get("source") not in _SOURCES:
        if "source" in act:
            check.say(f"source {str(act.get('source'))[:40]!r} is none of 2.0's; taken as unknown")
        act["source"] = "unknown"
    if kind in ("edit", "selection", "tab_switch", "file_change") and not isinstance(act.get("file"), str):
        check.say(f"{kind} without a string file; skipped")
        return None
    check.optional_str(act, "previousFile")
    check.optional_str(act, "reason")
    check.optional_str(act, "terminalName")
    if kind == "edit":
        diff = act.get("diff")
        if not (isinstance(diff, dict) and _count(diff.get("rangeOffset")) and _count(diff.get("rangeLength"))
                and isinstance(diff.get("text", ""), str)):
            check.say("edit without integer rangeOffset/rangeLength and string text; skipped")
            return None
    elif kind == "selection":
        for key in ("selectionStart", "selectionEnd"):
            if key in act and _position(act[key]) is None and not _is_int(act[key]):
                check.say(f"{key} is not a line/character position; left out")
                del act[key]
        if "selectedText" in act and not isinstance(act["selectedText"], str):
            check.say("selectedText is not a string; left out")
            del act["selectedText"]
    elif kind in ("terminal_focus", "terminal_command"):
        if not isinstance(act.get("terminalId"), str):
            check.say(f"{kind} without a string terminalId; skipped")
            return None
        if kind == "terminal_command" and not isinstance(act.get("command", ""), str):
            check.say("command is not a string; skipped")
            return None
    elif kind == "file_change":
        if act.get("changeType") not in _CHANGES:
            check.say(f"changeType {str(act.get('changeType'))[:40]!r} is none of 2.0's; taken as change")
            act["changeType"] = "change"
        check.optional_str(act, "diff")
    return act


def _observation(raw: Any, check: _Checker) -> dict[str, Any]:
    if not isinstance(raw, dict):
        if raw is not None:
            check.say("observation is not an object; nothing observed")
        return {"viewport": None, "activeTerminal": None}
    obs = {"viewport": raw.get("viewport"), "activeTerminal": raw.get("activeTerminal")}
    vp = obs["viewport"]
    if vp is not None:
        if not (isinstance(vp, dict) and isinstance(vp.get("file"), str) and _is_int(vp.get("startLine"))
                and _is_int(vp.get("endLine")) and 1 <= vp["startLine"] <= vp["endLine"]
                and isinstance(vp.get("content", ""), str)):
            check.say("viewport without a file, 1 <= startLine <= endLine and string content; left out")
            obs["viewport"] = None
        else:
            vp = obs["viewport"] = dict(vp)
            if vp.get("cursorPosition") is not None and _position(vp["cursorPosition"]) is None:
                check.say("cursorPosition is not a line/character position; left out")
                vp["cursorPosition"] = None
    term = obs["activeTerminal"]
    if term is not None:
        if not (isinstance(term, dict) and isinstance(term.get("id"), str)
                and isinstance(term.get("viewport", []), list)):
            check.say("activeTerminal without a string id and a list of lines; left out")
            obs["activeTerminal"] = None
        else:
            term = obs["activeTerminal"] = dict(term)
            check.optional_str(term, "name")
            if any(not isinstance(x, str) for x in term.get("viewport") or []):
                check.say("a terminal line is not a string; shown as its JSON text")
                term["viewport"] = [x if isinstance(x, str) else json_text(x) for x in term["viewport"]]
    return obs


def json_text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
