"""``crowd term`` end to end: a real shell in a real PTY, recorded standalone, read back.

The test harness is the user's terminal (an outer PTY); ``crowd term`` runs bash (with the
shell integration it injects), python's getpass and vim inside it.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from crowd.format import read_recording
from tests.helpers.waiting import wait_for
from tests.terminal.standalone import crowd_term, events_of


def test_shell_session_commands_input_and_password_withheld(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    prog, announce = crowd_term(tmp_path)
    prompt = "\x1b]133;B\x07"     # the injected shell integration ends every prompt so
    prog.expect(prompt)
    at = prog.mark()
    prog.type("cd sub && ls -la --color=always\r")
    prog.expect("total [\\s\\S]*" + prompt, since=at)
    at = prog.mark()
    prog.type("false\r")
    prog.expect(prompt, since=at)
    at = prog.mark()
    prog.type("python3 -c 'import getpass; print(\"got\", len(getpass.getpass(\"Pass\" + \"word: \")))'\r")
    prog.expect("Password: ", since=at)
    prog.type("hunter2-secret\r")
    prog.expect("got 14", since=at)
    at = prog.mark()
    prog.type("read -s -p 'P''IN: ' pin; echo len=${#pin}\r")
    prog.expect("PIN: ", since=at)
    prog.type("9876\r")
    prog.expect("len=4", since=at)
    prog.type("exit\r")
    assert prog.wait_exit() == 0

    events = events_of(announce)
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "stop"
    assert {"terminal_open", "terminal_focus", "terminal_close", "terminal_input",
            "terminal_command", "terminal_screen"} <= set(kinds)

    commands = [e for e in events if e["kind"] == "terminal_command"]
    by_line = {c["command"]: c for c in commands}
    assert by_line["cd sub && ls -la --color=always"]["exit_code"] == 0
    assert by_line["cd sub && ls -la --color=always"]["cwd"] == "."
    assert by_line["false"]["exit_code"] == 1
    assert by_line["false"]["cwd"] == "sub"
    for c in commands:
        assert c["start_t"] <= c["end_t"]

    inputs = [e for e in events if e["kind"] == "terminal_input"]
    typed = "".join(e["data"] or "" for e in inputs)
    assert "cd sub" in typed and "exit" in typed
    withheld = [e for e in inputs if e.get("withheld")]
    assert len(withheld) == 2, "one withheld marker per password prompt"
    blob = repr(events)
    assert "hunter2" not in blob and "9876" not in blob

    screens = [e for e in events if e["kind"] == "terminal_screen"]
    assert all(len(s["lines"]) == s["rows"] == 24 for s in screens)
    assert all(s["focused"] for s in screens)
    assert any("got 14" in "\n".join(s["lines"]) for s in screens)
    assert str(tmp_path) not in blob.replace(str(tmp_path / "home"), ""), "absolute paths leak"


def test_vim_is_recorded_as_alt_screen_and_program(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("alpha\nbeta\n")
    prog, announce = crowd_term(tmp_path, "vim", "-u", "NONE", "-i", "NONE", "-N", "-n", "f.txt")
    prog.expect("f.txt")
    prog.drain(0.3)      # vim's terminal queries go unanswered; let it settle
    prog.type("Ogamma\x1b")
    prog.drain(0.3)      # vim redraws in pieces: "gamma" need not appear contiguously in the bytes
    prog.type(":wq\r")
    assert prog.wait_exit() == 0
    assert target.read_text().startswith("gamma\nalpha")
    events = events_of(announce)
    screens = [e for e in events if e["kind"] == "terminal_screen"]
    in_vim = [s for s in screens if s["alt_screen"]]
    assert in_vim and any(s["lines"][0].startswith("gamma") for s in in_vim)
    assert any(s["program"] == "vim" for s in in_vim)
    assert not screens[-1]["alt_screen"], "leaving vim restores the main screen"
    keys = "".join(e["data"] or "" for e in events if e["kind"] == "terminal_input")
    assert "gamma" in keys and ":wq" in keys, "raw-mode input (echo off, not canonical) is recorded"


def _wait_for_recorded_resize(announce: Path, rows: int, cols: int, timeout: float = 30.0) -> None:
    """Poll the live recording until crowd term has handled the SIGWINCH (it records the
    resize after applying it to the program's PTY)."""
    def recorded() -> bool:
        try:
            events = read_recording(Path(announce.read_text())).events
        except (OSError, ValueError):   # not written yet
            return False
        return any(e["kind"] == "terminal_resize" and (e["rows"], e["cols"]) == (rows, cols) for e in events)

    wait_for(recorded, timeout, f"a terminal_resize to {rows}x{cols}")


def test_resize_is_recorded_and_applied(tmp_path: Path) -> None:
    import fcntl
    import struct
    import termios

    script = tmp_path / "size.py"
    script.write_text("import shutil, sys\nprint('size', *shutil.get_terminal_size())\nsys.stdin.readline()\n"
                      "print('size', *shutil.get_terminal_size())\n")
    prog, announce = crowd_term(tmp_path, sys.executable, str(script))
    prog.expect("size 80 24")
    fcntl.ioctl(prog.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    os.kill(prog.pid, 28)   # SIGWINCH reaches crowd term, as a terminal emulator would send it
    _wait_for_recorded_resize(announce, 30, 100)   # a person types after the window changed size
    prog.send("\r")
    prog.expect("size 100 30")
    prog.wait_exit()
    events = events_of(announce)
    resizes = [e for e in events if e["kind"] == "terminal_resize"]
    assert resizes and (resizes[-1]["rows"], resizes[-1]["cols"]) == (30, 100)
    last = [e for e in events if e["kind"] == "terminal_screen"][-1]
    assert (last["rows"], last["cols"], len(last["lines"])) == (30, 100, 30)


@pytest.mark.parametrize("missing", ["/nonexistent/program"])
def test_program_that_cannot_start_reports_and_records(tmp_path: Path, missing: str) -> None:
    prog, announce = crowd_term(tmp_path, missing)
    prog.expect("cannot run")
    assert prog.wait_exit() == 127
    assert any(e["kind"] == "terminal_close" and e["exit_code"] == 127 for e in events_of(announce))


def test_standalone_recording_is_redacted_like_the_sidecar(tmp_path: Path) -> None:
    token = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"      # built at runtime: no secret in the source
    script = tmp_path / "leak.py"
    script.write_text("import sys\nprint('token is', sys.argv[1])\nsys.stdin.readline()\n")
    prog, announce = crowd_term(tmp_path, sys.executable, str(script), token)
    prog.expect("token is")
    prog.type("x\r")
    assert prog.wait_exit() == 0
    events = events_of(announce)
    assert token not in repr(events)
    assert any("[REDACTED:github_token]" in "\n".join(e["lines"]) for e in events if e["kind"] == "terminal_screen")
    assert any(e["type"] == "redaction" and e["what"] == "github_token" for e in events)


def test_terminal_keeps_working_when_the_capture_process_dies(tmp_path: Path) -> None:
    import psutil

    script = tmp_path / "echo.py"
    script.write_text("import sys\nfor line in sys.stdin:\n    print('got', line.strip(), flush=True)\n")
    prog, _announce = crowd_term(tmp_path, sys.executable, str(script))
    prog.type("one\r")
    prog.expect("got one")
    captures = [p for p in psutil.Process(prog.pid).children(recursive=True)
                if "crowd.terminal.capture" in " ".join(p.cmdline())]
    assert len(captures) == 1
    captures[0].kill()      # a zombie until crowd term reaps it at exit; its pipe is closed now
    for word in ("two", "three"):
        at = prog.mark()
        prog.type(word + "\r")
        prog.expect(f"got {word}", since=at)
    prog.send("\x04")
    assert prog.wait_exit() == 0
    assert b"recording is incomplete" in prog.output
