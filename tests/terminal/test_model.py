"""The terminal model: fast path == exact emulation; exact emulation == pyte where pyte is
right; the fixes over pyte (alternate screen, scroll, REP, wide/zero-width characters)."""
from __future__ import annotations

import random

import pyte
import pytest

from crowd.terminal.model import TerminalModel

PIECES = [b"hello world ", b"\r\n", b"\x1b[31m", b"\x1b[0m", b"\x1b[1;32m", b"\x1b[K", b"\x1b[5;10H",
          b"\x1b[2J", b"\x1b[3;20r", b"\x1b[r", b"\x1b7", b"\x1b8", b"\x1b[?1049h", b"\x1b[?1049l",
          b"\x1b]0;title\x07", "日本語".encode(), "e\u0301".encode(), b"\t", b"\x08",
          b"\x1b(0lqqk\x1b(B", b"\x1b[?7l", b"\x1b[?7h", b"x" * 100, b"\x1b[A", b"\x1b[3S", b"\x1bM",
          b"\x1b[4h", b"\x1b[4l", b"\x1b[?6h", b"\x1b[?6l", b"\x1b[2@", b"\x1b[3P", b"\n", b"\x1b[m",
          b"\x1b[38;5;100m", b"\x1b[?25l", b"\x1b[?25h", b"\x1b[H", b"\x1b[J", b"\x1b[2K", b"\x1b[3b",
          b"\x1bPq#0;2;0;0;0\x1b\\", b"\x1b[>4;2m", b"\x0e", b"\x0f", b"\x1b[s", b"\x1b[u", b"\x1bH",
          b"\x1b[3g", b"\x1b]133;A\x07"]


def _screen(model: TerminalModel) -> dict:
    snap = model.snapshot()
    return {k: snap[k] for k in ("lines", "cursor", "title", "alt_screen", "styles", "cursor_visible")}


def _random_stream(rng: random.Random, text_weight: float) -> bytes:
    weights = [30, 60] + [text_weight] * (len(PIECES) - 2)
    return b"".join(rng.choices(PIECES, weights=weights, k=rng.randint(200, 2500)))


@pytest.mark.parametrize("text_weight", [3.0, 0.2])
def test_fast_path_equals_exact_emulation_at_every_catch_up(text_weight: float) -> None:
    rng = random.Random(4 if text_weight > 1 else 5)
    skipped = 0
    for _trial in range(40):
        rows, cols = rng.choice([(5, 10), (24, 80), (10, 40)])
        data = _random_stream(rng, text_weight)
        exact = TerminalModel(rows, cols, fast=False)
        fast = TerminalModel(rows, cols)
        cuts = sorted(rng.sample(range(len(data)), rng.randint(0, 12)))
        prev = 0
        for cut in [*cuts, len(data)]:
            exact.feed(data[prev:cut])
            fast.feed(data[prev:cut])
            prev = cut
            exact.catch_up()
            fast.catch_up()
            assert _screen(fast) == _screen(exact)
        skipped += fast.stats.chars_skipped
    assert skipped > 0, "the fast path never skipped anything: the test proves nothing"


def test_firehose_skips_almost_everything_and_lands_exactly() -> None:
    data = b"".join(b"\x1b[0m\x1b[01;34mdir%d\x1b[0m  file-%d.txt\r\n" % (i, i) for i in range(200_000))
    fast = TerminalModel(24, 80)
    for i in range(0, len(data), 65536):
        fast.feed(data[i:i + 65536])
    fast.catch_up()
    exact = TerminalModel(24, 80, fast=False)
    exact.feed(data[-20_000:])          # the last 20 kB decide the screen (checked against fast)
    exact.catch_up()
    assert fast.snapshot()["lines"] == exact.snapshot()["lines"]
    assert fast.snapshot()["lines"][-2].startswith("dir199999")
    assert fast.stats.chars_emulated < len(data) / 100


# Not here, checked against tmux instead (test_tmux_conformance, random streams too): ?7l
# (pyte parks the cursor past the edge), IL/DL (pyte returns the cursor to column 0, and DL
# leaves a row in place when the row below was never written), a scroll region (pyte stops
# CUU/CUD and DECRC at its margins even from outside it).
WELL_BEHAVED = [b"plain text ", b"\r\n", b"\x1b[31m", b"\x1b[0m", b"\x1b[K", b"\x1b[5;10H", b"\x1b[2J",
                b"\x1b[2A", b"\x1b[3B", b"\x1b[4C", b"\x1b[2D", b"\x1bM", b"\x1b[4h",
                b"\x1b[4l", b"\x1b[2@", b"\x1b[3P", b"\x1b[2X", b"\x1b[1K",
                b"\x1b[2K", b"\x1b[J", b"\x1b[1J", b"\t", b"\x08", b"\x1b[7G",
                b"\x1b[4d", b"\x1b[1;4m", b"\x1b[38;5;21m", b"\x1b[48;2;1;2;3m"]


def test_exact_path_agrees_with_plain_pyte_on_sequences_pyte_handles_right() -> None:
    rng = random.Random(7)
    for _trial in range(100):
        data = b"".join(rng.choices(WELL_BEHAVED, k=rng.randint(50, 600)))
        ours = TerminalModel(12, 30, fast=False)
        ours.feed(data)
        ours.catch_up()
        screen = pyte.Screen(30, 12)
        pyte.ByteStream(screen).feed(data)
        assert ours.screen.text_lines() == screen.display
        assert ours.screen.cursor_pos() == (screen.cursor.y, screen.cursor.x)


def _model(data: bytes, rows: int = 6, cols: int = 20) -> TerminalModel:
    m = TerminalModel(rows, cols)
    m.feed(data)
    m.catch_up()
    return m


def test_alternate_screen_restores_main_buffer_and_cursor() -> None:
    m = _model(b"shell$ vim\r\n\x1b[?1049h\x1b[H\x1b[2Jeditor content\x1b[3;3H")
    assert m.snapshot()["alt_screen"] is True
    assert m.screen.text_lines()[0].startswith("editor content")
    m.feed(b"\x1b[?1049lback")
    m.catch_up()
    lines = m.screen.text_lines()
    assert lines[0].startswith("shell$ vim") and lines[1].startswith("back")
    assert not any("editor" in line for line in lines)
    assert m.snapshot()["alt_screen"] is False


def test_title_from_osc_and_split_escape_sequences_across_feeds() -> None:
    m = TerminalModel(4, 20)
    for piece in (b"ab\x1b", b"]0;my ti", b"tle\x07c\x1b[3", b"1mred\xe6\x97", b"\xa5"):
        m.feed(piece)
        m.catch_up()
    snap = m.snapshot()
    assert snap["title"] == "my title"
    assert snap["lines"][0].rstrip() == "abcred日"
    assert any(run[2].startswith("red/") for run in snap["styles"][0])


def test_zero_width_characters_do_not_swallow_text() -> None:
    m = _model("a\u2764\ufe0f b\u200dc e\u0301 end".encode())
    line = m.screen.text_lines()[0]
    assert "end" in line and "e\u0301" in line


def test_wide_character_at_last_column_wraps() -> None:
    m = _model(("x" * 19 + "日z").encode(), rows=3, cols=20)
    lines = m.screen.text_lines()
    assert lines[0] == "x" * 19 + " "
    assert lines[1].startswith("日z")


def test_resize_keeps_content_and_reports_new_size() -> None:
    m = _model(b"top line\r\nsecond\r\n", rows=6, cols=20)
    m.resize(4, 10)
    snap = m.snapshot()
    assert (snap["rows"], snap["cols"]) == (4, 10)
    assert len(snap["lines"]) == 4 and all(len(line) == 10 for line in snap["lines"])


def test_malformed_and_unknown_sequences_never_draw_garbage() -> None:
    m = _model(b"ok\x1bPzz\x1b\\\x1b[>4;2mA\x1b[0%m\x1b[?4mB\x1b]10;?\x07C\x1b[1:2:3mD\x1b\x01E")
    assert m.screen.text_lines()[0].rstrip() == "okABCD\x01E".replace("\x01", "")
    assert not m.screen.cursor.attrs.bold and not m.screen.cursor.attrs.underscore
