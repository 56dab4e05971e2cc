"""``crowd term`` whose program prints malformed control sequences right before it exits: the
user's terminal shows no traceback and the recording ends properly (final screen, close,
stop). Before, the emulator raised on them inside the capture process, printing over the
user's program and leaving a recording with no stop."""
from __future__ import annotations

from pathlib import Path

from tests.terminal.standalone import crowd_term, events_of

# printf's octal escapes: ESC[4J ESC[3K ESC[1;2A ESC[?1;2K ESC[?6h ESC[5d, a 5,000-digit
# parameter, a huge tab count, then the last words.
BAD = r"\033[4J\033[3K\033[1;2A\033[?1;2K\033[?6h\033[5d\033[999999999I\033[999999999b"


def test_malformed_output_before_exit_leaves_a_whole_recording(tmp_path: Path) -> None:
    script = f"printf 'first\\n'; printf '{BAD}'; printf '\\033[%s5A' $(printf '9%.0s' $(seq 5000)); echo last-words"
    prog, announce = crowd_term(tmp_path, "bash", "-c", script, rows=12, cols=60)
    try:
        prog.expect("last-words")
        assert prog.wait_exit() == 0
    finally:
        if not prog.exited:
            prog.kill()
    assert b"Traceback" not in prog.output
    events = events_of(announce)
    kinds = [e["kind"] for e in events]
    assert kinds[-1] == "stop" and "terminal_close" in kinds
    screens = [e for e in events if e["kind"] == "terminal_screen"]
    assert any("last-words" in "\n".join(s["lines"]) for s in screens)
