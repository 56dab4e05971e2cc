"""`crowd idm eval`: the released evaluation protocol over prepared 25-frame clips.

Each clip is covered by four overlapping windows (stride 5); each window contributes only its
frames 2..6 (the half-open range [2, 7)), so the scored part of a 25-frame clip is frames
2..21, each scored once. Ground truth outside the scored range is ignored; truth marked
not_predictable is reported per visibility class but not scored.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from crowd.idm.blind import best_blind_answers
from crowd.idm.clip_index import ClipIndex
from crowd.idm.frames import read_clip
from crowd.idm.inference import Predictor, plan_windows, predict_sequence
from crowd.idm.metrics import SCORED_VISIBILITY, Scores
from crowd.idm.prepare import clip_actions
from crowd.idm.prompt import ACTION_TYPES, Action

STRIDE, KEEP = 5, (2, 7)


def scored_range(n_frames: int, window: int) -> tuple[int, int]:
    plan = plan_windows(n_frames, window, STRIDE, KEEP)
    return plan[0][1], plan[-1][2]


def pick_clips(data_dir: str | Path, split: str, limit: int | None) -> list[dict]:
    """The split's clips, or `limit` of them spread evenly over it (so a limited run on a 210k
    split samples every session rather than the first few); read through the memory-mapped
    index, so only the chosen rows are decoded."""
    index = ClipIndex(data_dir, split)
    n = len(index)
    if limit is None or limit >= n:
        return [index[i] for i in range(n)]
    if limit <= 0:
        raise ValueError("--limit must be positive")
    return [index[i * n // limit] for i in range(limit)]


def evaluate(pred: Predictor | None, data_dir: str | Path, split: str = "val", limit: int | None = None,
             predictions_out: str | Path | None = None) -> dict:
    """Scores the model (and the always-[] baseline) on a prepared split.

    pred=None scores only the baseline; this keeps the protocol testable without a model.
    """
    records = pick_clips(data_dir, split, limit)
    if not records:
        raise ValueError(f"no {split} clips in {data_dir}")
    model_scores, base_scores = Scores(), Scores()
    window = pred.window if pred else 10
    lines, scored = [], []
    for r in records:
        lo, hi = scored_range(r["n_frames"], window)
        truth = [a for a in clip_actions(r) if lo <= a.frame < hi]
        preds: list[Action] = []
        if pred is not None:
            preds = predict_sequence(pred, read_clip(Path(data_dir) / r["clip"], r["fps"], r["n_frames"]), STRIDE, KEEP)
        model_scores.add(preds, truth)
        base_scores.add([], truth)
        scored.append((r["n_frames"], [a for a in truth if a.visibility in SCORED_VISIBILITY]))
        lines.append({"clip": r["clip"], "pred": [a.to_record() for a in preds], "true": [a.to_record() for a in truth]})
    if predictions_out:
        Path(predictions_out).write_text("".join(json.dumps(x) + "\n" for x in lines))
    blind = {t: {"f1": b.f1, "precision": b.counts.precision, "recall": b.counts.recall,
                 "frames": list(b.frames), "details": b.details}
             for t, b in best_blind_answers(scored, window).items()}
    return {"model": model_scores.summary(), "baseline_empty": base_scores.summary(), "baseline_blind": blind,
            "clips": len(records)}


def report_table(result: dict) -> str:
    """Markdown table: per-type support, precision, recall, F1 vs the always-[] baseline and the
    best frame-blind answer (blind.py): a model that reads the frames must beat the latter."""
    m, b = result["model"], result["baseline_empty"]
    blind = result.get("baseline_blind", {})
    rows = ["| type | support | precision | recall | F1 | F1 (always []) | F1 (best frame-blind) |",
            "|---|---|---|---|---|---|---|"]
    for t in (*ACTION_TYPES, "overall"):
        s = m[t]
        fb = _f(blind[t]["f1"]) if t in blind else ""
        rows.append(f"| {t} | {s['tp'] + s['fn']} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | "
                    f"{b[t]['f1']:.3f} | {fb} |")
    mm = m["MouseMove"]
    rows.append("")
    rows.append(f"MouseMove R^2 {_f(mm['r2'])}, cosine {_f(mm['cosine'])} over all true moves (a miss scores 0), "
                f"{_f(mm.get('cosine_matched'))} over matched moves; {result['clips']} clips.")
    vis = m["visibility"]
    if vis:
        rows.append("Visibility: " + ", ".join(f"{k} {v['found']}/{v['total']}" for k, v in vis.items())
                    + " (found/total; only visible and inferable are scored).")
    return "\n".join(rows)


def _f(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"
