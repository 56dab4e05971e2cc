"""DDP: a real 2-process torchrun (gloo on CPU) trains the tiny model; both ranks end with
identical LoRA weights although each saw different clips, i.e. gradients were all-reduced."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from crowd.idm.train import StepBatches

from tests.idm.conftest import SMALL_PIXELS

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ranks_get_disjoint_batches_and_resume_at_the_same_place():
    r0 = list(StepBatches(10, 2, rank=0, world=2, seed=1, start=0, total=4))
    r1 = list(StepBatches(10, 2, rank=1, world=2, seed=1, start=0, total=4))
    for a, b in zip(r0, r1):
        assert not set(a) & set(b)
    # the first 2 steps of each rank cover the first epoch's 10 clips... minus the 2 of step 3 (5 per rank)
    assert sorted(sum(r0[:2], []) + sum(r1[:2], []) + r0[2][:1] + r1[2][:1]) == list(range(10))
    assert list(StepBatches(10, 2, 0, 2, 1, start=2, total=4)) == r0[2:]


def test_two_process_torchrun_keeps_lora_weights_identical(tiny_model, prepared, tmp_path):
    import torch

    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), "-m", "crowd.idm.train", "--model", str(tiny_model), "--data",
           str(prepared), "--out", str(out), "--steps", "3", "--lr", "1e-2", "--warmup", "1", "--decay", "1",
           "--batch-size", "1", "--log-every", "1", "--max-pixels", str(SMALL_PIXELS), "--loader-workers", "0",
           "--lora-r", "8", "--lora-alpha", "16", "--dump-rank-weights"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    w0 = torch.load(out / "rank0_lora.pt")
    w1 = torch.load(out / "rank1_lora.pt")
    assert w0.keys() == w1.keys() and len(w0) > 0
    assert all(torch.equal(w0[k], w1[k]) for k in w0)
    # training moved the weights (LoRA B starts at zero), so equality is not trivial
    assert any(float(v.abs().sum()) > 0 for k, v in w0.items() if "lora_B" in k)
    log = (out / "train_log.jsonl").read_text().splitlines()
    assert len(log) == 3 and all('"world": 2' in line for line in log)
