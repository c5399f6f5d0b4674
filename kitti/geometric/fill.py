"""A 3D box for every 2D box: complete a frame's predicted labels with geometric boxes for the 2D boxes that got none.

The ALPI path skips some frustums (``too_few_points``, ``below_min_height``, ``too_close`` in
:mod:`kitti.frustum.engine`), so their 2D boxes have no pseudo-label. :func:`fill_labels` finds the labelled 2D boxes
(classes of :data:`kitti.priors.CLASSES`) that no predicted box of the same class matches 1:1 at 2D IoU >=
:data:`MATCH_IOU` and gives each the geometric labeller's box (a fit, or the prior along the ray), with score
``FILL_SCALE * fit-quality score`` (at most :data:`FILL_SCALE`: below the detector's confident boxes). Reads 2D labels
only.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from kitti import geometry as g
from kitti.geometric.labeller import FrameInputs, label_frame
from kitti.io.calib import Calibration
from kitti.io.labels import Label2D, ObjectLabel
from kitti.priors import CLASSES

#: a predicted box covers a 2D label of its class at this 2D IoU
MATCH_IOU = 0.7
#: fill boxes score this times their fit quality
FILL_SCALE = 0.1


def uncovered(labels: Sequence[Label2D], predicted: Sequence[ObjectLabel],
              classes: Sequence[str] = CLASSES) -> list[Label2D]:
    """The 2D labels of ``classes`` that no predicted box matches (same class, greedy 1:1 by 2D IoU, IoU >=
    :data:`MATCH_IOU`), in label order."""
    missing: list[Label2D] = []
    for class_name in classes:
        wanted = [label for label in labels if label.type == class_name]
        boxes = [p for p in predicted if p.type == class_name]
        if not wanted:
            continue
        matched = np.zeros(len(wanted), bool)
        if boxes:
            iou = g.box2d_iou(np.array([w.box2d for w in wanted]), np.array([b.box2d for b in boxes]))
            used = np.zeros(len(boxes), bool)
            for flat in np.argsort(-iou, axis=None, kind="stable"):
                i, j = np.unravel_index(flat, iou.shape)
                if iou[i, j] < MATCH_IOU:
                    break
                if not matched[i] and not used[j]:
                    matched[i] = used[j] = True
        missing.extend(w for w, m in zip(wanted, matched) if not m)
    order = {id(label): k for k, label in enumerate(labels)}
    return sorted(missing, key=lambda label: order[id(label)])


def fill_labels(calib: Calibration, image_size: tuple[int, int], points: np.ndarray, labels: Sequence[Label2D],
                predicted: Sequence[ObjectLabel]) -> list[ObjectLabel]:
    """Fill boxes (KITTI labels with score <= :data:`FILL_SCALE`) for the 2D labels ``predicted`` leaves uncovered;
    ``points (N, 3+)`` are the frame's scene points in the rect frame."""
    missing = uncovered(labels, predicted)
    if not missing:
        return []
    boxes = label_frame(FrameInputs(calib, image_size, points, missing))
    return [box.to_label(score_scale=FILL_SCALE) for box in boxes]
