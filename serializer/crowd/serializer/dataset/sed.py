"""Converter 4: the SED shell-conversation format (behaviour cloning as a shell session).

Assistant turns are the user's actions written as shell commands, user turns are what the
environment showed back: opening a file is ``cat -n F``; scrolling is
``cat -n F | sed -n 'S,Ep'``; a burst of typing in one file becomes one ``sed -i`` (``c``
replace, ``d`` delete, ``i``/``a`` insert) chained with a print of +-10 lines around the
change; a terminal command is a fenced bash block answered by the lines it printed. Agent,
git and external changes are environment: their diffs appear in the next user turn.

Unlike the public converter this fixes: a conversation always opens with a keyframe (goal,
the active file's visible lines, the terminal's tail), so it never starts with output whose
command is in the previous chunk or with an edit to a file it never showed; conversations
are cut only between an action's observation and the next action; file order is the event
order (never set/dict order); offsets are UTF-16 as recorded.
"""
from __future__ import annotations

from typing import Any

from crowd.serializer.dataset.common import new_terminal_lines
from crowd.serializer.dataset.signals import find_markers
from crowd.serializer.replay.state import ReplayState
from crowd.serializer.replay.patch import unified_diff
from crowd.text.document import Document
from crowd.text.lines import split_lines
from crowd.text.utf16 import utf16_len
from crowd.serializer.bulk import bulk

CONTEXT = 10


def _numbered(lines: list[str], first: int) -> str:
    return "".join(f"{n:6}\t{t}\n" for n, t in enumerate(lines, start=first))


def _stdout(body: str) -> str:
    return f"<stdout>\n{body}</stdout>"


def _sq(text: str) -> str:
    """Text inside a single-quoted sed script: quotes and backslashes escaped."""
    return text.replace("\\", "\\\\").replace("'", "'\"'\"'")


def _sed_lines(text: str) -> list[str]:
    """Lines as sed numbers them: a final line break does not start another line."""
    lines = split_lines(text)
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return [] if text == "" else lines


def sed_edit(path: str, old: str, new: str) -> tuple[str, str] | None:
    """(command, observation) turning ``old`` into ``new`` with one sed call, or None if equal."""
    a, b = _sed_lines(old), _sed_lines(new)
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    s = 0
    while s < min(len(a), len(b)) - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    gone, added = a[p:len(a) - s], b[p:len(b) - s]
    if not gone and not added:
        return None
    body = "\\\n".join(_sq(x) for x in added)
    if not gone:
        script = f"{p}a\\\n{body}" if p == len(a) and p > 0 else f"{p + 1}i\\\n{body}"
    elif not added:
        script = f"{p + 1},{p + len(gone)}d"
    else:
        script = f"{p + 1},{p + len(gone)}c\\\n{body}"
    lo = max(1, p + 1 - CONTEXT)
    hi = min(len(b), p + len(added) + CONTEXT)
    cmd = f"sed -i '{script}' {path} && cat -n {path} | sed -n '{lo},{hi}p'"
    return cmd, _stdout(_numbered(b[lo - 1:hi], lo))


class _Conversation:
    def __init__(self, counter, msg_cap: int) -> None:
        self.messages: list[dict[str, str]] = []
        self.tokens = 0
        self.counter = counter
        self.msg_cap = msg_cap
        self.first_seq: int | None = None
        self.last_seq: int | None = None

    def add(self, role: str, content: str, budget: int | None = None) -> int:
        cap = self.msg_cap if budget is None else min(self.msg_cap, budget - self.tokens)
        if cap < 16:
            return 0  # no room left: an output is dropped rather than overflow the conversation
        ids = self.counter.encode(content)
        if len(ids) > cap:
            content = self.counter.decode(ids[:cap - 8]) + "\n[truncated]"
            ids = self.counter.encode(content)
        if self.messages and self.messages[-1]["role"] == role:
            self.messages[-1]["content"] += "\n" + content
        else:
            self.messages.append({"role": role, "content": content})
        self.tokens += len(ids)
        return len(ids)


class SedConverter:
    def __init__(self, counter, budget: int = 8192, msg_cap: int = 2048) -> None:
        self.counter = counter
        self.budget = budget - 32  # margin: merged same-role messages can tokenise a little longer
        self.msg_cap = msg_cap
        self.state = ReplayState()
        self.conversations: list[_Conversation] = []
        self.conv: _Conversation | None = None
        self.shown: set[str] = set()
        self.views: dict[str, tuple[int, int]] = {}
        self.screens: dict[str, list[str]] = {}
        self.goal = ""
        self.burst: tuple[str, str] | None = None   # (file, text before the burst)
        self._shown_change: dict[tuple[str, str], tuple[int, str]] = {}
        self._pending_cmd: tuple[int | None, str, str | None] | None = None  # command awaiting output
        self._caret: int | None = None   # where the typing burst's cursor should be

    def keyframe(self) -> str:
        st = self.state
        out = [f"Goal: {self.goal or '(none recorded)'}"]
        ed = next((e for e in st.editors if e.get("active")), None)
        if ed is not None and ed.get("visible_ranges"):
            s, e = ed["visible_ranges"][0][0], ed["visible_ranges"][-1][1]
            doc = st.files.get(ed["file"])
            lines = doc.lines()[s:e + 1] if doc is not None and doc.complete else ed.get("text", "").split("\n")
            out.append(f"$ cat -n {ed['file']} | sed -n '{s + 1},{e + 1}p'\n" + _stdout(_numbered(lines, s + 1)))
            self.shown = {ed["file"]}
        else:
            self.shown = set()
        term = st.terminals.get(st.active_terminal) if st.active_terminal else None
        if term is not None and term.lines:
            tail = [x.rstrip() for x in term.lines]
            while tail and not tail[-1]:
                tail.pop()
            out.append("Terminal:\n" + "\n".join(tail[-10:]))
        return "\n".join(out)

    def _ensure(self, seq: int | None, reserve: int, before: tuple[str, str] | None = None) -> _Conversation:
        if self.conv is None or self.conv.tokens + reserve > self.budget:
            self.conv = _Conversation(self.counter, self.msg_cap)
            self.conversations.append(self.conv)
            doc = self.state.files.get(before[0]) if before else None
            if doc is not None:  # the keyframe shows the file as it was before the burst it precedes
                saved = doc.text
                doc.set_text(before[1])
                self.conv.add("user", self.keyframe())
                doc.set_text(saved)
            else:
                self.conv.add("user", self.keyframe())
        if self.conv.first_seq is None:
            self.conv.first_seq = seq
        self.conv.last_seq = seq
        return self.conv

    def act(self, seq: int | None, command: str, observation: str, before: tuple[str, str] | None = None,
            reserve_extra: int = 0) -> None:
        reserve = len(self.counter.encode(command)) + min(len(self.counter.encode(observation)), self.msg_cap) + reserve_extra
        conv = self._ensure(seq, reserve, before)
        conv.add("assistant", command, self.budget)
        if observation:
            conv.add("user", observation, self.budget)

    def observe(self, seq: int | None, text: str, standalone: bool = False) -> None:
        """Add what the environment showed; a standalone change may open a new conversation,
        a command's output never leaves its command's conversation (it is cut to fit)."""
        reserve = min(len(self.counter.encode(text)), self.msg_cap) if standalone else 0
        if self.conv is None or standalone:
            self._ensure(seq, reserve)
        self.conv.add("user", text, self.budget)
        self.conv.last_seq = seq

    def flush_burst(self, seq: int | None) -> None:
        if self.burst is None:
            return
        path, before = self.burst
        self.burst = None
        doc = self.state.files.get(path)
        if not _from_line_one(doc):
            return
        made = sed_edit(path, before, doc.text)
        if made:
            if path not in self.shown:
                self.act(seq, f"cat -n {path}", _stdout(_numbered(split_lines(before), 1)), (path, before))
                self.shown.add(path)
            self.act(seq, *made, before=(path, before))

    def feed(self, i: int, ev: dict[str, Any], marker) -> None:
        etype, kind, source = ev.get("type"), ev.get("kind"), ev.get("source")
        seq = ev.get("seq")
        st = self.state
        if marker is not None:
            self.goal = marker.text
        user_action = etype == "action" and source == "user"
        if user_action and kind == "edit":
            path = ev.get("file")
            if self.burst is not None and self.burst[0] != path:
                self.flush_burst(seq)
            doc = st.files.get(path)
            if self.burst is None and _from_line_one(doc):
                self.burst = (path, doc.text)
            changes = ev.get("changes") or []
            if self.burst is not None and doc is not None and not doc.complete and any(
                    c["offset"] + c["length"] > doc.length16() for c in changes):
                self.burst = None  # an import's edit past the part of the file known: no sed line for it
            st.apply(ev)
            if changes:
                first = min(changes, key=lambda c: c["offset"])
                self._caret = first["offset"] + utf16_len(first["text"])
            return
        if user_action and kind == "selection" and self.burst is not None:
            sels = ev.get("selections") or []
            if not sels or ev.get("file") != self.burst[0] or sels[0]["active"] != self._caret:
                self.flush_burst(seq)  # the cursor left the typing position: the burst is over
        elif user_action:
            self.flush_burst(seq)
        if etype == "action" and source not in ("user", None) and kind in ("edit", "file_change"):
            self.flush_burst(seq)
            before = st.files.get(ev.get("file"))
            before_text = before.text if before is not None and before.complete else None
            st.apply(ev)
            after = st.files.get(ev.get("file"))
            diff = ev.get("diff")
            if diff is None and before_text is not None and after is not None:
                diff = unified_diff(before_text, after.text, ev.get("file"))
            who = source + (f":{ev['agent']}" if ev.get("agent") else "")
            key = (ev.get("file"), who)
            recent = self._shown_change.get(key)
            self._shown_change[key] = (i, kind)
            if recent is not None and recent[1] != kind and i - recent[0] <= 20:
                return  # the same write seen twice: on disk (file_change) and as the editor's reload (edit)
            self.observe(seq, f"<environment source=\"{who}\" change=\"{kind if kind == 'edit' else ev.get('change')}\" "
                              f"file=\"{ev.get('file')}\">\n{diff or ''}</environment>", standalone=True)
            return
        if user_action and kind == "tab_switch":
            path = ev.get("file")
            st.apply(ev)
            doc = st.files.get(path)
            if path not in self.shown and doc is not None and doc.complete:
                self.act(seq, f"cat -n {path}", _stdout(_numbered(doc.lines(), 1)))
                self.shown.add(path)
            return
        if user_action and kind == "terminal_command":
            st.apply(ev)
            self._pending_cmd = (seq, ev.get("command") or "", ev.get("terminal"))
            self.act(seq, f"```bash\n{ev.get('command')}\n```", "", reserve_extra=min(256, self.msg_cap))
            return
        if etype == "observation" and kind == "terminal_screen":
            tid = ev.get("terminal")
            added = new_terminal_lines(self.screens.get(tid, []), ev.get("lines") or [])
            self.screens[tid] = ev.get("lines") or []
            st.apply(ev)
            pending = self._pending_cmd
            if pending and pending[2] == tid and added:
                cmd = pending[1]
                if added and added[0].endswith(cmd):
                    added = added[1:]
                if added and added[-1].strip() in ("$", "#", "%", ">") or (added and added[-1].endswith("$")):
                    added = added[:-1]
                if added:
                    self.observe(seq, _stdout("".join(x + "\n" for x in added[-60:])))
                self._pending_cmd = None
            return
        if etype == "observation" and kind == "viewport":
            st.apply(ev)
            ed = next((e for e in ev.get("editors") or [] if e.get("active")), None)
            if ed is None or not ed.get("visible_ranges"):
                return
            span = (ed["visible_ranges"][0][0], ed["visible_ranges"][-1][1])
            prev = self.views.get(ed["file"])
            self.views[ed["file"]] = span
            if self.burst is not None:
                return  # typing scrolls the view; the sed print after the burst shows it
            if prev is not None and prev[0] <= span[0] and span[1] <= prev[1]:
                return
            if prev is None and ed["file"] in self.shown:
                return
            path = ed["file"]
            lines = ed.get("text", "").split("\n")
            self.act(seq, f"cat -n {path} | sed -n '{span[0] + 1},{span[1] + 1}p'", _stdout(_numbered(lines, span[0] + 1)))
            self.shown.add(path)
            return
        if user_action and kind == "terminal_input":
            data = (ev.get("data") or "").replace("\r", "\n")
            if data.strip():
                self.act(seq, f"```keys\n{data.rstrip()}\n```", "")
        st.apply(ev)

    def finish(self) -> None:
        self.flush_burst(None)


def _from_line_one(doc: Document | None) -> bool:
    """Whether line numbers in ``doc`` are the file's: known in full, or (crowd-code 2.0
    imports) known from line 1 down as far as it goes -- a typing burst there is rendered."""
    return doc is not None and (doc.complete or bool(doc.text))


@bulk
def convert_sed(events: list[dict[str, Any]], session_id: str, counter, budget: int = 8192,
                msg_cap: int = 2048) -> list[dict[str, Any]]:
    markers = {m.index: m for m in find_markers(events) if m.kind in ("prompt", "commit")}
    conv = SedConverter(counter, budget, msg_cap)
    for i, ev in enumerate(events):
        conv.feed(i, ev, markers.get(i))
    conv.finish()
    rows = []
    for n, c in enumerate(conv.conversations):
        if len(c.messages) < 2:
            continue
        tokens = sum(len(counter.encode(m["content"])) for m in c.messages)
        rows.append({"session_id": session_id, "conversation": n, "messages": c.messages, "n_tokens": tokens,
                     "first_seq": c.first_seq, "last_seq": c.last_seq})
    return rows
