"""Rotated BEV / 3D IoU (ops.iou_bev, iou_3d and the pairwise variants) against shapely and hand-made cases."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
import torch

import ops
from kitti.geometry import box3d_corners


def bev_to_kitti(bev: np.ndarray) -> np.ndarray:
    """BEV ``(x, z, l, w, ry)`` -> KITTI ``(x, 0, z, 1, w, l, ry)`` (same ground rectangle, unit height)."""
    x, z, l, w, ry = np.asarray(bev, dtype=np.float64).T
    return np.stack([x, np.zeros_like(x), z, np.ones_like(x), w, l, ry], axis=1)


def shapely_polygons(kitti_boxes: np.ndarray) -> np.ndarray:
    """Ground rectangles of KITTI boxes from the project's corner formula (kitti.geometry.box3d_corners)."""
    return shapely.polygons(box3d_corners(kitti_boxes)[:, :4][:, :, [0, 2]])


def shapely_iou_3d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise (broadcast) 3D IoU of KITTI boxes with shapely ground intersections."""
    pa, pb = shapely_polygons(a.reshape(-1, 7)).reshape(a.shape[:-1]), shapely_polygons(b.reshape(-1, 7)).reshape(
        b.shape[:-1])
    inter_area = shapely.area(shapely.intersection(pa, pb))
    overlap = np.clip(np.minimum(a[..., 1], b[..., 1]) - np.maximum(a[..., 1] - a[..., 3], b[..., 1] - b[..., 3]),
                      0, None)
    inter = inter_area * overlap
    union = shapely.area(pa) * a[..., 3] + shapely.area(pb) * b[..., 3] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def shapely_iou_bev(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return shapely_iou_3d(bev_to_kitti(a.reshape(-1, 5)).reshape(*a.shape[:-1], 7),
                          bev_to_kitti(b.reshape(-1, 5)).reshape(*b.shape[:-1], 7))


def random_bev(rng: np.random.Generator, n: int, spread: float = 2.0) -> np.ndarray:
    """Boxes around the origin (most pairs overlap), a third of them with right-angle headings and a few slivers."""
    ry = rng.uniform(-np.pi, np.pi, n)
    right = rng.random(n) < 0.3
    ry[right] = rng.integers(-2, 3, right.sum()) * (np.pi / 2)
    l, w = rng.uniform(0.3, 6.0, n), rng.uniform(0.3, 3.0, n)
    thin = rng.random(n) < 0.05
    w[thin] = 1e-3
    return np.stack([rng.uniform(-spread, spread, n), rng.uniform(-spread, spread, n), l, w, ry], axis=1)


def random_kitti(rng: np.random.Generator, n: int) -> np.ndarray:
    bev = random_bev(rng, n)
    y_bottom, h = rng.uniform(1.0, 2.5, n), rng.uniform(0.5, 2.5, n)
    return np.stack([bev[:, 0], y_bottom, bev[:, 1], h, bev[:, 3], bev[:, 2], bev[:, 4]], axis=1)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


def test_bev_matches_shapely_float64(rng: np.random.Generator) -> None:
    a, b = random_bev(rng, 4000), random_bev(rng, 4000)
    expected = shapely_iou_bev(a, b)
    assert (expected > 0).mean() > 0.5  # mostly overlapping pairs, so the clipping is exercised
    assert np.abs(ops.iou_bev_pairs(a, b) - expected).max() < 1e-6
    matrix = ops.iou_bev(a[:80], b[:70])
    assert matrix.shape == (80, 70) and matrix.dtype == np.float64
    assert np.abs(matrix - shapely_iou_bev(a[:80, None], b[None, :70])).max() < 1e-6


def test_3d_matches_shapely_float64(rng: np.random.Generator) -> None:
    a, b = random_kitti(rng, 4000), random_kitti(rng, 4000)
    expected = shapely_iou_3d(a, b)
    assert (expected > 0).mean() > 0.3
    assert np.abs(ops.iou_3d_pairs(a, b) - expected).max() < 1e-6
    matrix = ops.iou_3d(a[:60], b[:90])
    assert matrix.shape == (60, 90)
    assert np.abs(matrix - shapely_iou_3d(a[:60, None], b[None, :90])).max() < 1e-6


def test_float32_matches_shapely_and_keeps_dtype(rng: np.random.Generator) -> None:
    a, b = random_bev(rng, 2000), random_bev(rng, 2000)
    a[:, :2] += 40.0  # far from the camera: the local frame keeps float32 accurate
    b[:, :2] += 40.0
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    ious = ops.iou_bev_pairs(a32, b32)
    assert ious.dtype == np.float32
    assert np.abs(ious - shapely_iou_bev(a32.astype(np.float64), b32.astype(np.float64))).max() < 1e-4
    k32 = random_kitti(rng, 500).astype(np.float32)
    k32b = random_kitti(rng, 500).astype(np.float32)
    ious3 = ops.iou_3d(k32, k32b)
    assert ious3.dtype == np.float32
    expected = shapely_iou_3d(k32.astype(np.float64)[:, None], k32b.astype(np.float64)[None])
    assert np.abs(ious3 - expected).max() < 1e-4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_identical_boxes_give_exactly_one(rng: np.random.Generator, dtype: type) -> None:
    bev = random_bev(rng, 2000)
    bev[:, :2] *= 20
    bev = bev[bev[:, 3] > 0.01].astype(dtype)
    assert np.all(ops.iou_bev_pairs(bev, bev) == 1)
    kitti = random_kitti(rng, 2000).astype(dtype)
    kitti = kitti[kitti[:, 4] > 0.01]
    assert np.all(ops.iou_3d_pairs(kitti, kitti) == 1)
    assert np.all(np.diag(ops.iou_3d(kitti[:100], kitti[:100])) == 1)


def iou1(a: list[float], b: list[float]) -> float:
    return float(ops.iou_bev([a], [b])[0, 0])


@pytest.mark.parametrize("ry", [0.0, 0.3, np.pi / 2, -2.0])
def test_hand_made_cases(ry: float) -> None:
    c, s = np.cos(ry), np.sin(ry)
    along = np.array([c, -s])    # length axis in (x, z)
    across = np.array([s, c])    # width axis
    centre = np.array([12.0, 30.0])

    def box(offset_along: float, offset_across: float, l: float, w: float, heading: float = ry) -> list[float]:
        x, z = centre + offset_along * along + offset_across * across
        return [x, z, l, w, heading]

    # touching edges: zero area in common
    assert iou1(box(0, 0, 4, 2), box(4, 0, 4, 2)) == pytest.approx(0, abs=1e-12)
    assert iou1(box(0, 0, 4, 2), box(0, 2, 4, 2)) == pytest.approx(0, abs=1e-12)
    # collinear edges, shifted along the length: 3 x 2 in common
    assert iou1(box(0, 0, 4, 2), box(1, 0, 4, 2)) == pytest.approx(6 / 10, abs=1e-12)
    # one inside the other, sharing an edge line
    assert iou1(box(0, 0, 4, 2), box(1, 0, 2, 2)) == pytest.approx(4 / 8, abs=1e-12)
    assert iou1(box(0, 0, 4, 2), box(0.5, 0.2, 1, 1)) == pytest.approx(1 / 8, abs=1e-12)
    # 90 degree turns: a square is unchanged, a 4 x 2 rectangle keeps a 2 x 2 core
    assert iou1(box(0, 0, 3, 3), box(0, 0, 3, 3, ry + np.pi / 2)) == pytest.approx(1, abs=1e-12)
    assert iou1(box(0, 0, 4, 2), box(0, 0, 4, 2, ry + np.pi / 2)) == pytest.approx(4 / 12, abs=1e-12)
    assert iou1(box(0, 0, 4, 2), box(0, 0, 4, 2, ry + np.pi)) == pytest.approx(1, abs=1e-12)
    # near-duplicates
    assert iou1(box(0, 0, 4, 2), box(1e-12, -1e-12, 4, 2, ry + 1e-13)) == pytest.approx(1, abs=1e-9)
    # far apart
    assert iou1(box(0, 0, 4, 2), box(100, 0, 4, 2)) == 0


def test_degenerate_boxes_give_zero_without_nan() -> None:
    unit = [0.0, 0.0, 2.0, 2.0, 0.3]
    for empty in ([0.0, 0.0, 0.0, 2.0, 0.3], [0.0, 0.0, 2.0, 0.0, 0.3], [0.0, 0.0, 0.0, 0.0, 0.0],
                  [0.0, 0.0, -1.0, -1.0, 0.0]):
        assert iou1(unit, empty) == 0 and iou1(empty, unit) == 0 and iou1(empty, empty) == 0
    box = [1.0, 1.5, 10.0, 1.5, 1.6, 3.9, 0.2]
    for flat in ([1.0, 1.5, 10.0, 0.0, 1.6, 3.9, 0.2], [1.0, 1.5, 10.0, -1.0, -1.0, -1.0, 0.0]):
        result = ops.iou_3d([box, flat], [box, flat])
        assert np.array_equal(result, [[1, 0], [0, 0]])
    # stacked: same ground rectangle, vertically touching or disjoint
    above = [1.0, 0.0, 10.0, 1.0, 1.6, 3.9, 0.2]
    assert ops.iou_3d([box], [above])[0, 0] == 0
    half = [1.0, 1.5, 10.0, 0.75, 1.6, 3.9, 0.2]
    assert ops.iou_3d([box], [half])[0, 0] == pytest.approx(0.5, abs=1e-12)


def test_iou_is_symmetric(rng: np.random.Generator) -> None:
    a, b = random_kitti(rng, 300), random_kitti(rng, 200)
    assert np.abs(ops.iou_3d(a, b) - ops.iou_3d(b, a).T).max() < 1e-12


def test_inputs_conversions_and_empty_sets() -> None:
    box = [[0.0, 0.0, 4.0, 2.0, 0.0]]
    assert ops.iou_bev(torch.tensor(box), torch.tensor(box)).dtype == np.float32
    assert ops.iou_bev(np.array(box, dtype=np.float32), np.array(box)).dtype == np.float64
    assert ops.iou_bev([[0, 0, 4, 2, 0]], [[0, 0, 4, 2, 0]])[0, 0] == 1  # ints -> float64
    fortran = np.asfortranarray(np.tile(np.array(box), (3, 1)))
    assert np.all(ops.iou_bev(fortran, box) == 1)
    assert ops.iou_bev(np.zeros((0, 5)), box).shape == (0, 1)
    assert ops.iou_3d([], np.zeros((4, 7))).shape == (0, 4)
    assert ops.iou_bev_pairs(np.zeros((0, 5)), np.zeros((0, 5))).shape == (0,)


@pytest.mark.parametrize("call, message", [
    (lambda: ops.iou_bev(np.zeros((2, 7)), np.zeros((2, 5))), r"a: expected shape \(N, 5\)"),
    (lambda: ops.iou_3d(np.zeros((2, 7)), np.zeros(7)), r"b: expected shape \(N, 7\)"),
    (lambda: ops.iou_bev([[np.nan, 0, 1, 1, 0]], [[0, 0, 1, 1, 0]]), "NaN or infinite"),
    (lambda: ops.iou_3d_pairs(np.zeros((2, 7)), np.full((2, 7), np.inf)), "NaN or infinite"),
    (lambda: ops.iou_bev_pairs(np.zeros((2, 5)), np.zeros((3, 5))), "same number of boxes"),
    (lambda: ops.iou_bev([["a"] * 5], [[0] * 5]), "real numeric"),
    (lambda: ops.iou_bev(np.zeros((1, 5)), np.zeros((1, 5)), device="tpu"), "device must be"),
])
def test_invalid_inputs_raise_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
