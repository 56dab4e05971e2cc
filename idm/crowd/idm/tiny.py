"""A randomly initialised Qwen3-VL built offline: the real architecture at toy or real size.

No weights can be downloaded on CI machines, yet the pipeline must be exercised end to end on
the real model class (Qwen3VLForConditionalGeneration), so this writes a folder that loads
exactly like a hub checkpoint: config + safetensors + tokenizer + image-processor config.

Tokenizer choice: a tiny byte-level BPE trained here with `tokenizers` on the IDM's own text
(prompts and action JSON) plus Qwen's special tokens. The real 151k-token Qwen vocabulary would
make the embedding and the output softmax dominate a 100k-parameter model's step time on CPU,
so the tiny BPE is the faster choice; the `2b` preset uses the real vocabulary size so its
throughput figures are representative on a GPU.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

from crowd.idm.prompt import ACTION_TYPES, Action, actions_to_text, build_prompt

SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|image_pad|>", "<|video_pad|>",
)

# Shapes: "tiny" for CPU tests; "2b" mirrors Qwen3-VL-2B's published shape for GPU throughput
# (tied input/output embeddings as in the released 2B: untied would add 311M parameters).
PRESETS: dict[str, dict] = {
    "tiny": dict(hidden=128, intermediate=256, layers=2, heads=4, kv_heads=2, head_dim=32,
                 v_depth=2, v_hidden=64, v_intermediate=128, v_heads=2, v_pos=64, deepstack=[1]),
    "2b": dict(hidden=2048, intermediate=6144, layers=28, heads=16, kv_heads=8, head_dim=128,
               v_depth=24, v_hidden=1024, v_intermediate=4096, v_heads=16, v_pos=2304, deepstack=[5, 11, 17],
               vocab_size=151936, tie=True),
}


def _corpus(n: int = 400, seed: int = 0) -> list[str]:
    """Text the tokenizer will see: prompts and plausible answers, so common JSON runs merge."""
    rng = random.Random(seed)
    keys = [chr(c) for c in range(ord("A"), ord("Z") + 1)] + [str(d) for d in range(10)] + [
        "Return", "Escape", "Backspace", "Tab", "Space", "UpArrow", "DownArrow", "LeftArrow", "RightArrow", "F1"]
    lines = [build_prompt(10, [1] * 10, 5)]
    for _ in range(n):
        acts = []
        for _ in range(rng.randint(0, 6)):
            t = rng.choice(ACTION_TYPES)
            det = {"KeyPress": lambda: "+".join(rng.sample(["Cmd", "Ctrl", "Alt", "Shift"], rng.randint(0, 2)) + [rng.choice(keys)]),
                   "MouseClick": lambda: rng.choice(["Left", "Right", "Middle"]),
                   "MouseMove": lambda: f"{rng.randint(-400, 400)},{rng.randint(-400, 400)}",
                   "MouseScroll": lambda: str(rng.randint(-300, 300))}[t]()
            acts.append(Action(rng.randint(0, 24), t, det))
        lines.append(actions_to_text(acts) + "<|im_end|>")
    return lines


def build_tokenizer(vocab_size: int = 768):
    """Byte-level BPE over the IDM's own text, with Qwen's special tokens as single ids."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_corpus(), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   bos_token=None, unk_token=None,
                                   additional_special_tokens=[t for t in SPECIAL_TOKENS if t not in ("<|endoftext|>", "<|im_end|>")])


def mrope_sections(head_dim: int) -> list[int]:
    """Rotary frequency pairs for (time, height, width): Qwen3-VL-2B/8B use [24, 20, 20] at
    head_dim 128, i.e. 5/16 of the pairs each for height and width, the rest for time."""
    half = head_dim // 2
    hw = half * 5 // 16
    return [half - 2 * hw, hw, hw]


def build_config(preset: str, tokenizer, **overrides):
    from transformers import Qwen3VLConfig

    p = {**PRESETS[preset], **overrides}
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    mrope = mrope_sections(p["head_dim"])
    return Qwen3VLConfig(
        text_config=dict(
            vocab_size=p.get("vocab_size", len(tokenizer)), hidden_size=p["hidden"], intermediate_size=p["intermediate"],
            num_hidden_layers=p["layers"], num_attention_heads=p["heads"], num_key_value_heads=p["kv_heads"],
            head_dim=p["head_dim"], max_position_embeddings=32768, pad_token_id=ids["<|endoftext|>"],
            rope_parameters={"rope_type": "default", "rope_theta": 5_000_000.0, "mrope_section": mrope,
                             "mrope_interleaved": True},
        ),
        vision_config=dict(
            depth=p["v_depth"], hidden_size=p["v_hidden"], intermediate_size=p["v_intermediate"], num_heads=p["v_heads"],
            patch_size=16, spatial_merge_size=2, temporal_patch_size=2, out_hidden_size=p["hidden"],
            num_position_embeddings=p["v_pos"], deepstack_visual_indexes=p["deepstack"],
        ),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=bool(p.get("tie", False)),
    )


def build_image_processor(max_pixels: int = 524_288, min_pixels: int = 32 * 32):
    """Qwen3-VL's image preprocessing (patch 16, merge 2) via the PIL backend: no torchvision needed."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    return Qwen2VLImageProcessorPil(patch_size=16, temporal_patch_size=2, merge_size=2,
                                    min_pixels=min_pixels, max_pixels=max_pixels,
                                    image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5])


def build_tiny_model(out_dir: str | Path, preset: str = "tiny", seed: int = 0, max_pixels: int = 524_288,
                     **overrides) -> Path:
    """Writes a loadable, randomly initialised Qwen3-VL folder and returns its path."""
    import torch
    from transformers import Qwen3VLForConditionalGeneration

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    config = build_config(preset, tokenizer, **overrides)
    model = Qwen3VLForConditionalGeneration(config)
    if preset == "tiny":
        # The output head stays frozen under LoRA, and after the final RMSNorm the hidden state
        # has norm ~sqrt(hidden); with the default 0.02 init the largest reachable logit margin is
        # ~2.5, which caps the loss near 4.4 nats however long the adapters train. A head with
        # unit-norm rows lets a LoRA-only run express confident predictions.
        with torch.no_grad():
            model.lm_head.weight.normal_(0.0, 1.0 / config.text_config.hidden_size ** 0.5)
    if preset != "tiny":
        model = model.to(torch.bfloat16)   # 2B: 4.3 GB on disk instead of 8.5, as the released checkpoint
    model.generation_config.eos_token_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    build_image_processor(max_pixels=max_pixels).save_pretrained(out)
    (out / "crowd_idm.json").write_text(json.dumps({"built_by": "crowd.idm.tiny", "preset": preset, "seed": seed}))
    return out
