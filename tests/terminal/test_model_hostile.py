"""The terminal model under hostile output: no byte string makes it raise, and no byte costs
more than a bounded amount of work.

A program's output is outside input: a malformed CSI used to raise inside pyte (losing the
rest of the batch, and in ``crowd term`` printing a traceback over the user's program), and a
huge count (``CSI 999999999 I``) cost minutes of CPU per MB. These tests feed the listed
sequences, then random bytes and mutated real sequences (hypothesis), through both the fast
path and exact emulation.
"""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crowd.terminal.hub import TerminalHub
from crowd.terminal.model import TerminalModel

# Each of these raised inside the emulator before (issue 13, item 8), or was one of the
# shapes next to them (extra parameters on every counted CSI, bad modes, private erase).
MALFORMED = [b"\x1b[4J", b"\x1b[3K", b"\x1b[1;2A", b"\x1b[?1;2K", b"\x1b[?6h\x1b[5d", b"\x1b[?5J",
             b"\x1b[" + b"9" * 5000 + b"A", b"\x1b[?" + b"7" * 5000 + b"h", b"\x1b[1;" + b"4" * 4400 + b"m",
             b"\x1b[1;2;3H", b"\x1b[1;2;3r", b"\x1b[1;2S", b"\x1b[1;2T", b"\x1b[1;2b", b"\x1b[1;2I",
             b"\x1b[1;2Z", b"\x1b[1;2g", b"\x1b[5g", b"\x1b[1;2X", b"\x1b[1;2@", b"\x1b[1;2P",
             b"\x1b[1;2L", b"\x1b[1;2M", b"\x1b[1;2G", b"\x1b[1;2d", b"\x1b[1;2`", b"\x1b[1;2e",
             b"\x1b[?6h\x1b[99;99r\x1b[5d", b"\x1b[?6h\x1b[5;3r\x1b[9d"]


def _feed(model: TerminalModel, data: bytes) -> dict:
    model.feed(data)
    model.catch_up()
    return model.snapshot()


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("seq", MALFORMED, ids=lambda s: repr(s[:16]))
def test_malformed_csi_never_raises_and_keeps_the_rest_of_the_batch(seq: bytes, fast: bool) -> None:
    model = TerminalModel(6, 20, fast=fast)
    snap = _feed(model, b"before\r\n" + seq + b"AFTER")
    assert any("AFTER" in line for line in snap["lines"]), snap["lines"]


def test_malformed_csi_does_what_tmux_does() -> None:
    """Extra parameters are ignored, undefined erase modes do nothing, VPA in origin mode
    without a region counts from the top (all checked against tmux 3.3a by hand)."""
    base = b"abcdefghij\r\nklmnopqrst\r\nuvwxyz\r\n0123456789\r\nAB"
    up = _feed(TerminalModel(6, 20), base + b"\x1b[1;2AZ")
    assert up["lines"][3].startswith("01Z3") and up["cursor"] == [3, 3]
    for noop in (b"\x1b[4J", b"\x1b[3K", b"\x1b[?5J"):
        snap = _feed(TerminalModel(6, 20), base + noop + b"Z")
        assert snap["lines"][:5] == ["abcdefghij".ljust(20), "klmnopqrst".ljust(20), "uvwxyz".ljust(20),
                                     "0123456789".ljust(20), "ABZ".ljust(20)]
    origin = _feed(TerminalModel(6, 20), base + b"\x1b[?6h\x1b[5dZ")
    assert origin["lines"][4].startswith("ZB") and origin["cursor"] == [4, 1]
    rep = _feed(TerminalModel(6, 20), base + b"\x1b[200bZ")
    assert rep["lines"][4] == "A" + "B" * 19 and rep["lines"][5].startswith("Z")


# CPU per byte: plain text costs well under 1 us per byte; these cost up to milliseconds per
# byte before (a count of 9999 tab stops per 7 bytes). Generous: a loaded CI machine passes.
PER_BYTE_BUDGET_S = 100e-6
HEAVY = [b"\x1b[999999999I", b"\x1b[999999999b", b"\x1b[999999999Z", b"\x1b[9999S", b"\x1b[9999T",
         b"\x1b[2J", b"\x1b[H\x1b[2J", b"\x1b#8", b"\x1b[44m\x1b[2J", b"\x1b[9999L", b"\x1b[9999@"]


@pytest.mark.parametrize("rows,cols", [(24, 80), (60, 200)])
def test_huge_counts_cost_bounded_time_per_byte(rows: int, cols: int) -> None:
    total_bytes = 0
    start = time.process_time()
    for seq in HEAVY:
        model = TerminalModel(rows, cols)
        data = b"x" + seq * (32_768 // len(seq))
        model.feed(data)
        model.catch_up()
        total_bytes += len(data)
    elapsed = time.process_time() - start
    assert elapsed / total_bytes < PER_BYTE_BUDGET_S, f"{elapsed:.1f} s for {total_bytes} bytes"


# -- fuzz -------------------------------------------------------------------------------------
_FINALS = "@ABCDEFGHIJKLMPSTXZ`abdefghlmnrsu"
_PARAM = st.one_of(st.integers(0, 10**12).map(str), st.just(""),
                   st.sampled_from(["9" * 4301, "0" * 5000 + "1", "99999", "1049", "6", "3", "5"]))
_CSI = st.builds(
    lambda prefix, params, inter, final: ("\x1b[" + prefix + ";".join(params) + inter + final).encode(),
    st.sampled_from(["", "", "?", ">", "=", "<"]), st.lists(_PARAM, max_size=5),
    st.sampled_from(["", "", "", " ", "$"]),
    st.one_of(st.sampled_from(_FINALS), st.characters(min_codepoint=0x40, max_codepoint=0x7e)))
_REAL = st.sampled_from([b"hello ", b"\r\n", b"\n", b"\t", b"\x08", b"\x1b7", b"\x1b8", b"\x1bc",
                         b"\x1bM", b"\x1bD", b"\x1bE", b"\x1bH", b"\x1b#8", b"\x1b(0lqk\x1b(B",
                         b"\x0e", b"\x0f", "日本".encode(), "e\u0301\ufe0f\u200d".encode(),
                         b"\x1b]0;t\x07", b"\x1b]133;A\x07", b"\x1b]633;E;ls;x\x07",
                         b"\x1bPq#0\x1b\\", b"\x1b[?1049h", b"\x1b[?1049l", b"\x1b[?6h",
                         b"\x1b[3;5r", b"\x1b[r", b"x" * 90])
_PIECE = st.one_of(_CSI, _REAL, st.binary(max_size=40),
                   st.builds(lambda c: b"\x1b" + bytes([c]), st.integers(0, 255)))
_STREAM = st.one_of(st.binary(max_size=3000),
                    st.lists(_PIECE, max_size=60).map(b"".join))


def test_fuzz_no_exception_and_bounded_time_per_byte() -> None:
    totals = {"bytes": 0, "seconds": 0.0}

    @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.data_too_large])
    @given(data=_STREAM, rows=st.integers(1, 40), cols=st.integers(1, 132), fast=st.booleans(),
           cuts=st.lists(st.integers(0, 4000), max_size=6))
    def one(data: bytes, rows: int, cols: int, fast: bool, cuts: list[int]) -> None:
        model = TerminalModel(rows, cols, fast=fast)
        start = time.process_time()
        prev = 0
        for cut in sorted(c for c in cuts if c < len(data)) + [len(data)]:
            model.feed(data[prev:cut])
            prev = cut
            model.catch_up()
        snap = model.snapshot()
        totals["seconds"] += time.process_time() - start
        totals["bytes"] += len(data) + 1
        assert len(snap["lines"]) == rows
        assert 0 <= snap["cursor"][0] < rows and 0 <= snap["cursor"][1] <= cols

    one()
    assert totals["seconds"] / totals["bytes"] < PER_BYTE_BUDGET_S, totals


# Shell-integration marks are program output too: the hub's command tracker parses them
# inside the model's catch-up (an exit status of 5,000 digits, a Unicode digit or a
# malformed file:// URL raised there before).
_MARK_ARG = st.one_of(st.sampled_from(["Cwd=/x", "-", "--3", "\u00b2", "9" * 5000, "file://[x/",
                                        "file:///tmp/%zz", "\\x4", "0"]), st.text(max_size=12))
_MARK = st.builds(
    lambda code, kind, args: ("\x1b]" + code + ";" + ";".join([kind, *args]) + "\x07").encode(),
    st.sampled_from(["133", "633", "7"]), st.sampled_from(["A", "B", "C", "D", "E", "P", "file://[x/"]),
    st.lists(_MARK_ARG, max_size=3))
_KNOWN_BAD_MARKS = [b"\x1b]133;C\x07\x1b]133;D;" + b"9" * 5000 + b"\x07",
                    "\x1b]133;D;\u00b2\x07".encode(), b"\x1b]7;file://[x/\x07", b"\x1b]633;D;--3\x07"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(pieces=st.lists(st.one_of(_MARK, _PIECE), max_size=30))
@example(pieces=_KNOWN_BAD_MARKS)
def test_fuzz_shell_marks_through_the_hub_never_raise(pieces: list[bytes]) -> None:
    recorded: list[tuple] = []
    hub = TerminalHub(lambda *a, **k: recorded.append(a) or {})
    hub.open("t", "fuzz", 8, 40)
    hub.output("t", b"".join(pieces))
    hub.sample()
    hub.close("t", 0)
    assert recorded[0] == ("action", "terminal_open")
