"""Process-group set-up and the one collective the trainer's logging needs.

Why a module of its own: on CUDA the process group is NCCL, and NCCL has a backend for CUDA
tensors only. The first multi-GPU run died at step 1 because the logging statistics were
summed with a CPU tensor ("No backend type associated with device type cpu"); the DDP test
uses gloo on CPU, which takes any tensor, so it could not see it. Every collective here takes
the training device explicitly, and tests/idm/test_distributed.py runs it through a backend
that, like NCCL, is registered for a non-CPU device type only.
"""
from __future__ import annotations

import os
from typing import Any


def dist_env() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) outside it."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0))


def under_torchrun() -> bool:
    """torchrun (torch.distributed.run) sets TORCHELASTIC_RUN_ID; a one-rank torchrun run still
    initialises the process group, so the GPU check exercises NCCL with a single GPU."""
    return "TORCHELASTIC_RUN_ID" in os.environ


def init_distributed(cuda: bool, local_rank: int) -> bool:
    """Initialises the default process group when launched by torchrun or with WORLD_SIZE > 1.

    NCCL on CUDA (bound to this rank's GPU), gloo on CPU. Returns whether one is active.
    """
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return True
    if not under_torchrun() and dist_env()[1] <= 1:
        return False
    if cuda:
        dist.init_process_group("nccl", device_id=torch.device(f"cuda:{local_rank}"))
    else:
        dist.init_process_group("gloo")
    return True


def reduce_sums(values: list[float], device: Any) -> Any:
    """Sums `values` over all ranks; the tensor lives on the training `device` (the only device
    NCCL accepts) and the reduced tensor is returned there. Without a process group it is
    returned as is."""
    import torch
    import torch.distributed as dist

    stats = torch.tensor(values, dtype=torch.float64, device=device)
    if dist.is_initialized():
        dist.all_reduce(stats)
    return stats
