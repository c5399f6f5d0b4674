"""One-to-one pairing of predictions with ground-truth boxes by their 2D boxes (the error budget's matching).

Unlike the AP protocol (:mod:`kitti.eval.matching`), this pairing ignores scores and difficulty: it answers "which
ground-truth object does this label describe?". Pairs are taken greedily, highest 2D IoU first, and a pair needs
``IoU >= min_iou``. 2D boxes are ``x1, y1, x2, y2`` image_2 pixels.
"""
from __future__ import annotations

import numpy as np

from kitti.geometry import box2d_iou

#: 2D IoU a prediction needs with a ground-truth box to count as its label (the coverage criterion)
PAIR_MIN_IOU = 0.7


def pair_by_2d_iou(gt_boxes: np.ndarray, pred_boxes: np.ndarray,
                   min_iou: float = PAIR_MIN_IOU) -> tuple[np.ndarray, np.ndarray]:
    """Pair ground-truth ``(N, 4)`` and predicted ``(M, 4)`` 2D boxes one to one.

    Greedy on the IoU matrix: the remaining pair of highest IoU is taken while it is ``>= min_iou`` (ties: lower
    ground-truth index, then lower prediction index). Returns ``(gt_index, pred_index)``, int64 arrays of equal
    length, sorted by ground-truth index.
    """
    iou = box2d_iou(gt_boxes, pred_boxes)
    if iou.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows, cols = np.nonzero(iou >= min_iou)
    order = np.lexsort((cols, rows, -iou[rows, cols]))
    gt_used = np.zeros(iou.shape[0], dtype=bool)
    pred_used = np.zeros(iou.shape[1], dtype=bool)
    pairs = []
    for k in order:
        g, p = rows[k], cols[k]
        if not gt_used[g] and not pred_used[p]:
            gt_used[g] = pred_used[p] = True
            pairs.append((g, p))
    pairs.sort()
    gt_index = np.array([g for g, _ in pairs], dtype=np.int64)
    pred_index = np.array([p for _, p in pairs], dtype=np.int64)
    return gt_index, pred_index
