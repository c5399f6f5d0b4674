"""Box coding round trips (heading bins, size anchors, KITTI <-> frustum frame) and corner order."""
from __future__ import annotations

import math

import numpy as np
import torch

from kitti import geometry as g
from train.box_coding import (
    box_corners,
    decode_heading,
    decode_size,
    encode_heading,
    encode_size,
    frustum_to_kitti,
    kitti_to_frustum,
)


def test_heading_round_trip_and_ranges() -> None:
    theta = torch.linspace(-3 * math.pi, 3 * math.pi, 2001, dtype=torch.float64)
    bins, res = encode_heading(theta, 12)
    assert bins.min() >= 0 and bins.max() <= 11 and res.min() >= -1 and res.max() < 1
    back = decode_heading(bins, res, 12)
    assert torch.allclose(torch.remainder(back - theta + math.pi, 2 * math.pi) - math.pi,
                          torch.zeros_like(theta), atol=1e-9)
    assert back.max() <= math.pi and back.min() > -math.pi
    assert encode_heading(torch.tensor([0.0]), 12)[0].item() == 0  # bin 0 is centred on 0


def test_size_round_trip() -> None:
    size = torch.tensor([[4.2, 1.7, 1.5], [0.7, 0.6, 1.8], [1.8, 0.6, 1.7]], dtype=torch.float64)
    cls = torch.tensor([0, 1, 2])
    assert torch.allclose(decode_size(encode_size(size, cls), cls), size)
    assert torch.allclose(decode_size(torch.zeros(3, 3, dtype=torch.float64), cls)[0],
                          torch.tensor([3.8831, 1.6286, 1.5256], dtype=torch.float64))


def test_kitti_frustum_round_trip_and_corners() -> None:
    rng = np.random.default_rng(0)
    boxes = np.column_stack([rng.uniform(-15, 15, 50), rng.uniform(0.5, 2.5, 50), rng.uniform(5, 60, 50),
                             rng.uniform(1.4, 1.9, 50), rng.uniform(0.5, 2, 50), rng.uniform(0.5, 5, 50),
                             rng.uniform(-math.pi, math.pi, 50)])
    angles = rng.uniform(-2.2, -0.9, 50)
    parts = [kitti_to_frustum(b, a) for b, a in zip(boxes, angles)]
    centre = np.array([p[0] for p in parts])
    heading = np.array([p[1] for p in parts])
    size = np.array([p[2] for p in parts])
    back = frustum_to_kitti(centre, heading, size, angles)
    assert np.allclose(back[:, :6], boxes[:, :6], atol=1e-9)
    assert np.allclose(g.wrap_angle(back[:, 6] - boxes[:, 6]), 0, atol=1e-9)
    # corners in the frustum frame, rotated back, equal kitti.geometry's corners of the original boxes
    corners = box_corners(torch.as_tensor(centre), torch.as_tensor(size), torch.as_tensor(heading)).numpy()
    rect = np.stack([g.rotate_from_center(c, a) for c, a in zip(corners, angles)])
    assert np.allclose(rect, g.box3d_corners(boxes), atol=1e-9)
