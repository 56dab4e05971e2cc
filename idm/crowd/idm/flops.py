"""FLOPs of one Qwen3-VL training step, counted from the config: language and vision towers,
attention included. MFU = counted FLOPs per second / the devices' peak.

Why not `4 N_total + 2 N_trainable` per language token (the first formula): it leaves out the
vision encoder, which runs on 4 patches per image token (a 2x2 merge), and the attention
scores; it under-reported MFU by about 0.54x at 2B and 0.78x at 8B. Counted here, per step:

- linear layers: 2 x tokens x in x out for the forward pass, the same again for the gradient
  with respect to the input (needed everywhere a trainable parameter lies below), and again for
  the weight gradient of trainable weights only (LoRA A/B, or everything in a full fine-tune);
- attention scores and weighted sums: 4 x n^2 x width per layer and sequence (images attend
  within themselves, n patches; the language model over the whole sequence), the full square
  as the kernels execute it (causal halving is not credited), backward 2x forward;
- the patch embedding (a 3x2x16x16 convolution, forward only: neither its input nor its
  weight needs a gradient); the patch merger and the deepstack mergers per merged token;
- the output head only at the positions whose logits are computed (all, or only the answer
  positions with loss-only logits);
- gradient checkpointing's recomputation is not credited (MFU, not hardware utilisation).

tests/idm/test_flops.py checks this count against torch.utils.flop_counter on the tiny model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class StepFlops:
    vision_linear: float = 0.0
    vision_attention: float = 0.0
    patch_embed: float = 0.0
    language_linear: float = 0.0
    language_attention: float = 0.0
    head: float = 0.0

    @property
    def total(self) -> float:
        return (self.vision_linear + self.vision_attention + self.patch_embed + self.language_linear
                + self.language_attention + self.head)


def _linears(config: Any) -> tuple[list[tuple[int, int, bool]], list[tuple[int, int, bool]], list[tuple[int, int, bool]]]:
    """(in, out, is_lora_target) of the vision block, merger, and language layer linears."""
    v, t = config.vision_config, config.text_config
    d, vi = v.hidden_size, v.intermediate_size
    block = [(d, 3 * d, True), (d, d, True), (d, vi, True), (vi, d, True)]
    m = d * v.spatial_merge_size ** 2
    merger = [(m, m, True), (m, v.out_hidden_size, True)]
    h, hd, ti = t.hidden_size, t.head_dim, t.intermediate_size
    q, kv = t.num_attention_heads * hd, t.num_key_value_heads * hd
    layer = [(h, q, True), (h, kv, True), (h, kv, True), (q, h, True), (h, ti, True), (h, ti, True), (ti, h, True)]
    return block, merger, layer


def step_flops(config: Any, seq_lens: list[int], image_grids: list[tuple[int, int, int]], logit_positions: int,
               lora_r: int = 0, vision_lora: bool = True, full: bool = False, backward: bool = True) -> StepFlops:
    """FLOPs of one step over a batch: `seq_lens` tokens per row, one (t, h, w) patch grid per
    image, `logit_positions` rows of the output head. lora_r > 0: LoRA on every block linear;
    full: every weight trainable; backward False: forward only."""
    v, t = config.vision_config, config.text_config
    block, merger, layer = _linears(config)
    n_mergers = 1 + len(v.deepstack_visual_indexes)
    patches = [gt * gh * gw for gt, gh, gw in image_grids]
    n_patch, n_merged = sum(patches), sum(patches) // v.spatial_merge_size ** 2
    n_tok = sum(seq_lens)
    f = StepFlops()

    def linear(n: int, dims: list[tuple[int, int, bool]], lora: bool, backward: bool) -> float:
        fwd = sum(2.0 * n * i * o for i, o, _ in dims)
        adapters = sum(2.0 * n * lora_r * (i + o) for i, o, target in dims if target) if lora and lora_r else 0.0
        if not backward:
            return fwd + adapters
        weight_grad = fwd if full else adapters
        return 2 * (fwd + adapters) + weight_grad

    vision_backward = backward and (full or (vision_lora and lora_r > 0))
    f.vision_linear = v.depth * linear(n_patch, block, vision_lora, vision_backward) + n_mergers * linear(
        n_merged, merger, vision_lora, vision_backward)
    if vision_backward and not full:
        # the first block's qkv input (patch embedding + positions, all frozen) needs no gradient
        f.vision_linear -= 2.0 * n_patch * block[0][0] * (block[0][1] + (lora_r if vision_lora else 0))
    f.language_linear = t.num_hidden_layers * linear(n_tok, layer, True, backward)
    attn = 1 + (2 if backward else 0)
    f.vision_attention = (3 if vision_backward else 1) * v.depth * sum(4.0 * p * p * v.hidden_size for p in patches)
    width = t.num_attention_heads * t.head_dim
    f.language_attention = attn * t.num_hidden_layers * sum(4.0 * s * s * width for s in seq_lens)
    kernel = v.in_channels * v.temporal_patch_size * v.patch_size ** 2
    f.patch_embed = 2.0 * n_patch * kernel * v.hidden_size * (2 if (full and backward) else 1)
    head = 2.0 * logit_positions * t.hidden_size * t.vocab_size
    f.head = head * ((3 if full else 2) if backward else 1)
    return f
