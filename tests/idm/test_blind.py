"""The best frame-blind answer (the bar a frame-reading model must beat) is found, scored as
the evaluation protocol scores a model, and is clearly above always-[] when actions are common."""
from __future__ import annotations

from crowd.idm.blind import _placed, best_blind_answers
from crowd.idm.metrics import Scores
from crowd.idm.prompt import Action


def _clips() -> list[tuple[int, list[Action]]]:
    clips = []
    for i in range(12):
        acts = [Action(3 + (i % 7), "MouseClick", "Left"), Action(12, "MouseScroll", "-100")]
        if i % 3 == 0:
            acts.append(Action(10 + i % 5, "KeyPress", "A"))
        clips.append((25, acts))
    clips.append((25, []))
    return clips


def test_a_fixed_click_answer_scores_well_without_frames():
    best = best_blind_answers(_clips())
    click = best["MouseClick"]
    assert click.details == "Left" and click.frames and click.f1 > 0.3
    assert best["MouseScroll"].details == "-100" and best["MouseScroll"].f1 > 0
    assert best["MouseMove"].f1 == 0.0 and best["MouseMove"].frames == ()  # no moves: nothing to gain


def test_the_blind_score_is_the_protocol_score_of_that_answer():
    clips = _clips()
    for typ, b in best_blind_answers(clips).items():
        if not b.frames:
            continue
        s = Scores()
        for n, acts in clips:
            s.add(_placed([Action(f, typ, b.details) for f in b.frames], n, 10), acts)
        c = s.counts[typ]
        assert (c.tp, c.fp, c.fn) == (b.counts.tp, b.counts.fp, b.counts.fn)
