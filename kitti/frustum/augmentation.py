"""Random box perturbations used to build training samples (2D frustum jitter, 3D refinement jitter)."""
from __future__ import annotations

import numpy as np


def random_shift_box2d(box2d: np.ndarray, rng: np.random.Generator, image_size: tuple[int, int],
                       ratio: float = 0.1, tries: int = 10) -> np.ndarray:
    """Jitter a 2D box ``(x1, y1, x2, y2)`` pixels (docs/design.md §4.1): centre shifted by ``U(-r, r) * (w, h)``, width
    and height scaled by ``U(1 - r, 1 + r)``, clipped to ``[0, W-1] x [0, H-1]`` (``image_size = (H, W)``); retried up
    to ``tries`` times until the box is non-degenerate (>= 1 px each side), else the original box. float64 ``(4,)``."""
    box = np.asarray(box2d, dtype=np.float64)
    height, width = image_size
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    w, h = box[2] - box[0], box[3] - box[1]
    for _ in range(tries):
        dx, dy, sw, sh = rng.uniform(-ratio, ratio, 4)
        ncx, ncy = cx + dx * w, cy + dy * h
        nw, nh = w * (1 + sw), h * (1 + sh)
        out = np.array([ncx - nw / 2, ncy - nh / 2, ncx + nw / 2, ncy + nh / 2])
        out[[0, 2]] = out[[0, 2]].clip(0, width - 1)
        out[[1, 3]] = out[[1, 3]].clip(0, height - 1)
        if out[2] - out[0] >= 1 and out[3] - out[1] >= 1:
            return out
    return box.copy()


def random_shift_rotate_box3d(box3d: np.ndarray, rng: np.random.Generator, ratio: float = 0.05) -> np.ndarray:
    """Jitter a bottom-centre box ``(x, y_bottom, z, h, w, l, ry)`` (rect, metres, radians) as F-ConvNet's
    refinement augmentation: sizes scaled by ``U(1 - r, 1 + r)``; centre moved by ``U(-r, r)`` times (l, h, w) in
    (x, y, z); heading by ``U(-r, r) * pi``. The vertical centre shift keeps the box's mid-height consistent."""
    x, y, z, h, w, l, ry = np.asarray(box3d, dtype=np.float64)
    sl, sw, sh = rng.uniform(1 - ratio, 1 + ratio, 3)
    dx, dy, dz = rng.uniform(-ratio, ratio, 3) * np.array([l, h, w])
    dry = rng.uniform(-ratio, ratio) * np.pi
    centre_y = y - h / 2 + dy
    nh = h * sh
    return np.array([x + dx, centre_y + nh / 2, z + dz, nh, w * sw, l * sl, ry + dry])
