"""Redaction costs per event, in process: what the privacy layer adds to the hot path.

End to end throughput with redaction on and off is in ``bench core``; this table breaks the
redaction path down so a regression can be located:
- a keystroke (one-character edit) through ``Redactor.scrub_event`` and the ``TypingGuard``;
- a viewport of 40 code lines after each key (one line changed): ``SecretFinder.find`` with
  its per-line cache vs the whole-text scan it replaces;
- a 50x120 terminal screen sampled again unchanged, and scrolled by one line.
"""
from __future__ import annotations

import os
import random
import sys
import time
from typing import Any

from bench.table import Table

WORDS = ("self value items result index count name data config path error return import from def class "
         "if else for while with as try except raise yield lambda None True False print len range").split()


def _per_call_us(fn: Any, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n * 1e6


def _keystroke_cost(n: int) -> tuple[float, float]:
    from crowd.privacy import Redactor
    from crowd.privacy.typing import TypingGuard

    redactor = Redactor()
    guard = TypingGuard(redactor)
    events = []
    for i in range(n):
        char = "\n" if i % 60 == 59 else (" " if i % 6 == 5 else "abcdefghij"[i % 10])
        events.append({"seq": i, "t": i, "wall": i, "type": "action", "kind": "edit", "file": "m.py", "source": "user",
                       "changes": [{"offset": i, "length": 0, "text": char}], "reason": None, "version": i})
    it = iter(events)
    scrub = _per_call_us(lambda: redactor.scrub_event(next(it)), n)
    it = iter(events)
    push = _per_call_us(lambda: guard.push(next(it)), n)
    return scrub, push


def _viewport_costs(n: int) -> tuple[float, float, float]:
    from crowd.privacy.detect import SecretFinder

    rng = random.Random(1)
    lines = [f"    {rng.choice(WORDS)}_{rng.randrange(1000)} = {rng.choice(WORDS)}({rng.choice(WORDS)}, {rng.randrange(100)})"
             for _ in range(40)]
    finder = SecretFinder()
    typed = " ".join(rng.choice(WORDS) for _ in range(n))
    texts = []
    for i in range(n):
        changed = list(lines)
        line_start = typed.rfind(" ", 0, max(0, i - 60)) + 1
        changed[5] = "    " + typed[line_start:i + 1]      # the line being typed on, one key more each time
        texts.append("\n".join(changed))
    finder.find(texts[0], "src/a.py")                   # plugins loaded, other lines cached
    it = iter(texts)
    cached = _per_call_us(lambda: finder.find(next(it), "src/a.py"), n)
    unchanged = _per_call_us(lambda: finder.find(texts[-1], "src/a.py"), n)
    it = iter(texts)
    whole = _per_call_us(lambda: finder._find_whole(next(it), "src/a.py"), max(5, n // 10))
    return whole, cached, unchanged


def _screen_costs(n: int) -> tuple[float, float, float]:
    from crowd.privacy import Redactor

    rng = random.Random(2)
    rows = ["$ make build" if i % 9 == 0 else " ".join(rng.choice(WORDS) for _ in range(18))[:120] for i in range(200)]
    redactor = Redactor()
    screens = [rows[i:i + 50] for i in range(150)]
    redactor.scrub_lines(screens[0])
    whole = _per_call_us(lambda: redactor.finder._find_whole("\n".join(screens[0]), None), max(5, n // 10))
    same = _per_call_us(lambda: redactor.scrub_lines(screens[0]), n)
    it = iter(screens * (n // len(screens) + 1))
    scrolled = _per_call_us(lambda: redactor.scrub_lines(next(it)), n)
    return whole, same, scrolled


def run(quick: bool) -> list[Table]:
    n = 5_000 if quick else 50_000
    scrub, push = _keystroke_cost(n)
    whole, cached, unchanged = _viewport_costs(200 if quick else 1_000)
    s_whole, s_same, s_scrolled = _screen_costs(300 if quick else 2_000)
    rows = [
        ["keystroke: Redactor.scrub_event (1-char edit)", scrub, "-"],
        ["keystroke: TypingGuard.push (ordinary words, never held)", push, "-"],
        ["keystroke: both together", scrub + push, "<= 25 (20,000 events/s budget: 50)"],
        ["viewport 40 lines: whole-text scan (reference)", whole, "-"],
        ["viewport 40 lines: line-cached scan, one line changed", cached, "-"],
        ["viewport 40 lines: line-cached scan, unchanged", unchanged, "-"],
        ["terminal 50x120: whole-text scan (reference)", s_whole, "-"],
        ["terminal 50x120: scrub_lines, same screen again", s_same, "-"],
        ["terminal 50x120: scrub_lines, scrolled by one row", s_scrolled, "-"],
    ]
    return [Table("privacy: redaction cost per event (in process, microseconds)",
                  ["what", "us per event", "target"], [[a, round(b, 1), c] for a, b, c in rows],
                  ["end to end with redaction on/off: python -m bench core (sidecar throughput table)",
                   f"machine load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"])]


if __name__ == "__main__":
    for table in run("--quick" in sys.argv):
        print(table.render(), "\n")
