"""The answer loss computed from the answer positions' logits only.

Only the ~60 answer tokens of a sample carry loss, yet the model's own loss path computes the
output head over every position: at 8B with the real 151,936-token vocabulary and 8k-token
samples that is ~10 GiB of logits and 5-6% of the step's FLOPs spent on positions whose loss is
masked. Here the head runs only where the next token is an answer token (the union over the
batch's rows, since the model slices one set of positions for all rows), and the cross entropy
is the model's own: the mean over every labelled token of the batch.
"""
from __future__ import annotations

from typing import Any

from crowd.idm.encode import IGNORE_INDEX


def answer_positions(labels: Any) -> Any:
    """Positions p whose logits predict a labelled token (labels[:, p + 1] set in some row)."""
    import torch

    labelled = (labels[:, 1:] != IGNORE_INDEX).any(dim=0)
    return torch.nonzero(labelled, as_tuple=False).flatten()


def answer_loss(model: Any, batch: dict) -> Any:
    """Mean next-token cross entropy over the labelled tokens, with logits for those positions only."""
    import torch.nn.functional as F

    inputs = {k: v for k, v in batch.items() if k != "labels"}
    labels = batch["labels"]
    pos = answer_positions(labels)
    logits = model(**inputs, logits_to_keep=pos).logits
    targets = labels[:, pos + 1]
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE_INDEX)
