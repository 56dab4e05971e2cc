"""The best frame-blind answer: the learning bar a model that reads frames must clear.

"Beats always-[]" is too weak a bar: always-[] scores F1 0 by construction, and a fixed answer
that ignores the frames already scores F1 0.26 on clicks of the synthetic mix (issue 18). A
model that has only learned the output format and a prior over the answer text can reach that
much without looking at a single frame, so the bar is the best such answer.

A frame-blind answer gives every window the same list. Per type (F1 is per type, so each type's
best answer is chosen on its own) it is a set of frames in the window's scored range [2, 7)
with one detail, the detail among the `top` most frequent in the truth. The search is an oracle
over the very clips being scored, so it is an upper bound for anything frame-blind of that
form; the evaluation windows are the protocol's (inference.plan_windows).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import combinations

from crowd.idm.inference import plan_windows
from crowd.idm.metrics import TypeCounts, match
from crowd.idm.prompt import ACTION_TYPES, Action

STRIDE, KEEP = 5, (2, 7)


@dataclass
class BlindAnswer:
    type: str
    frames: tuple[int, ...]    # window-relative
    details: str
    counts: TypeCounts

    @property
    def f1(self) -> float:
        return self.counts.f1


def _placed(answer: list[Action], n_frames: int, window: int) -> list[Action]:
    """The fixed window answer laid over a clip as the evaluation protocol would keep it."""
    out = []
    for s, lo, hi in plan_windows(n_frames, window, STRIDE, KEEP):
        out.extend(Action(a.frame + s, a.type, a.details) for a in answer if lo <= a.frame + s < hi)
    return out


def best_blind_answers(clips: list[tuple[int, list[Action]]], window: int = 10, top: int = 3
                       ) -> dict[str, BlindAnswer]:
    """Per type, the frame-blind answer with the highest F1 on `clips` ((n_frames, scored truth))."""
    best: dict[str, BlindAnswer] = {}
    slots = tuple(range(KEEP[0], min(KEEP[1], window)))
    for typ in ACTION_TYPES:
        truth = [(n, [a for a in acts if a.type == typ]) for n, acts in clips]
        freq = Counter(a.details for _, acts in truth for a in acts)
        if typ == "MouseScroll":  # scrolls match on direction: one representative per sign
            signs = Counter("-" if a.scroll() < 0 else "+" for _, acts in truth for a in acts)
            details = [next(a.details for _, acts in truth for a in acts if ("-" if a.scroll() < 0 else "+") == s)
                       for s, _ in signs.most_common()]
        else:
            details = [d for d, _ in freq.most_common(top)]
        found = BlindAnswer(typ, (), "", _score([], truth, window))
        for detail in details:
            for k in range(1, len(slots) + 1):
                for frames in combinations(slots, k):
                    c = _score([Action(f, typ, detail) for f in frames], truth, window)
                    if c.f1 > found.f1:
                        found = BlindAnswer(typ, frames, detail, c)
        best[typ] = found
    return best


def _score(answer: list[Action], truth: list[tuple[int, list[Action]]], window: int) -> TypeCounts:
    c = TypeCounts()
    for n, acts in truth:
        preds = _placed(answer, n, window)
        pairs = match(preds, acts)
        c.tp += len(pairs)
        c.fp += len(preds) - len(pairs)
        c.fn += len(acts) - len(pairs)
    return c
