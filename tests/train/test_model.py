"""Grouping (first-K semantics, padding, empty slabs) against a brute-force reference; model size and shapes."""
from __future__ import annotations

import numpy as np
import torch

from tests.train.fixtures import tiny_config
from train.config import load_config
from train.grouping import query_depth_point, slice_depths
from train.model import FConvNet, split_regression


def test_query_depth_point_matches_brute_force() -> None:
    gen = torch.Generator().manual_seed(0)
    pz = torch.rand(3, 200, generator=gen) * 20
    cz = torch.tensor(slice_depths(1.0, 25.0), dtype=torch.float32).expand(3, -1).contiguous()
    idx, count = query_depth_point(pz, cz, 0.5, 8)
    for b in range(3):
        for m in range(cz.shape[1]):
            hits = [n for n in range(200) if abs(pz[b, n] - cz[b, m]) < 0.5]
            kept = hits[:8]
            assert count[b, m] == len(kept)
            expected = kept + [kept[0] if kept else 0] * (8 - len(kept))
            assert idx[b, m].tolist() == expected


def test_slice_depths() -> None:
    assert len(slice_depths(0.25, 70)) == 280 and len(slice_depths(2.0, 70)) == 35
    assert np.allclose(slice_depths(0.5, 70)[:3], [0.25, 0.75, 1.25])


def test_paper_model_parameter_count() -> None:
    model = FConvNet(load_config(None, ["model.quality_head=false"]))
    assert sum(p.numel() for p in model.parameters()) == 3_316_777  # docs/design.md §6.2, 3 classes
    with_head = FConvNet(load_config(None))  # + the quality head: one 1x1 conv on the 3 x 256 head input
    assert sum(p.numel() for p in with_head.parameters()) == 3_316_777 + 3 * 256 + 1


def test_forward_shapes_and_empty_slabs() -> None:
    cfg = tiny_config()
    model = FConvNet(cfg).eval()
    b, n = 2, cfg.data.num_samples
    batch = {"points": torch.rand(b, 3, n) * torch.tensor([1.0, 1.0, 10.0])[None, :, None],
             "one_hot": torch.eye(3)[:b]}
    for s, stride in enumerate(cfg.data.strides):
        z = torch.tensor(slice_depths(stride, cfg.data.max_depth), dtype=torch.float32)
        batch[f"ref{s}"] = torch.stack([torch.zeros_like(z), torch.zeros_like(z), z])[None].expand(b, -1, -1)
    out = model(batch)
    assert out["cls"].shape == (b, 36, 2) and out["reg"].shape == (b, 36, 3 + 24 + 12)
    assert out["quality"].shape == (b, 36)
    parts = split_regression(out["reg"], 12)
    assert parts["size_res"].shape == (b, 36, 3, 3)
    # slabs beyond the points are empty: their PointNet features are zero (only the one-hot remains)
    feats = model.pointnets[0](batch["points"], batch["ref0"], batch["one_hot"])
    assert torch.all(feats[:, :-3, 20:] == 0)
