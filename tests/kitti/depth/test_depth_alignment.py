"""Robust depth-to-LiDAR fits on the synthetic world's monocular-like depth (known per-frame scale error)."""
from __future__ import annotations

import numpy as np
import pytest

from kitti.depth.alignment import DepthAlignment, align_depth, apply_alignment, lidar_depth_pairs
from kitti.depth.point_source import lidar_points
from kitti.io.dataset import KittiDataset


@pytest.fixture(scope="module")
def mono_frame(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """One synthetic frame with the mono error model: (depth map, its true scale error, LiDAR rect points, P2)."""
    from kitti.synthetic.generate import generate_dataset

    root = tmp_path_factory.mktemp("synthetic_mono")
    generate_dataset(root, 1, seed=5, val_fraction=0.0, workers=1, depth_error="mono")
    dataset = KittiDataset(root)
    calib = dataset.calib(0)
    arrays = dataset.depth(0)
    lidar = lidar_points(dataset.velodyne(0), calib, arrays["depth"].shape)
    return arrays["depth"], float(arrays["mono_scale"]), lidar, calib.P2


def test_scale_recovered_from_mono_depth(mono_frame: tuple) -> None:
    depth, mono_scale, lidar, P = mono_frame
    fit = align_depth(depth, lidar, P, "scale")
    assert fit.scale == pytest.approx(1.0 / mono_scale, rel=0.01)
    assert fit.pairs > 5000 and fit.inliers > 0.9 * fit.pairs
    assert fit.abs_rel_after <= fit.abs_rel_before + 1e-9 and fit.abs_rel_after < 0.03
    # a further known scale is recovered on top
    fit2 = align_depth(depth * 1.3, lidar, P, "scale")
    assert fit2.scale == pytest.approx(fit.scale / 1.3, rel=1e-3)


def test_scale_and_inverse_shift_recovered(mono_frame: tuple) -> None:
    depth, mono_scale, lidar, P = mono_frame
    # relative prediction: 1/D2 = 0.5/D + 0.02 with D ~ mono_scale * true depth
    d64 = depth.astype(np.float64)
    relative = np.where(d64 > 0, 1.0 / (0.5 / np.where(d64 > 0, d64, 1.0) + 0.02), 0.0)
    fit = align_depth(relative, lidar, P, "scale_shift_inv")
    a_true, b_true = 2.0 * mono_scale, -0.04 * mono_scale  # 1/true = a/D2 + b
    assert fit.scale == pytest.approx(a_true, rel=0.02)
    assert fit.shift == pytest.approx(b_true, abs=2e-3)
    assert fit.abs_rel_before > 0.2 and fit.abs_rel_after < 0.03
    scale_only = align_depth(relative, lidar, P, "scale")
    assert scale_only.abs_rel_after > 2 * fit.abs_rel_after  # a scale cannot undo a shift in inverse depth


def test_fit_is_robust_to_outlier_pairs(mono_frame: tuple) -> None:
    depth, mono_scale, lidar, P = mono_frame
    d, z = lidar_depth_pairs(depth, lidar, P)
    rng = np.random.default_rng(0)
    corrupt = depth.copy()
    height, width = depth.shape
    # 25 % of the pixels get an unrelated depth (occlusion-like outliers)
    mask = rng.random((height, width)) < 0.25
    corrupt[mask & (depth > 0)] = rng.uniform(1, 80, (mask & (depth > 0)).sum())
    fit = align_depth(corrupt, lidar, P, "scale")
    assert fit.scale == pytest.approx(1.0 / mono_scale, rel=0.015)
    assert fit.inliers < 0.9 * fit.pairs and len(d) == len(z) == fit.pairs


def test_apply_and_errors(mono_frame: tuple) -> None:
    depth, _, lidar, P = mono_frame
    fit = DepthAlignment("scale_shift_inv", 1.0, 0.5, 100, 100, 0.0, 0.0, 0.0)
    out = fit.apply(np.array([0.0, 1.0, 4.0]))  # 1/(1/1 + .5), 1/(1/4 + .5)
    np.testing.assert_allclose(out, [0.0, 1 / 1.5, 1 / 0.75], rtol=1e-6)
    assert apply_alignment(np.array([1.0]), "scale_shift_inv", 1.0, -2.0)[0] == 0.0  # non-positive inverse: none
    with pytest.raises(ValueError, match="only 0 LiDAR points"):
        align_depth(np.zeros_like(depth), lidar, P)
    with pytest.raises(ValueError, match="alignment model"):
        align_depth(depth, lidar, P, "affine")
