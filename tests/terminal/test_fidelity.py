"""Fidelity oracle: real programs in real PTYs; their bytes fed to tmux and to our model.

At every chunk boundary the PTY delivered (a superset of the 10 Hz sample points) the text
screens and cursors must be identical. Both the exact path and the fast path are checked.
"""
from __future__ import annotations

import shutil
import sys

import pytest

from tests.terminal.term_corpus import SCENARIOS
from tests.terminal.term_oracle import compare_with_tmux

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux (installed by scripts/setup.sh) is the reference terminal")

NEEDS = {"vim_edit": "vim", "vim_resized": "vim", "less_pager": "less", "less_resized": "less", "top_refresh": "top"}


def _bursts(chunks: list) -> list:
    """All bytes between resizes as one chunk each (the resize markers stay)."""
    out: list = []
    for chunk in chunks:
        if isinstance(chunk, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += chunk
        else:
            out.append(chunk)
    return out


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_screens_identical_to_tmux(name: str, tmp_path) -> None:
    program = NEEDS.get(name)
    if program and shutil.which(program) is None:
        pytest.skip(f"{program} is not installed (scripts/setup.sh installs it)")
    run = SCENARIOS[name](tmp_path)
    assert run.chunks, "the program produced no output"
    result = compare_with_tmux(run.chunks, run.rows, run.cols)
    assert result.points >= 1
    assert not result.mismatches, f"{name}: {len(result.mismatches)}/{result.points} sampled screens differ:\n" + \
        "\n".join(result.mismatches[:3])
    # The same bytes as one burst (per size): the fast path must land on tmux's screen too.
    burst = compare_with_tmux(_bursts(run.chunks), run.rows, run.cols)
    assert not burst.mismatches, burst.mismatches[:1]


LIVE = r"""
import sys, time
w = sys.stdout.write
for i in range(25):
    w(f'\r\x1b[32mstep {i:2d}\x1b[0m [' + '#' * i + ' ' * (24 - i) + ']')
    sys.stdout.flush(); time.sleep(0.02)
w('\r\n')
for i in range(60):
    w(f'log line {i} \x1b[1mbold\x1b[0m \u65e5\u672c {"x" * (i % 50)}\r\n')
    if i % 7 == 0:
        sys.stdout.flush(); time.sleep(0.03)
w('\x1b[?1049h\x1b[H\x1b[2J')
for i in range(15):
    w(f'\x1b[{i % 20 + 1};{i * 3 % 60 + 1}H\x1b[7mcell {i}\x1b[0m')
    sys.stdout.flush(); time.sleep(0.03)
w('\x1b[?1049lback on the main screen\r\n')
sys.stdout.flush()
"""


def test_recorded_screens_match_tmux_at_their_sampled_byte_offsets(tmp_path) -> None:
    """End to end through `crowd term` and the real 10 Hz sampler: every recorded screen
    equals tmux's screen after the same output bytes (``output_bytes`` of the screen)."""
    from tests.terminal.standalone import crowd_term, events_of

    from crowd.terminal.model import TerminalModel
    from tests.terminal.term_oracle import TmuxPane, safe_boundary

    script = tmp_path / "live.py"
    script.write_text(LIVE)
    prog, announce = crowd_term(tmp_path, sys.executable, str(script))
    assert prog.wait_exit() == 0
    output = prog.output                      # exactly the bytes crowd term passed through
    screens = [e for e in events_of(announce) if e["kind"] == "terminal_screen"]
    assert screens[-1]["output_bytes"] == len(output)
    assert len(screens) >= 5, "the program ran long enough for several samples"
    pane = TmuxPane(24, 80)
    probe = TerminalModel(24, 80, fast=False)
    compared, fed = 0, 0
    try:
        for screen in sorted(screens, key=lambda s: s["output_bytes"]):
            end = screen["output_bytes"]
            pane.write(output[fed:end])
            probe.feed(output[fed:end])
            probe.catch_up()
            fed = end
            if not safe_boundary(probe):
                continue                      # mid-sequence: tmux cannot be synced there
            pane.sync()
            lines, _cursor = pane.screen()
            assert [x.rstrip() for x in screen["lines"]] == [x.rstrip() for x in lines], \
                f"screen at byte {end} differs from tmux"
            compared += 1
    finally:
        pane.close()
    assert compared >= len(screens) - 2
