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


def frame_overlaps(metric: str, dt: Anno, dt_off: np.ndarray, gt: Anno, gt_off: np.ndarray) -> np.ndarray:
    """Overlap matrices of all frames for ``metric`` ("2d", "bev" or "3d"), flattened.

    ``dt`` and ``gt`` hold the objects of all frames, frame ``f``'s being rows ``dt_off[f]:dt_off[f + 1]`` (and
    likewise for ``gt``). Frame ``f``'s ``(n_dt, n_gt)`` matrix, row-major, starts at ``frame_matrix_offsets(...)[f]``.
    """
    offsets = frame_matrix_offsets(dt_off, gt_off)
    if metric == "2d":
        return _image_iou_frames(dt["bbox"], dt_off, gt["bbox"], gt_off, offsets)
    if metric == "bev":
        iou, dt_boxes, gt_boxes = ops.iou_bev, bev_boxes(dt), bev_boxes(gt)
    elif metric == "3d":
        iou, dt_boxes, gt_boxes = ops.iou_3d, boxes_3d(dt), boxes_3d(gt)
    else:
        raise ValueError(f"unknown overlap metric {metric!r}; expected '2d', 'bev' or '3d'")
    values = np.zeros(offsets[-1])
    for f in np.flatnonzero(offsets[1:] > offsets[:-1]):
        matrix = iou(dt_boxes[dt_off[f]:dt_off[f + 1]], gt_boxes[gt_off[f]:gt_off[f + 1]])
        values[offsets[f]:offsets[f + 1]] = np.asarray(matrix, dtype=np.float64).reshape(-1)
    return values


def frame_matrix_offsets(dt_off: np.ndarray, gt_off: np.ndarray) -> np.ndarray:
    """Start of each frame's ``(n_dt, n_gt)`` overlap matrix in the flattened values (plus the total at the end)."""
    return np.concatenate([[0], np.cumsum(np.diff(dt_off) * np.diff(gt_off))]).astype(np.int64)
