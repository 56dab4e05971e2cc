"""Inverse dynamics model: clips from desktop recordings, Qwen3-VL LoRA training, eval, labels."""
