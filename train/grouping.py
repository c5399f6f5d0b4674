"""Depth slabs of F-ConvNet (docs/design.md §6.1): slice depths and the query-depth-point grouping, in torch (CPU and
CUDA).

Frames: frustum frame (z along the frustum axis), metres.
"""
from __future__ import annotations

import numpy as np
import torch


def slice_depths(stride: float, max_depth: float) -> np.ndarray:
    """Camera depths (metres) of the reference centres of one scale: ``s/2 + k s < max_depth``, k = 0, 1, ..."""
    count = int(np.ceil((max_depth - stride / 2) / stride))
    depths = stride / 2 + stride * np.arange(count, dtype=np.float64)
    return depths[depths < max_depth]


def query_depth_point(points_z: torch.Tensor, centres_z: torch.Tensor, half_height: float,
                      k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For each centre, the first ``k`` points (storage order) with ``|z_p - z_c| < half_height``.

    ``points_z (B, N)``, ``centres_z (B, M)``. Returns ``idx (B, M, k)`` int64 point indices, padded by repeating
    the first hit (all 0 when the slab is empty), and ``count (B, M)`` int64 hits kept (``<= k``). No gradient.
    """
    with torch.no_grad():
        inside = (points_z[:, None, :] - centres_z[:, :, None]).abs() < half_height      # (B, M, N)
        rank = torch.cumsum(inside, dim=2, dtype=torch.int32) - 1
        keep = inside & (rank < k)
        count = keep.sum(dim=2)
        b, m, n = keep.nonzero(as_tuple=True)
        idx = torch.zeros(*keep.shape[:2], k, dtype=torch.long, device=points_z.device)
        idx[b, m, rank[b, m, n].long()] = n
        filled = torch.arange(k, device=points_z.device)[None, None, :] < count[:, :, None]
        idx = torch.where(filled, idx, idx[:, :, :1].expand_as(idx))
        return idx, count.long()
