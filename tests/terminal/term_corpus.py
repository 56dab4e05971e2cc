"""The fidelity corpus: real programs driven in real PTYs, waiting on their output.

Each scenario returns the finished ``PtyProgram`` (its ``chunks`` are the captured bytes).
Waits are on output patterns, never on fixed sleeps.
"""
from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.terminal.term_oracle import PtyProgram

PROMPT = r"crowd\$ "
BASH_ENV = {"PS1": "\\[\\e[1;32m\\]\\u\\[\\e[0m\\]:\\[\\e[34m\\]\\w\\[\\e[0m\\] crowd$ ",
            "HISTFILE": "/dev/null", "INPUTRC": "/dev/null"}


def _bash(rows: int = 24, cols: int = 80, cwd: str | None = None) -> PtyProgram:
    p = PtyProgram(["bash", "--norc", "--noprofile", "-i"], rows, cols, env=BASH_ENV, cwd=cwd)
    p.expect(PROMPT)
    return p


def _python(tmp: Path, name: str, source: str, **kwargs: Any) -> PtyProgram:
    """``source`` written to ``tmp/name`` and run by this Python in a PTY."""
    script = tmp / name
    script.write_text(source)
    return PtyProgram([sys.executable, str(script)], **kwargs)


def _run(p: PtyProgram, line: str, wait_for: str | None = None) -> None:
    at = p.mark()
    p.type(line)
    p.send("\r")
    p.expect(wait_for or PROMPT, since=at + len(line))


def bash_colours(tmp: Path) -> PtyProgram:
    (tmp / "dir").mkdir(exist_ok=True)
    for name in ("a.py", "b.txt", "run.sh"):
        (tmp / "dir" / name).write_text("x\n")
    (tmp / "dir" / "run.sh").chmod(0o755)
    p = _bash(cwd=str(tmp))
    _run(p, "ls --color=always -la dir")
    _run(p, "printf '\\e[31mred\\e[0m \\e[1;4mbold-under\\e[0m \\e[38;5;208morange\\e[0m \\e[48;2;10;20;30mtrue\\e[0m\\n'")
    _run(p, "for i in $(seq 1 40); do echo line $i; done")
    _run(p, "echo done; exit", wait_for="exit")
    p.wait_exit()
    return p


def vim_edit(tmp: Path) -> PtyProgram:
    f = tmp / "notes.txt"
    f.write_text("".join(f"line {i} of the original file\n" for i in range(1, 60)))
    p = PtyProgram(["vim", "-u", "NONE", "-i", "NONE", "-N", "-n", str(f)])
    p.expect("notes.txt")
    p.drain(0.3)
    p.type(":set number\r")
    p.expect(r"\b10 ")
    p.type("5G")
    p.type("ohello from crowd\x1b")
    p.drain(0.3)        # vim may echo the typed text in pieces: no contiguous bytes to wait for
    p.type("G")
    p.expect("59")
    p.type("ggdd")
    p.type("/original\r")
    p.type(":wq\r")
    p.wait_exit()
    return p


def less_pager(tmp: Path) -> PtyProgram:
    f = tmp / "long.txt"
    f.write_text("".join(f"{i:04d} the quick brown fox jumps over the lazy dog\n" for i in range(400)))
    p = PtyProgram(["less", str(f)], env={"LESS": "", "LESSHISTFILE": "-"})
    p.expect("0020")
    at = p.mark()
    p.send(" ")
    p.expect("0045", since=at)
    for key, seen in (("j", "0046"), ("b", "0010"), ("/0300\r", "0300"), ("G", "0399"), ("g", "0000")):
        at = p.mark()
        p.send(key)
        p.expect(seen, since=at)
    p.send("q")
    p.wait_exit()
    return p


def top_refresh(tmp: Path) -> PtyProgram:
    p = PtyProgram(["top", "-d", "0.3"], env={"HOME": str(tmp)})
    p.expect("Tasks:")
    at = p.mark()
    p.expect("Tasks:", since=at)          # a second refresh
    at = p.mark()
    p.expect("Tasks:", since=at)
    p.send("q")
    p.wait_exit()
    return p


def python_repl(tmp: Path) -> PtyProgram:
    p = PtyProgram([sys.executable, "-q"], env={"PYTHONSTARTUP": "", "HOME": str(tmp)})
    p.expect(">>> ")
    for line, seen in (("1 + 1", "2"), ("print('x' * 130)", "xxxx\r\n>>> "),
                       ("for i in range(3):", "... "), ("    print('item', i)", "... "), ("", "item 2"),
                       ("'日本語' * 3", "語'")):
        at = p.mark()
        p.type(line)
        p.send("\r")
        p.expect(seen, since=at)
    p.type("exit()\r")
    p.wait_exit()
    return p


PROGRESS = ("import sys\n"
            "for i in range(0, 101, 4):\n"
            "    bar = '#' * (i // 5) + ' ' * (20 - i // 5)\n"
            "    sys.stdout.write(f'\\rdownloading [{bar}] {i:3d}%')\n"
            "    sys.stdout.flush()\n"
            "    sys.stdin.readline()\n"
            "print('\\ndone')\n")


def progress_bar(tmp: Path) -> PtyProgram:
    p = _python(tmp, "progress.py", PROGRESS)
    for i in range(0, 101, 4):
        p.expect(f"{i:3d}%")
        p.send("\r")
    p.expect("done")
    p.wait_exit()
    return p


ALT_TUI = r"""
import sys, shutil
w = sys.stdout.write
w('before the TUI\r\n')
w('\x1b[?1049h\x1b[H\x1b[2J')
rows, cols = shutil.get_terminal_size()
w('\x1b[1;1H\x1b[7m' + ' menu '.ljust(cols) + '\x1b[0m')
w('\x1b[3;5r')
for i in range(8):
    w(f'\x1b[5;1Hscrolling {i}\n')
w('\x1b[r\x1b7\x1b[10;10Hsaved-and-back\x1b8X')
w('\x1b[12;1H\x1b[2Kselected: \x1b[1mitem 3\x1b[0m')
w('\x1b[14;1H' + 'box' + '\x1b[3@' + '\x1b[2P' + '\x1b[5X')
w('\x1b[16;1Hrepeat:x\x1b[5b')
w('\x1b[18;1Hscroll-region\x1b[17;20r\x1b[2S\x1b[1T\x1b[r')
sys.stdout.flush()
sys.stdin.readline()
w('\x1b[?1049lafter the TUI\r\n')
sys.stdout.flush()
"""


def alt_screen_tui(tmp: Path) -> PtyProgram:
    p = _python(tmp, "tui.py", ALT_TUI)
    p.expect("scroll-region")
    p.send("\r")
    p.expect("after the TUI")
    p.wait_exit()
    return p


CURSES = r"""
import curses, sys
def main(stdscr):
    curses.start_color()
    curses.init_pair(1, curses.COLOR_YELLOW, curses.COLOR_BLUE)
    stdscr.box()
    stdscr.addstr(1, 2, "crowd curses demo", curses.A_BOLD)
    win = curses.newwin(6, 30, 4, 10)
    win.box()
    win.addstr(2, 2, "inner window", curses.color_pair(1))
    stdscr.refresh(); win.refresh()
    for i in range(5):
        stdscr.getch()
        stdscr.addstr(12 + i, 4, f"key {i} pressed " + "=" * (i * 3))
        stdscr.refresh()
    stdscr.getch()
curses.wrapper(main)
print("curses finished")
"""


def curses_program(tmp: Path, lang: str = "C.UTF-8") -> PtyProgram:
    p = _python(tmp, "cur.py", CURSES, env={"LANG": lang, "LC_ALL": lang})
    p.expect("inner window")
    for i in range(5):
        at = p.mark()
        p.send("k")
        p.expect(f"key {i} pressed", since=at)
    p.send("q")
    p.expect("curses finished")
    p.wait_exit()
    return p


def curses_ascii_charset(tmp: Path) -> PtyProgram:
    """ncurses in the C locale draws boxes with the DEC line-drawing charset (ESC ( 0)."""
    return curses_program(tmp, lang="C")


WIDE = ("import sys\n"
        "w = sys.stdout.write\n"
        "w('CJK: 日本語のテキスト 中文 한국어\\r\\n')\n"
        "w('combining: e\\u0301 a\\u0308 n\\u0303 z\\u0327\\u0301\\r\\n')\n"
        "w('x' * 79 + '日' + 'after wrap\\r\\n')\n"
        "w('overwrite: 日本\\x1b[12G' + 'ab\\r\\n')\n"
        "w('tabs:\\ta\\tb\\r\\n')\n"
        "w('width-80 line ' + '語' * 33 + '\\r\\n')\n"
        "w('emoji: \\U0001F44D ok \\u2764\\ufe0f vs16 \\U0001F1FA\\U0001F1F8 flag "
        "\\U0001F469\\u200d\\U0001F4BB zwj \\u2714 \\u26a1 \\u2192 \\u00b1\\r\\n')\n"
        "sys.stdout.flush()\n")


def wide_combining(tmp: Path) -> PtyProgram:
    p = _python(tmp, "wide.py", WIDE)
    p.wait_exit()
    return p


def resize_shell(tmp: Path) -> PtyProgram:
    """Output at two widths (the oracle pane is not resized: only the first part is used)."""
    return bash_colours(tmp)


def vim_resized(tmp: Path) -> PtyProgram:
    """vim redraws on SIGWINCH: narrower and shorter, then wider and taller."""
    f = tmp / "wide.txt"
    f.write_text("".join(f"{i:03d} " + "abcdefghij" * 9 + "\n" for i in range(80)))
    p = PtyProgram(["vim", "-u", "NONE", "-i", "NONE", "-N", "-n", str(f)])
    p.expect("wide.txt")
    p.drain(0.3)
    for rows, cols in ((20, 60), (30, 100)):
        at = p.mark()
        p.resize(rows, cols)
        first = len(p.chunks)
        p.expect("0", since=at)      # vim redraws the buffer at the new size
        p.drain(0.3)
        # Between a resize and the program's redraw, tmux shows its reflow of the old
        # screen (we do not reflow): compare once the redraw is complete.
        p.merge_since(first)
    p.type("G")
    p.drain(0.3)
    # Not quitting: after a resize, tmux 3.3a's main screen on leaving the alternate screen
    # holds lines vim drew there (tmux keeps vim's old 1;24 scroll region across the resize);
    # xterm, VS Code's xterm.js and our model restore the main screen. See docs/terminal.md.
    p.kill()
    return p


def less_resized(tmp: Path) -> PtyProgram:
    f = tmp / "long.txt"
    f.write_text("".join(f"{i:04d} " + "the quick brown fox " * 6 + "\n" for i in range(300)))
    p = PtyProgram(["less", "-S", str(f)], env={"LESS": "", "LESSHISTFILE": "-"})
    p.expect("0020")
    at = p.mark()
    p.resize(15, 50)
    first = len(p.chunks)
    p.expect("000", since=at)     # less redraws the page at the new size
    p.drain(0.3)
    p.merge_since(first)          # compared once the redraw is complete (see vim_resized)
    at = p.mark()
    p.send(" ")
    p.expect("00", since=at)
    p.drain(0.3)
    p.send("q")
    p.wait_exit()
    return p


SCENARIOS: dict[str, Callable[[Path], PtyProgram]] = {
    "vim_resized": vim_resized,
    "less_resized": less_resized,
    "bash_colours": bash_colours,
    "vim_edit": vim_edit,
    "less_pager": less_pager,
    "top_refresh": top_refresh,
    "python_repl": python_repl,
    "progress_bar": progress_bar,
    "alt_screen_tui": alt_screen_tui,
    "curses_utf8": curses_program,
    "curses_dec_charset": curses_ascii_charset,
    "wide_combining": wide_combining,
}


def have(program: str) -> bool:
    return shutil.which(program) is not None


# -- more programs (issue 15): each screen of these must match tmux 3.3a -----------------------
# A resize is compared at every chunk, also between the SIGWINCH and the program's redraw:
# the emulator resizes as tmux does, so no point needs to be skipped.

def shell_resized(tmp: Path) -> PtyProgram:
    """bash at its prompt with wrapped and scrolled output: wider, narrower, shorter."""
    p = _bash(cwd=str(tmp))
    _run(p, "for i in $(seq 1 30); do echo \"line $i $(printf 'x%.0s' $(seq 1 $((i * 3))))\"; done")
    for rows, cols in ((24, 100), (24, 50), (14, 50)):
        p.resize(rows, cols)
        p.expect(PROMPT + "$", since=p.mark())      # readline redraws its line
        _run(p, "echo size $(tput lines)x$(tput cols)")
    p.send("exit\r")
    p.wait_exit()
    return p


def htop_resized(tmp: Path) -> PtyProgram:
    p = PtyProgram(["htop", "-d", "100", "--no-mouse"], env={"HOME": str(tmp)})
    p.expect("Load average")
    p.drain(0.3)
    for rows, cols in ((20, 70), (30, 110)):
        p.resize(rows, cols)
        p.expect("Load average", since=p.mark())    # htop redraws at the new size
        p.drain(0.3)
    p.kill()      # not quitting after a resize: see vim_resized
    return p


def nano_resized(tmp: Path) -> PtyProgram:
    f = tmp / "poem.txt"
    f.write_text("".join(f"{i:02d} roses are red, violets are blue, " * 2 + "\n" for i in range(40)))
    p = PtyProgram(["nano", "--ignorercfiles", str(f)], env={"HOME": str(tmp)})
    p.expect("poem.txt")
    p.drain(0.3)
    p.type("hello from crowd")
    p.drain(0.3)
    for rows, cols in ((16, 60), (28, 100)):
        p.resize(rows, cols)
        p.expect("poem.txt", since=p.mark())
        p.drain(0.3)
    p.kill()
    return p


def emacs_nw(tmp: Path) -> PtyProgram:
    f = tmp / "notes.txt"         # text mode: org mode takes seconds to load
    f.write_text("".join(f"heading {i}\nsome text under heading {i}\n" for i in range(30)))
    p = PtyProgram(["emacs", "-nw", "-Q", str(f)], env={"HOME": str(tmp)})
    p.expect("notes.txt")
    p.drain(0.5)
    p.send("\x1b>")                      # M-> end of buffer
    p.drain(0.3)
    p.type("new line typed in emacs")
    p.drain(0.3)
    p.send("\x18\x13")                   # C-x C-s
    p.expect("Wrote")
    p.send("\x18\x03")                   # C-x C-c
    p.wait_exit()
    return p


def man_page(tmp: Path) -> PtyProgram:
    p = PtyProgram(["man", "ls"], env={"MANPAGER": "less", "PAGER": "less", "LESS": "",
                                       "LESSHISTFILE": "-", "MANWIDTH": "", "HOME": str(tmp)})
    p.expect("NAME")
    p.drain(0.3)
    for key, seen in ((" ", "-"), ("/sort\r", "sort"), ("G", "END"), ("g", "NAME")):
        at = p.mark()
        p.send(key)
        p.expect(seen, since=at)
        p.drain(0.2)
    p.send("q")
    p.wait_exit()
    return p


def midnight_commander(tmp: Path) -> PtyProgram:
    for name in ("alpha.txt", "beta.py", "gamma"):
        (tmp / name).write_text("x\n")
    (tmp / "sub").mkdir(exist_ok=True)
    p = PtyProgram(["mc", "--nosubshell", "--nomouse", str(tmp), str(tmp / "sub")],
                   env={"HOME": str(tmp), "SHELL": "/bin/bash", "MC_SKIN": "default"}, cwd=str(tmp))
    p.expect("alpha.txt")
    p.drain(0.5)
    for key in ("\x1bOB", "\x1bOB", "\t", "\t"):     # down (keypad mode), down, other panel, back
        p.send(key)
        p.drain(0.2)
    p.send("\x1b[21~")                                # F10 quits
    p.wait_exit()
    return p


def tig_log(tmp: Path) -> PtyProgram:
    import subprocess  # noqa: PLC0415

    repo = tmp / "repo"
    repo.mkdir(exist_ok=True)
    git = ["git", "-C", str(repo), "-c", "user.name=Crowd", "-c", "user.email=c@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    for i in range(6):
        (repo / f"f{i}.txt").write_text(f"file {i}\n" * (i + 1))
        subprocess.run([*git, "add", "."], check=True)
        subprocess.run([*git, "commit", "-q", "-m", f"commit number {i}",
                        "--date", f"2024-01-0{i + 1}T10:00:00"], check=True,
                       env={"GIT_COMMITTER_DATE": f"2024-01-0{i + 1}T10:00:00", "PATH": "/usr/bin:/bin"})
    p = PtyProgram(["tig"], env={"HOME": str(tmp), "GIT_CONFIG_NOSYSTEM": "1"}, cwd=str(repo))
    p.expect("commit number 5")
    p.drain(0.3)
    for key, seen in (("j", None), ("\r", "f4.txt"), ("q", None), ("q", None)):
        at = p.mark()
        p.send(key)
        if seen:
            p.expect(seen, since=at)
        p.drain(0.3)
    p.wait_exit()
    return p


W3M_PAGE = """<html><head><title>crowd page</title></head><body>
<h1>Heading of the page</h1><p>A paragraph with <a href="#x">a link</a> and <b>bold</b> text.</p>
<ul>""" + "".join(f"<li>item {i}: the quick brown fox jumps over the lazy dog</li>" for i in range(60)) + """</ul>
<table border=1><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>
<p id="x">The end.</p></body></html>
"""


def w3m_page(tmp: Path) -> PtyProgram:
    f = tmp / "page.html"
    f.write_text(W3M_PAGE)
    p = PtyProgram(["w3m", "-no-mouse", str(f)], env={"HOME": str(tmp)})
    p.expect("Heading")
    p.drain(0.3)
    for key in (" ", " ", "b", "\t", "\r"):
        p.send(key)
        p.drain(0.3)
    p.send("Q")
    p.wait_exit()
    return p


MODERN = r"""
import sys
w = sys.stdout.write
w('\x1b[38;2;255;100;0mtruecolor fg\x1b[0m \x1b[48;2;0;40;80mtruecolor bg\x1b[0m\r\n')
w('\x1b[38:2::255:0:0mcolon truecolor\x1b[0m \x1b[38:5:208mcolon 256\x1b[0m \x1b[4:3mcurly\x1b[4:0m '
  '\x1b[58:2::0:255:0mline colour\x1b[59m\r\n')
w('\x1b]8;id=1;https://example.org/a\x1b\\a link\x1b]8;;\x1b\\ and \x1b]8;;file:///tmp/x\x07another\x1b]8;;\x07\r\n')
w('\x1b[?2004hbracketed paste on\x1b[?2004l off\r\n')
w('\x1b[?u\x1b[>1u\x1b[=5;1u\x1b[<u kitty keyboard queried/pushed/popped\r\n')
w('\x1b[?2026h\x1b[?2026$psync\x1b[?2026l \x1b[>0q\x1b[>q\x1b]10;?\x1b\\\x1b]11;?\x07\x1b[c\x1b[>c queries\r\n')
w('\x1b]52;c;' + 'aGVsbG8gY3Jvd2Q=' * 10 + '\x07osc52 \x1b]133;A\x07\x1b]633;P;Cwd=/tmp\x07marks\r\n')
w('\x1b[1;3;9;53mbold italic strike overline\x1b[0m \x1b[2;5;7mdim blink reverse\x1b[0m\r\n')
w('\x1b[5 q\x1b[2 q\x1b[?12h\x1b[?1004h\x1b[?1006h\x1b[?1000h\x1b[?1000l\x1b[?1006l\x1b[?1004l cursor style and modes\r\n')
w('\x1b]2;modern title\x07\x1b[22;0t\x1b]2;inner\x07\x1b[23;0ttitle restored\r\n')
w('emoji \U0001F600 wide \u4e2d\u6587 zwj \U0001F469\u200d\U0001F4BB flag \U0001F1EF\U0001F1F5\r\n')
w('\x1b]52;c;' + 'aGVsbG8gY3Jvd2Q=' * 5 + '\r\n' + 'aGVsbG8=' + '\x1b\\after a wrapped osc 52\r\n')
sys.stdout.flush()
"""


def modern_sequences(tmp: Path) -> PtyProgram:
    p = _python(tmp, "modern.py", MODERN)
    p.wait_exit()
    return p


PROGRAMS: dict[str, tuple[str, Callable[[Path], PtyProgram]]] = {
    "shell_resized": ("bash", shell_resized),
    "htop_resized": ("htop", htop_resized),
    "nano_resized": ("nano", nano_resized),
    "emacs_nw": ("emacs", emacs_nw),
    "man_page": ("man", man_page),
    "midnight_commander": ("mc", midnight_commander),
    "tig_log": ("tig", tig_log),
    "w3m_page": ("w3m", w3m_page),
    "modern_sequences": ("bash", modern_sequences),     # this Python; bash: always there
}
