"""Warmup-stable-decay (WSD) learning-rate schedule, as a multiplier of the peak rate.

Linear warmup to the peak, a flat stretch, then a linear decay to `final_ratio` of the peak
over the last `decay` steps (recipe: 500 warmup, 1,333 decay of 5,000 steps, to 10%). WSD
rather than cosine because the flat phase lets a run be extended or branched into a decay
at any point without retraining.
"""
from __future__ import annotations


def wsd_factor(step: int, total: int, warmup: int, decay: int, final_ratio: float = 0.1) -> float:
    """Multiplier for optimizer step `step` (0-based). Short runs shrink warmup and decay
    proportionally so that both phases still exist."""
    if total <= 0:
        return 1.0
    if warmup + decay > total:
        scale = total / float(warmup + decay)
        warmup, decay = int(warmup * scale), int(decay * scale)
    if warmup and step < warmup:
        return (step + 1) / warmup
    decay_start = total - decay
    if step < decay_start or decay == 0:
        return 1.0
    progress = min(1.0, (step - decay_start + 1) / decay)
    return 1.0 - (1.0 - final_ratio) * progress
