"""ops.nms_bev / nms_3d against a brute-force greedy reference, ops.points_in_boxes against
kitti.geometry.points_in_boxes_mask."""
from __future__ import annotations

import numpy as np
import pytest

import ops
from kitti.geometry import points_in_boxes_mask


def reference_nms(iou: np.ndarray, scores: np.ndarray, threshold: float, top_k: int | None = None) -> np.ndarray:
    """Greedy NMS on a full IoU matrix: descending score (stable), suppress IoU > threshold."""
    keep: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if all(iou[i, k] <= threshold for k in keep):
            keep.append(int(i))
    return np.array(keep[:top_k], dtype=np.int64)


def clustered_kitti(rng: np.random.Generator, n: int) -> np.ndarray:
    """Detection-like sets: jittered copies of a few objects, so that NMS has work to do."""
    centres = rng.uniform([-10, 1.2, 5, 1.4, 1.5, 3.5, -np.pi], [10, 1.8, 40, 1.7, 1.8, 4.5, np.pi], (n // 8 + 1, 7))
    boxes = centres[rng.integers(0, len(centres), n)]
    jitter = rng.normal(0, [0.5, 0.1, 0.5, 0.1, 0.1, 0.3, 0.2], (n, 7))
    return boxes + jitter


def kitti_to_bev(boxes: np.ndarray) -> np.ndarray:
    return boxes[:, [0, 2, 5, 4, 6]]


@pytest.mark.parametrize("threshold", [0.0, 0.1, 0.5, 0.7])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nms_matches_brute_force(threshold: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    boxes = clustered_kitti(rng, 300)
    scores = np.round(rng.random(300), 2)  # ties: the lower index goes first
    for nms, iou, b in ((ops.nms_3d, ops.iou_3d, boxes), (ops.nms_bev, ops.iou_bev, kitti_to_bev(boxes))):
        expected = reference_nms(iou(b, b), scores, threshold)
        kept = nms(b, scores, threshold)
        assert kept.dtype == np.int64
        np.testing.assert_array_equal(kept, expected)
        np.testing.assert_array_equal(nms(b, scores, threshold, top_k=5), expected[:5])


def test_nms_float32_and_edge_cases() -> None:
    rng = np.random.default_rng(3)
    boxes = clustered_kitti(rng, 200)
    scores = rng.random(200)
    b32, s32 = boxes.astype(np.float32), scores.astype(np.float32)
    expected = reference_nms(ops.iou_3d(b32, b32), s32, 0.1)
    np.testing.assert_array_equal(ops.nms_3d(b32, s32, 0.1), expected)
    assert ops.nms_3d(np.zeros((0, 7)), np.zeros(0), 0.1).shape == (0,)
    assert ops.nms_bev(kitti_to_bev(boxes), scores, 0.5, top_k=0).shape == (0,)
    # identical boxes: IoU 1 is > 0.99 (suppressed) but not > 1.0 (kept)
    same = np.tile([[0.0, 0.0, 4.0, 2.0, 0.1]], (3, 1))
    np.testing.assert_array_equal(ops.nms_bev(same, [0.2, 0.9, 0.5], 0.99), [1])
    np.testing.assert_array_equal(ops.nms_bev(same, [0.2, 0.9, 0.5], 1.0), [1, 2, 0])


@pytest.mark.parametrize("call, message", [
    (lambda: ops.nms_bev(np.zeros((3, 5)), np.zeros(2), 0.5), r"scores: expected shape \(3,\)"),
    (lambda: ops.nms_bev(np.zeros((3, 5)), np.zeros(3), float("nan")), "threshold"),
    (lambda: ops.nms_3d(np.zeros((3, 7)), np.zeros(3), 0.1, top_k=-1), "top_k"),
    (lambda: ops.nms_3d(np.zeros((3, 7)), np.zeros(3), 0.1, top_k=1.5), "top_k"),
    (lambda: ops.nms_3d(np.zeros((3, 7)), [0, np.nan, 0], 0.1), "NaN"),
])
def test_nms_invalid_inputs(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def reference_points_in_boxes(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    mask = points_in_boxes_mask(points, boxes)
    return np.where(mask.any(axis=1), mask.argmax(axis=1), -1)


def test_points_in_boxes_matches_numpy_reference() -> None:
    rng = np.random.default_rng(4)
    boxes = clustered_kitti(rng, 40)  # overlapping boxes: the lowest index wins
    boxes[:, 3:6] = np.abs(boxes[:, 3:6])
    points = np.column_stack([rng.uniform(-12, 12, 50000), rng.uniform(-1, 2.5, 50000), rng.uniform(3, 42, 50000),
                              rng.random(50000)])  # a fourth (intensity) column is ignored
    expected = reference_points_in_boxes(points, boxes)
    assert (expected >= 0).sum() > 500
    result = ops.points_in_boxes(points, boxes)
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, expected)
    result32 = ops.points_in_boxes(points.astype(np.float32), boxes.astype(np.float32))
    assert (result32 != expected).mean() < 1e-3  # float32: only points within ~1e-6 m of a face may differ


def test_points_on_faces_are_inside() -> None:
    box = np.array([[1.0, 2.0, 10.0, 1.5, 2.0, 4.0, 0.0]])  # x in [-1, 3], y in [0.5, 2], z in [9, 11]
    on_faces = np.array([[3.0, 1.0, 10.0], [-1.0, 1.0, 10.0], [1.0, 2.0, 9.0], [1.0, 0.5, 11.0], [3.0, 2.0, 11.0]])
    outside = on_faces + np.array([[1e-9, 0, 0], [-1e-9, 0, 0], [0, 1e-9, 0], [0, -1e-9, 0], [0, 0, 1e-9]])
    np.testing.assert_array_equal(ops.points_in_boxes(on_faces, box), [0] * 5)
    np.testing.assert_array_equal(ops.points_in_boxes(outside, box), [-1] * 5)
    np.testing.assert_array_equal(reference_points_in_boxes(on_faces, box), [0] * 5)


def test_points_in_boxes_empty_and_invalid() -> None:
    assert np.array_equal(ops.points_in_boxes(np.zeros((4, 3)), np.zeros((0, 7))), [-1] * 4)
    assert ops.points_in_boxes(np.zeros((0, 3)), np.zeros((2, 7))).shape == (0,)
    with pytest.raises(ValueError, match=r"points: expected shape \(N, 3\+\)"):
        ops.points_in_boxes(np.zeros((4, 2)), np.zeros((1, 7)))
    with pytest.raises(ValueError, match=r"boxes: expected shape \(N, 7\)"):
        ops.points_in_boxes(np.zeros((4, 3)), np.zeros((1, 5)))
    with pytest.raises(ValueError, match="NaN"):
        ops.points_in_boxes(np.full((4, 3), np.nan), np.zeros((1, 7)))
