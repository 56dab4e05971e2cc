"""Scoring, checked against hand-computed numbers."""
from __future__ import annotations

import math

import numpy as np
import pytest

from crowd.idm.evaluate import report_table, scored_range
from crowd.idm.metrics import Scores, match, mean_cosine, r2
from crowd.idm.prompt import Action, actions_to_text, parse_actions


def K(frame, key="A", vis="visible"):
    return Action(frame, "KeyPress", key, vis)


def test_greedy_matching_is_suboptimal_and_optimal_finds_both_pairs():
    # Predictions at frames 5 and 10, truth at 1 and 6 (tolerance 5). Greedy gives the
    # prediction at 5 its nearest truth (6); the prediction at 10 is then 9 frames from the
    # only truth left. The optimal assignment pairs 5-1 and 10-6: two matches instead of one.
    preds, trues = [K(5), K(10)], [K(1), K(6)]
    assert match(preds, trues, "greedy") == [(0, 1)]
    assert sorted(match(preds, trues, "optimal")) == [(0, 0), (1, 1)]

    greedy, optimal = Scores(method="greedy"), Scores()
    greedy.add(preds, trues)
    optimal.add(preds, trues)
    g, o = greedy.counts["KeyPress"], optimal.counts["KeyPress"]
    assert (g.tp, g.fp, g.fn) == (1, 1, 1) and g.f1 == pytest.approx(0.5)
    assert (o.tp, o.fp, o.fn) == (2, 0, 0) and o.f1 == 1.0


def test_precision_recall_f1_by_type_with_tolerances():
    preds = [K(3, "A"), K(3, "B"),                       # A within 5 of truth at 7; B has no truth
             Action(0, "MouseClick", "Left"),            # truth at 5: |5-0| = 5 is within tolerance
             Action(4, "MouseScroll", "-100"),           # truth at 5: scroll tolerance is 0 -> miss + FP
             Action(2, "MouseMove", "10,0")]             # frame matches; vector quality measured apart
    trues = [K(7, "A"), K(9, "C"), Action(5, "MouseClick", "Left"), Action(5, "MouseScroll", "-120"),
             Action(2, "MouseMove", "20,0"), Action(6, "MouseMove", "0,30")]
    s = Scores()
    s.add(preds, trues)
    k, c, sc, mm = (s.counts[t] for t in ("KeyPress", "MouseClick", "MouseScroll", "MouseMove"))
    assert (k.tp, k.fp, k.fn) == (1, 1, 1) and k.precision == 0.5 and k.recall == 0.5
    assert (c.tp, c.fp, c.fn) == (1, 0, 0) and c.f1 == 1.0
    assert (sc.tp, sc.fp, sc.fn) == (0, 1, 1) and sc.f1 == 0.0
    assert (mm.tp, mm.fp, mm.fn) == (1, 0, 1) and mm.precision == 1.0 and mm.recall == 0.5
    assert mm.f1 == pytest.approx(2 / 3)
    overall = s.overall
    assert (overall.tp, overall.fp, overall.fn) == (3, 2, 3)
    # Move vectors: truth (20,0),(0,30); predicted (10,0) and a miss -> (0,0).
    # mean truth = (10, 15); SS_tot = 100+225+100+225 = 650; SS_res = 100 + 900 = 1000
    assert s.move_r2() == pytest.approx(1 - 1000 / 650)
    assert s.move_cosine() == pytest.approx(0.5)  # cos 1 for the hit, 0 for the miss
    assert s.move_cosine_matched() == pytest.approx(1.0)  # the matched move's direction is right
    summary = s.summary()["MouseMove"]
    assert summary["cosine"] == pytest.approx(0.5) and summary["cosine_matched"] == pytest.approx(1.0)


def test_details_must_agree_for_keys_and_clicks_and_scroll_direction():
    s = Scores()
    s.add([K(2, "Ctrl+C"), Action(2, "MouseClick", "Right"), Action(2, "MouseScroll", "50")],
          [K(2, "C"), Action(2, "MouseClick", "Left"), Action(2, "MouseScroll", "-50")])
    assert s.overall.tp == 0 and s.overall.fp == 3 and s.overall.fn == 3


def test_not_predictable_truth_is_neither_missed_nor_a_false_positive():
    s = Scores()
    s.add([K(4, "B")], [K(2, "A", "inferable"), K(4, "B", "not_predictable"), K(8, "C", "not_predictable")])
    k = s.counts["KeyPress"]
    assert (k.tp, k.fp, k.fn) == (0, 0, 1)   # the inferable A is missed; B is excused
    summary = s.summary()
    assert summary["visibility"] == {"inferable": {"total": 1, "found": 0},
                                     "not_predictable": {"total": 2, "found": 0}}


def test_r2_and_cosine_edge_cases():
    assert math.isnan(r2(np.zeros((0, 2)), np.zeros((0, 2))))
    t = np.array([[1.0, 2.0], [3.0, -4.0]])
    assert r2(t, t) == 1.0
    assert mean_cosine(t, -t) == pytest.approx(-1.0)
    assert mean_cosine(t, np.zeros_like(t)) == 0.0


def test_empty_baseline_scores_zero_and_perfect_prediction_scores_one():
    trues = [K(3), Action(4, "MouseMove", "5,5")]
    base, perfect = Scores(), Scores()
    base.add([], trues)
    perfect.add(list(trues), trues)
    assert base.overall.f1 == 0.0 and base.overall.fn == 2
    assert perfect.overall.f1 == 1.0 and perfect.move_r2() == 1.0


def test_scored_range_of_the_25_frame_protocol():
    assert scored_range(25, 10) == (2, 22)


def test_report_table_lists_every_type_and_the_baseline():
    s, b = Scores(), Scores()
    s.add([K(3)], [K(3)])
    b.add([], [K(3)])
    table = report_table({"model": s.summary(), "baseline_empty": b.summary(), "clips": 1})
    assert "| KeyPress | 1 | 1.000 | 1.000 | 1.000 | 0.000 |" in table
    for t in ("MouseClick", "MouseMove", "MouseScroll", "overall"):
        assert f"| {t} |" in table


def test_parse_actions_round_trip_and_lenient_on_damage():
    acts = [Action(1, "MouseMove", "120,45"), Action(2, "MouseClick", "Left"), Action(4, "KeyPress", "Shift+H")]
    text = actions_to_text(acts)
    assert text.startswith('[{"frame": "F01", "type": "MouseMove", "details": "120,45"}')
    assert parse_actions(text) == acts
    truncated = text[:-30]  # generation stopped mid-object
    assert parse_actions(truncated) == acts[:2]
    assert parse_actions('[{"frame": "F12", "type": "KeyPress", "details": "A"}, {"frame": "F01", "type": "Jump", "details": "x"}]',
                         n_frames=10) == []
    assert parse_actions("not json at all") == []
    assert parse_actions("[]") == []
