"""CUDA module: same results as the CPU module (skipped without the CUDA build or a visible GPU)."""
from __future__ import annotations

import numpy as np
import pytest

import ops


def _skip_reason() -> str | None:
    try:
        module = ops._load("_ops_cuda")
    except ImportError as error:
        return f"CUDA ops module not built ({error})"
    return None if module.device_count() > 0 else "CUDA ops module built, but no CUDA device is visible"


_reason = _skip_reason()
pytestmark = pytest.mark.skipif(_reason is not None, reason=_reason or "")


def random_kitti(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.column_stack([rng.uniform(-5, 5, n), rng.uniform(1, 2, n), rng.uniform(5, 15, n),
                            rng.uniform(1, 2, n), rng.uniform(1, 2, n), rng.uniform(3, 5, n),
                            rng.uniform(-np.pi, np.pi, n)])


@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_cuda_matches_cpu(dtype: type, tolerance: float) -> None:
    rng = np.random.default_rng(0)
    a, b = random_kitti(rng, 700).astype(dtype), random_kitti(rng, 500).astype(dtype)
    bev_a, bev_b = a[:, [0, 2, 5, 4, 6]], b[:, [0, 2, 5, 4, 6]]
    for name, x, y in (("iou_3d", a, b), ("iou_bev", bev_a, bev_b)):
        cpu = getattr(ops, name)(x, y)
        gpu = getattr(ops, name)(x, y, device="cuda")
        assert gpu.dtype == cpu.dtype and np.abs(gpu - cpu).max() < tolerance
    assert np.abs(ops.iou_3d_pairs(a[:500], b, device="cuda") - ops.iou_3d_pairs(a[:500], b)).max() < tolerance
    assert np.all(ops.iou_bev_pairs(bev_a, bev_a, device="cuda") == 1)
    scores = rng.random(700).astype(dtype)
    np.testing.assert_array_equal(ops.nms_3d(a, scores, 0.1, device="cuda"), ops.nms_3d(a, scores, 0.1))
    np.testing.assert_array_equal(ops.nms_bev(bev_a, scores, 0.3, top_k=7, device="cuda"),
                                  ops.nms_bev(bev_a, scores, 0.3, top_k=7))
    points = np.column_stack([rng.uniform(-6, 6, 20000), rng.uniform(0, 2.5, 20000),
                              rng.uniform(4, 16, 20000)]).astype(dtype)
    np.testing.assert_array_equal(ops.points_in_boxes(points, a, device="cuda"), ops.points_in_boxes(points, a))
