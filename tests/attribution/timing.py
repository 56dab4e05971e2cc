"""Editor timing for the scenario suite, drawn from the envelopes measured in a real
code-server (envelopes.json, written by tests/attribution/codeserver/measure.py).

Each timing-sensitive scenario runs at the envelope's edges (``min``, ``max``) and at points
drawn inside it (``inside-1``, ``inside-2``), from a generator seeded by the scenario's name
and point, so a failure reruns with the same delays (``CROWD_TIMING_SEED`` changes the draw).
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

ENVELOPES_FILE = Path(__file__).with_name("envelopes.json")
POINTS = ("min", "max", "inside-1", "inside-2")
SEED = os.environ.get("CROWD_TIMING_SEED", "14")


def envelopes() -> dict[str, dict[str, float]]:
    return json.loads(ENVELOPES_FILE.read_text())["envelopes"]


class Timing:
    """The delays (seconds) one scenario run uses: every kind at the same point."""

    def __init__(self, point: str, name: str, table: dict[str, dict[str, float]] | None = None) -> None:
        if point not in POINTS and point != "-":
            raise ValueError(f"unknown timing point {point!r}")
        self.point = point
        self.table = table if table is not None else envelopes()
        self.rng = random.Random(f"{SEED}/{name}/{point}")
        self.drawn: dict[str, list[float]] = {}

    def ms(self, kind: str) -> float:
        env = self.table[kind]
        lo, hi = env["min_ms"], env["max_ms"]
        if self.point == "min":
            value = lo
        elif self.point == "max":
            value = hi
        elif self.point == "-":
            value = env["p50_ms"]
        else:
            value = self.rng.uniform(lo, hi)
        self.drawn.setdefault(kind, []).append(value)
        return value

    def s(self, kind: str) -> float:
        return self.ms(kind) / 1000.0
