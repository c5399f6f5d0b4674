"""Per-box review metrics, each a number a reviewer can check.

Suspicion: four components in ``[0, 1]`` (1 = most suspect), averaged into one ranking key. None of them reads
ground truth:

* ``score``: ``1 - score`` (a box without a score counts as score 0);
* ``iou2d``: ``1 - IoU`` of the projected 3D box's hull (clipped to the image) and the label's own 2D box;
* ``size``: the largest deviation of ``(l, w, h)`` from the class mean size in units of the class size std
  (:data:`kitti.priors.MEAN_SIZE`, :data:`kitti.priors.SIZE_STD`), divided by 3 and capped at 1 (0 for classes
  without a prior);
* ``points``: ``1 - log(1 + n) / log(1 + 50)`` for ``n`` points inside the box (0 from 50 points; 0.5 when the
  point count is unknown).

Ground truth is used only for display: :func:`gt_match_iou` gives each box's 3D IoU to the best ground-truth box
of its class.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

import ops
from kitti import geometry as g
from kitti.io.labels import ObjectLabel
from kitti.priors import MEAN_SIZE, SIZE_STD

COMPONENTS: tuple[str, ...] = ("score", "iou2d", "size", "points")
#: point count at which the ``points`` component reaches 0
ENOUGH_POINTS = 50
#: ground-truth classes a box of each class is matched against
GT_CLASSES: dict[str, tuple[str, ...]] = {"Car": ("Car",), "Pedestrian": ("Pedestrian",), "Cyclist": ("Cyclist",)}


def size_deviation(label: ObjectLabel) -> float:
    """Largest ``|size - mean| / std`` over ``(l, w, h)`` for the label's class; 0 without a class prior."""
    if label.type not in MEAN_SIZE:
        return 0.0
    h, w, l = label.dims
    return max(abs(v - m) / s for v, m, s in zip((l, w, h), MEAN_SIZE[label.type], SIZE_STD[label.type]))


def suspicion_components(label: ObjectLabel, projected_iou: float, points: int | None) -> dict[str, float]:
    """The four components (see the module docstring); ``points`` None = unknown point count."""
    points_part = 0.5 if points is None else max(0.0, 1.0 - math.log1p(points) / math.log1p(ENOUGH_POINTS))
    return {"score": 1.0 - float(label.score or 0.0),
            "iou2d": 1.0 - float(projected_iou),
            "size": min(1.0, size_deviation(label) / 3.0),
            "points": points_part}


def suspicion(components: dict[str, float]) -> float:
    """The ranking key: the mean of the components (0 = nothing suspect, 1 = everything suspect)."""
    return float(np.mean([components[name] for name in COMPONENTS]))


def projected_iou(labels: Sequence[ObjectLabel], P2: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """IoU ``(N,)`` of each label's projected 3D box hull (clipped to ``image_size = (H, W)``) with its 2D box."""
    if not labels:
        return np.zeros(0)
    hulls = g.project_boxes_to_image(np.stack([label.box3d for label in labels]), P2, image_size)
    return np.array([g.box2d_iou(hull, np.asarray(label.box2d))[0, 0] for hull, label in zip(hulls, labels)])


def points_per_box(points_rect: np.ndarray | None, labels: Sequence[ObjectLabel]) -> list[int | None]:
    """Number of points (rect frame, ``(M, >=3)``) inside each label's 3D box (a point inside overlapping boxes
    counts for the lowest index only); None for all when there are no points."""
    if points_rect is None:
        return [None] * len(labels)
    if not labels:
        return []
    owner = ops.points_in_boxes(points_rect, np.stack([label.box3d for label in labels]))
    return [int(n) for n in np.bincount(owner[owner >= 0], minlength=len(labels))]


def gt_match_iou(labels: Sequence[ObjectLabel], gt: Sequence[ObjectLabel]) -> list[float]:
    """Each label's best 3D IoU with a ground-truth box of a matching class (:data:`GT_CLASSES`); 0 without one.
    Evaluation display only."""
    out = []
    for label in labels:
        candidates = [other.box3d for other in gt if other.type in GT_CLASSES.get(label.type, (label.type,))]
        if not candidates:
            out.append(0.0)
            continue
        ious = ops.iou_3d(label.box3d[None], np.stack(candidates))
        out.append(float(ious.max()))
    return out
