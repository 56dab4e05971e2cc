"""The hub: 10 Hz sampling semantics (changed terminals only, focus flag, final state of a
burst), VS Code's OSC 633 command marks, and the input rules (paste, withheld)."""
from __future__ import annotations

import threading

from crowd.terminal.hub import TerminalHub


class Sink:
    def __init__(self) -> None:
        self.events: list[dict] = []
        self.t = 0

    def record(self, type_: str, kind: str, **fields) -> dict:
        event = {"type": type_, "kind": kind, **fields}
        self.events.append(event)
        return event

    def now(self) -> int:
        self.t += 1000
        return self.t

    def kinds(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["kind"] == kind]


def _hub() -> tuple[TerminalHub, Sink]:
    sink = Sink()
    def rel_path(path: str) -> str | None:      # the workspace is /ws
        return "." if path == "/ws" else (path[4:] if path.startswith("/ws/") else None)

    return TerminalHub(sink.record, now=sink.now, rel_path=rel_path), sink


def test_only_changed_terminals_are_recorded_and_focus_is_flagged() -> None:
    hub, sink = _hub()
    hub.open("a", "bash", 4, 20)
    hub.open("b", "claude", 4, 20)
    hub.focus("b")
    hub.output("a", b"hello from a")
    hub.output("b", b"hello from b")
    assert hub.sample() == 2
    assert hub.sample() == 0, "nothing changed: nothing recorded"
    hub.output("a", b"\r\nmore")
    assert hub.sample() == 1
    screens = sink.kinds("terminal_screen")
    assert [(s["terminal"], s["focused"]) for s in screens] == [("a", False), ("b", True), ("a", False)]
    assert screens[-1]["lines"][1].startswith("more")


def test_final_state_of_a_burst_is_recorded_before_close_and_resize() -> None:
    hub, sink = _hub()
    hub.open("a", "bash", 4, 20)
    for i in range(1000):
        hub.output("a", b"line %d\r\n" % i)
    hub.resize("a", 5, 30)                 # samples the old size first
    hub.output("a", b"after resize")
    hub.close("a", 0)
    screens = sink.kinds("terminal_screen")
    assert screens[0]["lines"][-2].startswith("line 999") and screens[0]["cols"] == 20
    assert screens[-1]["cols"] == 30 and any("after resize" in line for line in screens[-1]["lines"])
    order = [e["kind"] for e in sink.events]
    assert order.index("terminal_resize") > order.index("terminal_screen")
    assert order[-1] == "terminal_close"


def test_vscode_633_marks_make_commands_with_escaped_command_lines() -> None:
    hub, sink = _hub()
    hub.open("t", "zsh", 6, 40)
    hub.output("t", b"\x1b]633;P;Cwd=/ws/api\x07\x1b]633;A\x07$ \x1b]633;B\x07echo a\\x3bb; false\r\n"
                    b"\x1b]633;E;echo a\\x3bb\\x3b false;nonce123\x07\x1b]633;C\x07a;b\r\n"
                    b"\x1b]633;D;1\x07\x1b]633;A\x07$ \x1b]633;B\x07")
    hub.sample()
    (cmd,) = sink.kinds("terminal_command")
    assert cmd["command"] == "echo a;b; false"
    assert (cmd["cwd"], cmd["exit_code"]) == ("api", 1)
    assert cmd["start_t"] <= cmd["end_t"]


def test_osc_133_without_command_line_reads_it_off_the_screen() -> None:
    hub, sink = _hub()
    hub.open("t", "bash", 3, 30)
    hub.output("t", b"\x1b]7;file://host/ws\x07\x1b]133;A\x07user$ \x1b]133;B\x07make test\r\n"
                    b"\x1b]133;C\x07ok\r\n" + b"filler\r\n" * 5 + b"\x1b]133;D;0\x07")
    hub.sample()
    (cmd,) = sink.kinds("terminal_command")
    assert (cmd["command"], cmd["cwd"], cmd["exit_code"]) == ("make test", ".", 0)


def test_input_paste_and_withheld() -> None:
    hub, sink = _hub()
    hub.open("t", "bash")
    hub.input("t", b"l")
    hub.input("t", b"\x1b[200~git status\n\x1b[201~")
    hub.input("t", b"s", echo_off=True)
    hub.input("t", b"e", echo_off=True)
    hub.input("t", b"\r")
    inputs = sink.kinds("terminal_input")
    assert [(i["data"], i["paste"]) for i in inputs] == [("l", False), ("git status\n", True), (None, False),
                                                          ("\r", False)]
    assert inputs[2]["withheld"] is True
    assert "s" not in [i["data"] for i in inputs]


def test_sampler_thread_records_without_explicit_calls() -> None:
    hub, sink = _hub()
    seen = threading.Event()
    original = sink.record

    def record(type_, kind, **fields):
        if kind == "terminal_screen":
            seen.set()
        return original(type_, kind, **fields)

    hub.record = record
    hub.open("t", "bash")
    hub.start()
    try:
        hub.output("t", b"tick")
        assert seen.wait(10), "the 10 Hz sampler never recorded the screen"
    finally:
        hub.stop()
