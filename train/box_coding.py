"""Box coding (docs/design.md §6.3) (torch) and conversion between KITTI boxes and the frustum frame (numpy).

Frustum frame: the rect camera frame rotated about y by ``pi/2 + frustum_angle`` (:mod:`kitti.geometry`), metres.
Frustum-frame boxes are centre based: ``centre (x, y, z)`` (y of the box centre, not of its bottom), ``size (l, w,
h)``, ``heading`` (radians, ``ry - rtc_angle``). KITTI boxes are ``(x, y_bottom, z, h, w, l, ry)`` in the rect frame.

* heading: ``NB`` bins over 2 pi, width ``w = 2 pi / NB``; ``t = (theta mod 2 pi + w/2) mod 2 pi``,
  ``bin = floor(t / w)``, ``res = (t - bin w - w/2) / (w/2)`` in ``[-1, 1)``; decode ``bin w + res w/2`` wrapped
  to ``(-pi, pi]``.
* size: ``s = m_c * (1 + r)`` with the mean-size anchor ``m_c`` of class ``c`` (:data:`kitti.priors.MEAN_SIZE`).
* centre: ``c = ref + delta``.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from kitti import geometry as g
from kitti.priors import CLASSES, MEAN_SIZE

#: (S, 3) mean-size anchors (l, w, h) metres, S = len(CLASSES)
ANCHORS = np.array([MEAN_SIZE[c] for c in CLASSES], dtype=np.float32)


def wrap_torch(angle: torch.Tensor) -> torch.Tensor:
    """Wrap radians to ``(-pi, pi]``."""
    return math.pi - torch.remainder(math.pi - angle, 2 * math.pi)


def encode_heading(theta: torch.Tensor, num_bins: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Heading (radians) -> (bin int64, normalised residual in [-1, 1))."""
    width = 2 * math.pi / num_bins
    shifted = torch.remainder(torch.remainder(theta, 2 * math.pi) + width / 2, 2 * math.pi)
    bins = torch.clamp(torch.floor(shifted / width), 0, num_bins - 1)
    res = (shifted - bins * width - width / 2) / (width / 2)
    return bins.long(), res


def decode_heading(bins: torch.Tensor, res: torch.Tensor, num_bins: int) -> torch.Tensor:
    """(bin, normalised residual) -> heading wrapped to ``(-pi, pi]``."""
    width = 2 * math.pi / num_bins
    return wrap_torch(bins.to(res.dtype) * width + res * width / 2)


def encode_size(size: torch.Tensor, class_id: torch.Tensor) -> torch.Tensor:
    """Size (.., 3) (l, w, h) -> relative residual w.r.t. the class anchor."""
    anchor = torch.as_tensor(ANCHORS, dtype=size.dtype, device=size.device)[class_id]
    return (size - anchor) / anchor


def decode_size(res: torch.Tensor, class_id: torch.Tensor) -> torch.Tensor:
    """Relative residual (.., 3) of class ``class_id`` -> size (l, w, h) metres."""
    anchor = torch.as_tensor(ANCHORS, dtype=res.dtype, device=res.device)[class_id]
    return anchor * (1 + res)


def box_corners(centre: torch.Tensor, size: torch.Tensor, heading: torch.Tensor) -> torch.Tensor:
    """Corners (N, 8, 3) of centre-based boxes, same order as :func:`kitti.geometry.box3d_corners` (0-3 bottom
    face ``y = cy + h/2``, 4-7 top face). ``centre (N, 3)``, ``size (N, 3)`` (l, w, h), ``heading (N,)``."""
    sx = centre.new_tensor([1, 1, -1, -1, 1, 1, -1, -1]) * 0.5
    sz = centre.new_tensor([1, -1, -1, 1, 1, -1, -1, 1]) * 0.5
    sy = centre.new_tensor([1, 1, 1, 1, -1, -1, -1, -1]) * 0.5
    lx = size[:, 0:1] * sx
    lz = size[:, 1:2] * sz
    c, s = torch.cos(heading)[:, None], torch.sin(heading)[:, None]
    x = centre[:, 0:1] + c * lx + s * lz
    y = centre[:, 1:2] + size[:, 2:3] * sy
    z = centre[:, 2:3] - s * lx + c * lz
    return torch.stack([x, y, z], dim=2)


def kitti_to_frustum(box3d: np.ndarray, frustum_angle: float) -> tuple[np.ndarray, float, np.ndarray]:
    """KITTI box ``(x, y_bottom, z, h, w, l, ry)`` -> frustum-frame (centre (3,), heading, size (l, w, h))."""
    x, yb, z, h, w, l, ry = np.asarray(box3d, np.float64)
    centre = g.rotate_to_center(np.array([[x, yb - h / 2, z]]), frustum_angle)[0]
    return centre, float(g.heading_to_frustum(ry, frustum_angle)), np.array([l, w, h])


def frustum_to_kitti(centre: np.ndarray, heading: np.ndarray, size: np.ndarray,
                     frustum_angle: np.ndarray) -> np.ndarray:
    """Frustum-frame boxes (``centre (N, 3)``, ``heading (N,)``, ``size (N, 3)`` (l, w, h), one frustum angle per
    box) -> KITTI boxes (N, 7) ``(x, y_bottom, z, h, w, l, ry)`` in the rect frame."""
    centre = np.asarray(centre, np.float64).reshape(-1, 3)
    size = np.asarray(size, np.float64).reshape(-1, 3)
    angles = np.asarray(frustum_angle, np.float64).reshape(-1)
    rect = g.rotate_about_y(centre, -g.rtc_angle(angles))
    ry = g.heading_from_frustum(np.asarray(heading, np.float64).reshape(-1), angles)
    return np.stack([rect[:, 0], rect[:, 1] + size[:, 2] / 2, rect[:, 2], size[:, 2], size[:, 1], size[:, 0],
                     np.atleast_1d(ry)], axis=1)


def decode_slices(parts: dict[str, torch.Tensor], refs: torch.Tensor, b: torch.Tensor, m: torch.Tensor,
                  class_id: torch.Tensor, num_bins: int,
                  bins: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Boxes predicted at slices ``(b, m)`` (P,) in the frustum frame: ``(centre (P, 3), heading (P,), size (P, 3))``.

    ``parts`` = :func:`train.model.split_regression` of the (B, M, R) output, ``refs (B, 3, M)`` the scale-2
    reference centres, ``class_id (P,)`` the anchor used for the size (the sample's class). The heading uses
    ``bins`` when given (the target bin, for the corner loss) else the predicted (argmax) bin."""
    centre = refs[b, :, m] + parts["delta"][b, m]
    if bins is None:
        bins = parts["heading_scores"][b, m].argmax(dim=1)
    res = parts["heading_res"][b, m].gather(1, bins[:, None])[:, 0]
    heading = decode_heading(bins, res, num_bins)
    size_res = parts["size_res"][b, m, class_id]
    return centre, heading, decode_size(size_res, class_id)


def kitti_from_frustum_frame(centre: np.ndarray, heading: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Centre-based frustum-frame boxes -> ``(x, y_bottom, z, h, w, l, heading)`` rows *in the frustum frame*
    (for IoU between two boxes of the same frustum: IoU is invariant to the frame rotation and to the flip)."""
    centre = np.asarray(centre, np.float64).reshape(-1, 3)
    size = np.asarray(size, np.float64).reshape(-1, 3)
    return np.stack([centre[:, 0], centre[:, 1] + size[:, 2] / 2, centre[:, 2], size[:, 2], size[:, 1],
                     size[:, 0], np.asarray(heading, np.float64).reshape(-1)], axis=1)
