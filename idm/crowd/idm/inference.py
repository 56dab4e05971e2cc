"""Running a trained IDM over frame sequences longer than its window.

Windows of `window` frames start every `stride` frames; from each, only predictions on its
central frames [keep_from, keep_to) are kept, because at a window's edges the model cannot
see the frames that reveal an action's effect. With the recipe's 10-frame windows, stride 5
and frames 2..6 kept, consecutive windows tile the sequence with no frame scored twice.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crowd.idm.encode import Processing, collate, encode_example, load_processing, model_inputs
from crowd.idm.prompt import Action, parse_actions


@dataclass
class Predictor:
    model: Any
    proc: Processing
    fps: float = 5.0
    window: int = 10
    max_new_tokens: int = 512
    batch_size: int = 4
    max_pixels: int = 524_288

    @property
    def device(self):
        return next(self.model.parameters()).device

    def predict_windows(self, windows: list[list[np.ndarray]]) -> list[list[Action]]:
        """Greedy decoding of each window's action list (batched, left-padded)."""
        out: list[list[Action]] = []
        for i in range(0, len(windows), self.batch_size):
            out.extend(self._generate(windows[i:i + self.batch_size]))
        return out

    def _generate(self, windows: list[list[np.ndarray]]) -> list[list[Action]]:
        import torch

        tok = self.proc.tokenizer
        examples = [encode_example(self.proc, w, None, self.fps) for w in windows]
        batch = collate(examples, tok.pad_token_id, self.model.config.image_token_id)
        batch.pop("labels")
        if len(examples) > 1:
            batch = left_pad(batch)
        batch = model_inputs(batch, self.proc, self.device)
        eos = tok.convert_tokens_to_ids("<|im_end|>")
        with torch.no_grad():
            gen = self.model.generate(**batch, max_new_tokens=self.max_new_tokens, do_sample=False,
                                      eos_token_id=eos, pad_token_id=tok.pad_token_id)
        width = batch["input_ids"].shape[1]
        texts = tok.batch_decode(gen[:, width:], skip_special_tokens=True)
        return [parse_actions(t, n_frames=len(w)) for t, w in zip(texts, windows)]


def left_pad(batch: dict) -> dict:
    """Moves each row's padding to the left, as batched generation requires."""
    import torch

    mask = batch["attention_mask"]
    order = torch.argsort(mask, dim=1, stable=True)  # zeros (padding) first, tokens keep their order
    return {k: (torch.gather(v, 1, order) if k in ("input_ids", "attention_mask", "mm_token_type_ids") else v)
            for k, v in batch.items()}


def plan_windows(n: int, window: int, stride: int = 5, keep: tuple[int, int] = (2, 7),
                 cover_edges: bool = False) -> list[tuple[int, int, int]]:
    """(start, keep_from, keep_to) per window in sequence coordinates.

    cover_edges=False is the evaluation protocol (only central frames are scored);
    cover_edges=True (labelling) also assigns the first and last frames, and adds a final
    window aligned to the end so that every frame belongs to exactly one window.
    """
    if n <= window:
        return [(0, 0 if cover_edges else min(keep[0], n), n if cover_edges else min(keep[1], n))]
    starts = list(range(0, n - window + 1, stride))
    if cover_edges and starts[-1] + window < n:
        starts.append(n - window)
    plan, covered = [], 0
    for k, s in enumerate(starts):
        lo, hi = s + keep[0], s + keep[1]
        if cover_edges:
            lo = 0 if k == 0 else max(lo, covered)
            hi = n if k == len(starts) - 1 else hi
        if hi > lo:
            plan.append((s, lo, hi))
            covered = hi
    return plan


def predict_sequence(pred: Predictor, frames: list[np.ndarray], stride: int = 5, keep: tuple[int, int] = (2, 7),
                     cover_edges: bool = False) -> list[Action]:
    """Actions over a whole sequence, frame indices in sequence coordinates."""
    plan = plan_windows(len(frames), pred.window, stride, keep, cover_edges)
    results = pred.predict_windows([frames[s:s + pred.window] for s, _, _ in plan])
    out: list[Action] = []
    for (s, lo, hi), acts in zip(plan, results):
        out.extend(Action(a.frame + s, a.type, a.details) for a in acts if lo <= a.frame + s < hi)
    return out


def load_predictor(path: str | Path, base: str | None = None, device: str | None = None,
                   max_new_tokens: int = 512, batch_size: int = 4) -> Predictor:
    """A Predictor for a trained output folder, a merged folder, or a plain base model."""
    import torch

    from crowd.idm.modeling import load_for_inference

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    info_path = Path(path) / "crowd_idm_train.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    proc = load_processing(path, max_pixels=info.get("max_pixels"))
    model = load_for_inference(path, base=base, device=device)
    return Predictor(model, proc, fps=float(info.get("fps", 5.0)), window=int(info.get("window", 10)),
                     max_new_tokens=max_new_tokens, batch_size=batch_size,
                     max_pixels=int(info.get("max_pixels", 524_288)))
