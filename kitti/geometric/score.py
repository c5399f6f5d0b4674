"""Fit-quality score in ``[0, 1]`` of a geometric box (higher = more trustworthy).

``score = s_points^0.3 * s_residual^0.2 * iou^0.5 * t_occlusion`` where ``s_points = 1 - exp(-n / N0[class])``
grows with the points the fit used, ``s_residual = exp(-r / R0)`` falls with the mean distance ``r`` (metres) of those
points to the fitted visible edges, ``iou`` is the 2D IoU of the projected box with the annotated 2D box, and
``t_occlusion = OCCLUSION_TRUST[class][level]`` lowers the trust in the partial view of an object whose 2D label is
occluded (KITTI level 0 fully visible, 1 partly, 2 largely occluded, 3 unknown: a 2D annotation field), and
:data:`PARTIAL_TRUST` lowers a box whose length the points did not show. A box placed
from the prior alone (no fit) scores ``PRIOR_SCALE * iou``, below every fitted box with a sound projection.
"""
from __future__ import annotations

import numpy as np

#: points at which ``s_points`` reaches 63 %, per class
N0 = {"Car": 100.0, "Pedestrian": 6.0, "Cyclist": 6.0}
#: residual scale (metres)
R0 = 0.15
PRIOR_SCALE = 0.1
#: trust kept by a box whose length was not seen (the prior mean stands in for it): the share of such car boxes at 3D
#: IoU >= 0.7 relative to boxes whose length was fitted, at the same distance, on realistic synthetic worlds
#: (``benchmarks/score_trust.py``, worlds of seeds 0-2: 0.74, spread 0.60-0.89 over distance bins)
PARTIAL_TRUST = 0.74
#: trust kept by a box whose 2D label has KITTI occlusion level 0 / 1 / 2 / 3, per class: the share of such boxes at
#: the class IoU threshold relative to level 0 at the same distance, on realistic synthetic worlds
#: (``benchmarks/score_trust.py``, worlds of seeds 0-2: Car 0.88 / 0.61 / 0.36, Pedestrian 0.84 / 0.52); a level the
#: worlds hold too few boxes of to measure keeps the former step of 0.2 per level (Pedestrian 3, every Cyclist level)
OCCLUSION_TRUST: dict[str, tuple[float, float, float, float]] = {
    "Car": (1.0, 0.88, 0.61, 0.36),
    "Pedestrian": (1.0, 0.84, 0.52, 0.4),
    "Cyclist": (1.0, 0.8, 0.6, 0.4),
}


def occlusion_trust(class_name: str, level: int) -> float:
    """``t_occlusion`` of a 2D label's occlusion level for a class (:data:`OCCLUSION_TRUST`); levels outside 0..3
    count as 3."""
    return OCCLUSION_TRUST[class_name][level if 0 <= level <= 3 else 3]


def fit_score(class_name: str, n_points: int, residual: float, iou2d: float, occlusion: int = 0,
              partial: bool = False) -> float:
    """Score of a fitted box (module docstring); ``occlusion`` is the 2D label's KITTI occlusion level, ``partial``
    that the length was not seen (:data:`PARTIAL_TRUST`)."""
    s_points = 1.0 - np.exp(-n_points / N0[class_name])
    s_residual = np.exp(-max(residual, 0.0) / R0)
    quality = s_points ** 0.3 * s_residual ** 0.2 * max(iou2d, 0.0) ** 0.5
    trust = occlusion_trust(class_name, occlusion) * (PARTIAL_TRUST if partial else 1.0)
    return float(np.clip(quality * trust, 0.0, 1.0))


def prior_score(iou2d: float) -> float:
    """Score of a box placed from the prior along the ray."""
    return float(np.clip(PRIOR_SCALE * iou2d, 0.0, PRIOR_SCALE))
