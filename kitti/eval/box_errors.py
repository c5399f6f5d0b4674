"""Signed errors of predicted 3D boxes against their paired ground-truth boxes, and boxes with one error removed.

Boxes are KITTI bottom-centre ``(x, y_bottom, z, h, w, l, ry)`` in the rect camera frame (x right, y down,
z forward; metres, radians), one row per pair. The viewing ray of a pair is the bird's-eye direction from the camera
to the ground-truth bottom centre, ``u = (x, z) / hypot(x, z)``; its right-hand normal is ``(u_z, -u_x)``.

=====================  =======  ================================================================================
error                  unit     definition (prediction minus ground truth unless said otherwise)
=====================  =======  ================================================================================
``depth_m``            m        centre offset along the viewing ray (+ = too far)
``lateral_m``          m        centre offset across the ray, in the ground plane (+ = to the right)
``height_m``           m        elevation of the bottom face, ``y_gt - y_pred`` (+ = floats above the ground truth)
``l_ratio``            1        ``l_pred / l_gt`` (likewise ``w_ratio``, ``h_ratio``)
``heading_mod_pi_deg`` degree   heading error wrapped to ``(-90, 90]`` (a front/back flip counts as no error)
``heading_deg``        degree   heading error wrapped to ``(-180, 180]``
=====================  =======  ================================================================================
"""
from __future__ import annotations

import numpy as np

from kitti.geometry import wrap_angle

#: the error quantities in report order, with the value a perfect box has
ERROR_KEYS: tuple[str, ...] = ("depth_m", "lateral_m", "height_m", "l_ratio", "w_ratio", "h_ratio",
                               "heading_mod_pi_deg", "heading_deg")
PERFECT: dict[str, float] = {key: 1.0 if key.endswith("_ratio") else 0.0 for key in ERROR_KEYS}
#: the box parameters :func:`remove_error` can set to the ground truth's (one group of errors each)
FACTORS: tuple[str, ...] = ("depth", "lateral", "height", "size", "heading")


def _rays(gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit viewing ray ``(N, 2)`` in (x, z) and its right-hand normal; straight ahead for a box at the origin."""
    xz = gt[:, [0, 2]]
    norm = np.hypot(xz[:, 0], xz[:, 1])
    ray = np.where(norm[:, None] > 0, xz / np.where(norm > 0, norm, 1.0)[:, None], np.array([0.0, 1.0]))
    return ray, np.stack([ray[:, 1], -ray[:, 0]], axis=1)


def _as_boxes(boxes: np.ndarray, name: str) -> np.ndarray:
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 7:
        raise ValueError(f"{name}: expected (N, 7) boxes (x, y_bottom, z, h, w, l, ry), got shape {boxes.shape}")
    return boxes


def pair_errors(gt: np.ndarray, pred: np.ndarray) -> dict[str, np.ndarray]:
    """The errors of the module table, ``(N,)`` each, for paired boxes ``gt`` and ``pred`` ``(N, 7)``."""
    gt, pred = _as_boxes(gt, "gt"), _as_boxes(pred, "pred")
    if gt.shape != pred.shape:
        raise ValueError(f"gt and pred must hold the same number of boxes, got {len(gt)} and {len(pred)}")
    ray, normal = _rays(gt)
    offset = pred[:, [0, 2]] - gt[:, [0, 2]]
    heading = np.asarray(wrap_angle(pred[:, 6] - gt[:, 6])).reshape(-1)
    mod_pi = np.pi / 2 - np.mod(np.pi / 2 - heading, np.pi)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = pred[:, 3:6] / gt[:, 3:6]
    return {
        "depth_m": np.sum(offset * ray, axis=1),
        "lateral_m": np.sum(offset * normal, axis=1),
        "height_m": gt[:, 1] - pred[:, 1],
        "l_ratio": ratios[:, 2],
        "w_ratio": ratios[:, 1],
        "h_ratio": ratios[:, 0],
        "heading_mod_pi_deg": np.degrees(mod_pi),
        "heading_deg": np.degrees(heading),
    }


def remove_error(gt: np.ndarray, pred: np.ndarray, factor: str) -> np.ndarray:
    """``pred`` with one group of errors removed (set to the ground truth's), the rest unchanged:

    ``depth`` moves the centre along the viewing ray, ``lateral`` across it, ``height`` sets the bottom elevation,
    ``size`` the ``h, w, l`` and ``heading`` the ``ry`` of the ground truth.
    """
    gt, pred = _as_boxes(gt, "gt"), _as_boxes(pred, "pred")
    fixed = pred.copy()
    if factor in ("depth", "lateral"):
        ray, normal = _rays(gt)
        direction = ray if factor == "depth" else normal
        along = np.sum((pred[:, [0, 2]] - gt[:, [0, 2]]) * direction, axis=1)
        fixed[:, [0, 2]] -= along[:, None] * direction
    elif factor == "height":
        fixed[:, 1] = gt[:, 1]
    elif factor == "size":
        fixed[:, 3:6] = gt[:, 3:6]
    elif factor == "heading":
        fixed[:, 6] = gt[:, 6]
    else:
        raise ValueError(f"unknown error factor {factor!r}; expected one of {', '.join(FACTORS)}")
    return fixed
