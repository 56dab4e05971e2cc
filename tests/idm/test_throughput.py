"""The throughput harness used for the GPU figures runs (here on CPU, tiny preset)."""
from __future__ import annotations


def test_throughput_harness_runs_a_real_training_step_on_cpu():
    from crowd.idm.throughput import measure

    t = measure("tiny", max_pixels=128 * 96, seq_len=400, batch=2, steps=2, warmup=1, lora_r=8, lora_alpha=16)
    assert t.device == "cpu" and t.samples_per_s > 0 and t.tokens_per_s > t.samples_per_s
    assert 0 < t.trainable < t.params and t.tokens_per_sample > 10 * 12  # ten 128x96 frames = 120 image tokens
    assert t.mfu is None and t.peak_mem_gib is None  # no CUDA here: not invented
