"""Fidelity oracle: real programs in real PTYs; their bytes fed to tmux and to our model.

At every chunk boundary the PTY delivered (a superset of the 10 Hz sample points) the text
screens and cursors must be identical. Both the exact path and the fast path are checked.
"""
from __future__ import annotations

import shutil

import pytest

from term_corpus import SCENARIOS
from term_oracle import compare_with_tmux

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
