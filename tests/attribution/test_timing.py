"""The envelopes file and the draws the scenario suite makes from it."""
from __future__ import annotations

import pytest

from tests.attribution.timing import POINTS, Timing, envelopes

KINDS = ("reload_after_outside_write", "reload_after_git_checkout", "save_participant_edit_before_write",
         "save_event_after_write", "folder_rename_file_op_after_fs")


def test_envelopes_hold_every_kind_the_suite_uses_with_samples() -> None:
    table = envelopes()
    for kind in KINDS:
        env = table[kind]
        assert env["min_ms"] <= env["p50_ms"] <= env["max_ms"]
        assert env["n"] == len(env["samples_ms"]) >= 1
        assert min(env["samples_ms"]) == env["min_ms"] and max(env["samples_ms"]) == env["max_ms"]


@pytest.mark.parametrize("point", POINTS)
def test_draws_are_seeded_and_inside_the_envelope(point: str) -> None:
    table = envelopes()
    a = [Timing(point, "x").ms(k) for k in KINDS]
    b = [Timing(point, "x").ms(k) for k in KINDS]
    assert a == b
    for kind, value in zip(KINDS, a):
        assert table[kind]["min_ms"] <= value <= table[kind]["max_ms"]
    if point == "min":
        assert a == [table[k]["min_ms"] for k in KINDS]
    if point == "max":
        assert a == [table[k]["max_ms"] for k in KINDS]


def test_unknown_point_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown timing point"):
        Timing("late", "x")
