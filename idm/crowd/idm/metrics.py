"""IDM scoring: one-to-one matching of predicted and true actions, per-type P/R/F1, and the
MouseMove regression scores.

A prediction matches a true action of the same type when their frames differ by at most the
type's tolerance (5 frames for keys and clicks, 0 for scroll and movement) and their details
agree (same key combination, same button; same scroll direction). MouseMove matches on frame
alone; how close the vector is, is what R^2 and cosine measure.

Matching is optimal (scipy's linear_sum_assignment): it maximises the number of matched pairs,
then minimises their total frame distance. The reference matches greedily, which can pair a
prediction with the nearest truth and leave a second prediction without a partner that an
optimal assignment would have found (tests/idm/test_metrics.py has such a case).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from crowd.idm.prompt import ACTION_TYPES, Action

TOLERANCE = {"KeyPress": 5, "MouseClick": 5, "MouseScroll": 0, "MouseMove": 0}
SCORED_VISIBILITY = ("visible", "inferable")


def compatible(pred: Action, true: Action) -> bool:
    if pred.type != true.type or abs(pred.frame - true.frame) > TOLERANCE.get(true.type, 0):
        return False
    if true.type in ("KeyPress", "MouseClick"):
        return pred.details == true.details
    if true.type == "MouseScroll":
        return np.sign(pred.scroll()) == np.sign(true.scroll())
    return True


def match(preds: list[Action], trues: list[Action], method: str = "optimal") -> list[tuple[int, int]]:
    """Index pairs (pred, true) of a one-to-one matching; `method` "optimal" or "greedy"."""
    if not preds or not trues:
        return []
    if method == "greedy":
        return _greedy(preds, trues)
    from scipy.optimize import linear_sum_assignment

    big = 1e6
    cost = np.full((len(preds), len(trues)), big)
    for i, p in enumerate(preds):
        for j, t in enumerate(trues):
            if compatible(p, t):
                cost[i, j] = abs(p.frame - t.frame)
    rows, cols = linear_sum_assignment(cost)
    return [(int(i), int(j)) for i, j in zip(rows, cols) if cost[i, j] < big]


def _greedy(preds: list[Action], trues: list[Action]) -> list[tuple[int, int]]:
    """The reference's strategy, kept for comparison: each prediction in order takes the nearest
    still-unmatched compatible truth."""
    used: set[int] = set()
    pairs = []
    for i, p in enumerate(preds):
        best = min((abs(p.frame - t.frame), j) for j, t in enumerate(trues) if j not in used and compatible(p, t)) \
            if any(j not in used and compatible(p, t) for j, t in enumerate(trues)) else None
        if best is not None:
            used.add(best[1])
            pairs.append((i, best[1]))
    return pairs


@dataclass
class TypeCounts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Scores:
    """Accumulates over clips; read per-type counts, move vectors and visibility recall."""

    method: str = "optimal"
    counts: dict[str, TypeCounts] = field(default_factory=lambda: {t: TypeCounts() for t in ACTION_TYPES})
    move_true: list[tuple[float, float]] = field(default_factory=list)
    move_pred: list[tuple[float, float]] = field(default_factory=list)
    move_matched: list[bool] = field(default_factory=list)
    visibility_total: Counter = field(default_factory=Counter)
    visibility_found: Counter = field(default_factory=Counter)
    clips: int = 0

    def add(self, preds: list[Action], trues: list[Action]) -> None:
        """Scores one clip. Truth marked not_predictable is excluded (neither hit nor miss), and
        a prediction matching it is not counted as a false positive either."""
        self.clips += 1
        for t in trues:
            self.visibility_total[t.visibility] += 1
        scored = [t for t in trues if t.visibility in SCORED_VISIBILITY]
        ignored = [t for t in trues if t.visibility not in SCORED_VISIBILITY]
        for typ in ACTION_TYPES:
            p = [a for a in preds if a.type == typ]
            t = [a for a in scored if a.type == typ]
            pairs = match(p, t, self.method)
            matched_p = {i for i, _ in pairs}
            unmatched = [a for i, a in enumerate(p) if i not in matched_p]
            excused = {i for i, _ in match(unmatched, [a for a in ignored if a.type == typ], self.method)}
            c = self.counts[typ]
            c.tp += len(pairs)
            c.fp += len(unmatched) - len(excused)
            c.fn += len(t) - len(pairs)
            for _, j in pairs:
                self.visibility_found[t[j].visibility] += 1
            if typ == "MouseMove":
                by_true = {j: i for i, j in pairs}
                for j, a in enumerate(t):
                    self.move_true.append(a.vector())
                    self.move_pred.append(p[by_true[j]].vector() if j in by_true else (0.0, 0.0))
                    self.move_matched.append(j in by_true)

    @property
    def overall(self) -> TypeCounts:
        return TypeCounts(sum(c.tp for c in self.counts.values()), sum(c.fp for c in self.counts.values()),
                          sum(c.fn for c in self.counts.values()))

    def move_r2(self) -> float:
        return r2(np.asarray(self.move_true), np.asarray(self.move_pred))

    def move_cosine(self) -> float:
        """Over every true move, a missed one scoring 0: can never exceed move recall."""
        return mean_cosine(np.asarray(self.move_true), np.asarray(self.move_pred))

    def move_cosine_matched(self) -> float:
        """Over matched moves only: the direction accuracy when a move is found (the model
        card's 0.99 next to R^2 0.66 can only be this one)."""
        keep = np.asarray(self.move_matched, dtype=bool)
        if not keep.any():
            return float("nan")
        return mean_cosine(np.asarray(self.move_true)[keep], np.asarray(self.move_pred)[keep])

    def summary(self) -> dict:
        out = {t: {"precision": c.precision, "recall": c.recall, "f1": c.f1, "tp": c.tp, "fp": c.fp, "fn": c.fn}
               for t, c in self.counts.items()}
        o = self.overall
        out["overall"] = {"precision": o.precision, "recall": o.recall, "f1": o.f1, "tp": o.tp, "fp": o.fp, "fn": o.fn}
        out["MouseMove"].update({"r2": self.move_r2(), "cosine": self.move_cosine(),
                                 "cosine_matched": self.move_cosine_matched()})
        out["visibility"] = {v: {"total": self.visibility_total[v], "found": self.visibility_found[v]}
                             for v in sorted(self.visibility_total)}
        out["clips"] = self.clips
        return out


def r2(true: np.ndarray, pred: np.ndarray) -> float:
    """Coefficient of determination over all vector components; nan without data."""
    if true.size == 0:
        return float("nan")
    ss_res = float(((true - pred) ** 2).sum())
    ss_tot = float(((true - true.mean(axis=0)) ** 2).sum())
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res == 0 else float("nan"))


def mean_cosine(true: np.ndarray, pred: np.ndarray) -> float:
    """Mean cosine similarity per pair; a zero (missed) prediction scores 0."""
    if true.size == 0:
        return float("nan")
    nt, npred = np.linalg.norm(true, axis=1), np.linalg.norm(pred, axis=1)
    ok = (nt > 0) & (npred > 0)
    cos = np.zeros(len(true))
    cos[ok] = (true[ok] * pred[ok]).sum(axis=1) / (nt[ok] * npred[ok])
    return float(cos.mean())
