"""The GPU check script (bench/idm_gpu.py) runs end to end in its shrunken CPU shape: throughput
harness, the real training loop under a one-rank torchrun (gloo here, NCCL on a GPU) with a
falling loss, and generation with the KV cache. Keeps the script from rotting between GPU sessions."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_gpu_check_runs_shrunken_on_cpu(capsys):
    from bench.idm_gpu import main

    assert main(["--shrink"]) == 0
    out = capsys.readouterr().out
    assert "torchrun 1 rank (gloo)" in out and "(falls)" in out and "new tokens/s" in out
