"""Process group and device selection for the entry points.

``torchrun --nproc_per_node K`` sets ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``: the group is initialised with gloo on
CPU and nccl on CUDA. Without them the run is a single process (rank 0 of 1). ``--gpu N`` selects CUDA device
``N`` (plus the local rank under torchrun) when CUDA is available, otherwise falls back to CPU with one warning
line; ``--gpu -1`` forces the CPU.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Context:
    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def choose_device(gpu: int, local_rank: int = 0) -> torch.device:
    """CUDA device ``gpu + local_rank`` when ``gpu >= 0`` and CUDA is available, else the CPU."""
    if gpu < 0:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        if local_rank == 0:
            print(f"warning: --gpu {gpu} requested but CUDA is not available; running on CPU", file=sys.stderr)
        return torch.device("cpu")
    return torch.device("cuda", (gpu + local_rank) % torch.cuda.device_count())


def setup(gpu: int) -> Context:
    """Initialise the process group when launched by torchrun, pick the device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = choose_device(gpu, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Context(rank, world, device)


def barrier(ctx: Context) -> None:
    if ctx.distributed:
        dist.barrier()


def cleanup(ctx: Context) -> None:
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def session(gpu: int) -> Iterator[Context]:
    """``with session(args.gpu) as ctx:`` the entry points' process group and device (:func:`setup`), torn down
    (:func:`cleanup`) however the block ends."""
    ctx = setup(gpu)
    try:
        yield ctx
    finally:
        cleanup(ctx)
