"""Fidelity oracle, more programs (issue 15): a shell resized at its prompt, htop and nano
resized, emacs -nw, man, mc, tig, w3m and a stream of modern sequences, run in real PTYs;
their bytes fed to tmux 3.3a and to our model. Every screen (text, cursor, title) at every
chunk boundary the PTY delivered must be the same, and again with the bytes between resizes
as one burst (the fast path)."""
from __future__ import annotations

import shutil

import pytest

from tests.terminal.term_corpus import PROGRAMS
from tests.terminal.term_oracle import compare_with_tmux

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux (installed by scripts/setup.sh) is the reference terminal")


def _bursts(chunks: list) -> list:
    """All bytes between resizes as one chunk each (the resize markers stay)."""
    out: list = []
    for chunk in chunks:
        if isinstance(chunk, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += chunk
        else:
            out.append(chunk)
    return out


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_screens_identical_to_tmux(name: str, tmp_path) -> None:
    program, scenario = PROGRAMS[name]
    if shutil.which(program) is None:
        pytest.skip(f"{program} is not installed (scripts/setup.sh installs it)")
    run = scenario(tmp_path)
    assert run.chunks, "the program produced no output"
    result = compare_with_tmux(run.chunks, run.rows, run.cols)
    assert result.points >= 1
    assert not result.mismatches, f"{name}: {len(result.mismatches)}/{result.points} screens differ:\n" + \
        "\n".join(result.mismatches[:3])
    burst = compare_with_tmux(_bursts(run.chunks), run.rows, run.cols)
    assert not burst.mismatches, burst.mismatches[:1]
