"""The trainer's logging collective runs through a backend that, like NCCL, serves one
non-CPU device type only: the first 8-GPU run stopped at step 1 because the statistics were
summed with a CPU tensor ("No backend type associated with device type cpu"); gloo accepts
any tensor, so the 2-process gloo test could not see it.

The NCCL stand-in is torch's do-nothing FakeProcessGroup registered for the "meta" device
alone, so the dispatch check that failed on the GPUs (a backend per device type) is the real
one; "meta" plays the accelerator (no data, so only the collective itself is exercised).
"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")

from crowd.idm.distributed import reduce_sums  # noqa: E402

BACKEND = "crowd_meta_only"


def _create(common_opts, backend_opts):
    from torch._C._distributed_c10d import FakeProcessGroup

    return FakeProcessGroup._create_internal(common_opts.group_rank, common_opts.group_size, backend_opts)


@pytest.fixture
def accelerator_only_group():
    if BACKEND not in dist.Backend.backend_list:
        dist.Backend.register_backend(BACKEND, _create, extended_api=True, devices=["meta"])
    dist.init_process_group(BACKEND, rank=0, world_size=1, store=dist.HashStore())
    yield torch.device("meta")
    dist.destroy_process_group()


def test_the_stand_in_refuses_cpu_tensors_like_nccl(accelerator_only_group):
    with pytest.raises(RuntimeError, match="No backend type associated with device type cpu"):
        dist.all_reduce(torch.zeros(4, dtype=torch.float64))


def test_logging_statistics_are_reduced_on_the_training_device(accelerator_only_group):
    stats = reduce_sums([1.5, 120, 4, 2], accelerator_only_group)
    assert stats.device.type == "meta" and stats.shape == (4,) and stats.dtype == torch.float64


def test_without_a_process_group_the_sums_are_local():
    assert not dist.is_initialized()
    assert reduce_sums([1.0, 2.0], torch.device("cpu")).tolist() == [1.0, 2.0]
