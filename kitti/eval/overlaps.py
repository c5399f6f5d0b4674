"""Box overlaps for the evaluator: 2D IoU and the DontCare criterion (numba), BEV and 3D IoU (compiled ``ops``).

Every matrix is ``(n_detections, n_ground_truth)``, float64, like the reference evaluator (which calls its overlap
functions with the detections first). 2D boxes are ``x1, y1, x2, y2`` image_2 pixels with plain areas
``(x2 - x1) * (y2 - y1)`` (no +1, as the official Python evaluator). BEV boxes are ``(x, z, l, w, ry)`` and 3D boxes
the KITTI bottom-centre ``(x, y_bottom, z, h, w, l, ry)``, both in the rect camera frame (metres, radians); the 3D box
spans ``[y - h, y]`` vertically.
"""
from __future__ import annotations

import numba
import numpy as np

import ops
from kitti.eval.annos import Anno

#: criterion of :func:`box_overlap`: intersection over union
IOU = -1
#: criterion of :func:`box_overlap`: intersection over the area of the first box (DontCare test, detection first)
OVER_FIRST = 0


@numba.njit(cache=True)
def box_overlap(a: np.ndarray, b: np.ndarray, criterion: int) -> float:
    """Overlap of two 2D boxes ``(x1, y1, x2, y2)``: IoU (``criterion=-1``) or intersection / area of ``a`` (0)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    if iw <= 0:
        return 0.0
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if ih <= 0:
        return 0.0
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    if criterion == IOU:
        return iw * ih / (area_a + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih)
    return iw * ih / area_a


@numba.njit(cache=True)
def _image_iou_frames(dt_box: np.ndarray, dt_off: np.ndarray, gt_box: np.ndarray, gt_off: np.ndarray,
                      out_off: np.ndarray) -> np.ndarray:
    out = np.zeros(out_off[-1])
    for f in range(dt_off.shape[0] - 1):
        n_gt = gt_off[f + 1] - gt_off[f]
        for r in range(dt_off[f + 1] - dt_off[f]):
            for c in range(n_gt):
                out[out_off[f] + r * n_gt + c] = box_overlap(dt_box[dt_off[f] + r], gt_box[gt_off[f] + c], IOU)
    return out


def bev_boxes(anno: Anno) -> np.ndarray:
    """``(N, 5)`` BEV boxes ``(x, z, l, w, ry)`` of an anno (rect camera frame, metres, radians)."""
    loc, dims = anno["location"], anno["dimensions"]
    return np.stack([loc[:, 0], loc[:, 2], dims[:, 2], dims[:, 1], anno["rotation_y"]], axis=1)


def boxes_3d(anno: Anno) -> np.ndarray:
    """``(N, 7)`` KITTI boxes ``(x, y_bottom, z, h, w, l, ry)`` of an anno (rect camera frame)."""
    return np.concatenate([anno["location"], anno["dimensions"], anno["rotation_y"][:, None]], axis=1)


def frame_overlaps(metric: str, dt: list[Anno], gt: list[Anno]) -> tuple[np.ndarray, np.ndarray]:
    """Overlap matrices of all frames for ``metric`` ("2d", "bev" or "3d"), flattened.

    Returns ``(values, offsets)``: frame ``f``'s ``(n_dt, n_gt)`` matrix, row-major, is
    ``values[offsets[f]:offsets[f + 1]]``.
    """
    n_dt = np.array([len(a["name"]) for a in dt], dtype=np.int64)
    n_gt = np.array([len(a["name"]) for a in gt], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(n_dt * n_gt)]).astype(np.int64)
    if metric == "2d":
        dt_off = np.concatenate([[0], np.cumsum(n_dt)]).astype(np.int64)
        gt_off = np.concatenate([[0], np.cumsum(n_gt)]).astype(np.int64)
        dt_box = np.concatenate([a["bbox"] for a in dt]) if dt else np.zeros((0, 4))
        gt_box = np.concatenate([a["bbox"] for a in gt]) if gt else np.zeros((0, 4))
        return _image_iou_frames(dt_box, dt_off, gt_box, gt_off, offsets), offsets
    if metric == "bev":
        iou, to_boxes = ops.iou_bev, bev_boxes
    elif metric == "3d":
        iou, to_boxes = ops.iou_3d, boxes_3d
    else:
        raise ValueError(f"unknown overlap metric {metric!r}; expected '2d', 'bev' or '3d'")
    values = np.zeros(offsets[-1])
    for f, (d, g) in enumerate(zip(dt, gt)):
        if n_dt[f] and n_gt[f]:
            matrix = np.asarray(iou(to_boxes(d), to_boxes(g)), dtype=np.float64)
            values[offsets[f]:offsets[f + 1]] = matrix.reshape(-1)
    return values, offsets
