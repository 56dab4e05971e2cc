"""Loading Qwen3-VL (hub id or local folder), attaching LoRA, and reloading trained adapters."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# LoRA on both towers: the released ablation without vision LoRA loses most of its mouse
# direction accuracy (cosine 0.99 -> 0.76). Names are the Qwen3-VL module names.
LANGUAGE_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
VISION_TARGETS = ("qkv", "proj", "linear_fc1", "linear_fc2")
TARGET_REGEX = (r".*language_model\.layers\.\d+\.(self_attn|mlp)\.(" + "|".join(LANGUAGE_TARGETS) + r")"
                r"|.*visual\.(blocks\.\d+\.(attn|mlp)|merger|deepstack_merger_list\.\d+)\.(" + "|".join(VISION_TARGETS) + r")")


def attention_implementation(requested: str = "auto") -> str:
    """"auto": FlashAttention 2 when the flash_attn package and a GPU are there, else PyTorch's
    SDPA (which itself picks a flash or memory-efficient kernel on CUDA). Anything else is
    passed to transformers as given ("sdpa", "eager", "flash_attention_2")."""
    if requested != "auto":
        return requested
    import importlib.util

    import torch

    if torch.cuda.is_available() and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def _patch_proj(conv: Any) -> Any:
    """A Conv3d whose kernel equals its stride and covers its whole input is a linear map of the
    flattened patch; the module keeps the conv's parameters (names and shapes), so checkpoints load."""
    import torch
    import torch.nn.functional as F

    class PatchProj(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight, self.bias = conv.weight, conv.bias

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            n, d = x.shape[0], self.weight.shape[0]
            w = self.weight.reshape(d, -1)
            return F.linear(x.reshape(n, -1).to(w.dtype), w, self.bias).view(n, d, 1, 1, 1)

    return PatchProj()


def use_patch_matmul(model: Any) -> bool:
    """Runs the vision patch embedding (a 3x2x16x16 Conv3d with stride = kernel on exactly one
    patch) as a matmul. cuDNN has no fast bf16 path for this Conv3d shape, and the reference run
    lost much of its step time there; the matmul is the same arithmetic on the tensor cores.
    Returns whether the module had that shape (otherwise it is left alone)."""
    visual = model.model.visual
    conv = visual.patch_embed.proj
    if tuple(conv.kernel_size) != tuple(conv.stride) or conv.padding not in ((0, 0, 0), "valid"):
        return False
    visual.patch_embed.proj = _patch_proj(conv)
    return True


def load_base(model: str | Path, dtype: Any = None, attn: str = "auto", patch_matmul: bool = True):
    """Qwen3VLForConditionalGeneration from a local folder or a hub id (any size)."""
    from transformers import Qwen3VLForConditionalGeneration

    kwargs = {"dtype": dtype} if dtype is not None else {}
    m = Qwen3VLForConditionalGeneration.from_pretrained(str(model), attn_implementation=attention_implementation(attn),
                                                        **kwargs)
    if patch_matmul:
        use_patch_matmul(m)
    return m


def add_lora(model: Any, r: int = 256, alpha: int = 512, dropout: float = 0.05, vision: bool = True):
    from peft import LoraConfig, get_peft_model

    regex = TARGET_REGEX if vision else TARGET_REGEX.split("|.*visual")[0]
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=regex, bias="none")
    return get_peft_model(model, config)


def is_adapter_dir(path: str | Path) -> bool:
    return (Path(path) / "adapter_config.json").exists()


def base_of(adapter_dir: str | Path) -> str:
    """The base model an adapter was trained on (train writes it into crowd_idm_train.json)."""
    info = Path(adapter_dir) / "crowd_idm_train.json"
    if info.exists():
        return json.loads(info.read_text())["base_model"]
    return json.loads((Path(adapter_dir) / "adapter_config.json").read_text())["base_model_name_or_path"]


def load_for_inference(path: str | Path, base: str | Path | None = None, device: str = "cpu"):
    """A model ready for generation from a merged folder, a base folder, or a LoRA adapter folder."""
    import torch

    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    if is_adapter_dir(path):
        from peft import PeftModel

        model = PeftModel.from_pretrained(load_base(base or base_of(path), dtype=dtype), str(path))
        model = model.merge_and_unload()
    else:
        model = load_base(path, dtype=dtype)
    return model.to(device).eval()


def merge_adapter(adapter_dir: str | Path, out_dir: str | Path, base: str | Path | None = None) -> Path:
    """Folds LoRA into the base weights and writes a standalone model folder (with processing files)."""
    import shutil

    model = load_for_inference(adapter_dir, base=base)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "preprocessor_config.json",
                 "chat_template.jinja", "generation_config.json", "crowd_idm_train.json"):
        src = Path(adapter_dir) / name
        if src.exists():
            shutil.copy(src, out / name)
    return out
