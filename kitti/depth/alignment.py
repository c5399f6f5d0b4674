"""Robust per-frame fit of a dense depth map to the LiDAR (LiDAR-aligned depth; beyond the published methods).

The LiDAR points (rect frame, metres) are projected with P2; each lands on its nearest pixel ``(round(u),
round(v))`` and gives a pair ``(d, z)``: ``d`` the depth-map value there and ``z`` the LiDAR point's camera-2 depth
(the ``w`` of :func:`kitti.geometry.project_rect_to_image`). Pairs are kept where the point is in the image, ``z >
0`` and the pixel is valid (``d > 0`` and inside the caller's ``valid`` mask, e.g. no sky, no flying pixel).
Several LiDAR points may fall on one pixel; occlusions between the LiDAR and camera viewpoints and depth-map edge
errors give outlier pairs, which the robust fits down-weight.

Models (:data:`ALIGN_MODELS`):

* ``scale``: ``D' = s * D``. ``log s`` is the Tukey-biweight location of the log ratios ``log(z / d)``, started at
  their median, with the scale of the residuals re-estimated as ``1.4826 * MAD`` at each step (tuning constant
  4.685). Suits metric models whose error is mostly a global scale (focal length, camera height).
* ``scale_shift_inv``: ``1 / D' = a / D + b`` (affine in inverse depth, ``b`` in 1/m), the model of relative
  (affine-invariant disparity) predictions. Iteratively reweighted least squares on the relative residuals
  ``(1/z - a/d - b) * z`` (about the relative depth error) with Tukey weights, started at the ``scale`` fit and
  ``b = 0``. Pixels where ``a / D + b <= 0`` get no depth (0) after alignment.

Inliers are the pairs inside the final Tukey support. :class:`DepthAlignment` carries the fit and residual
statistics: the median absolute relative error ``|d - z| / z`` before and after, and the RMSE (metres) over the
inliers after.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from kitti import geometry as g

ALIGN_MODELS = ("scale", "scale_shift_inv")
TUKEY_C = 4.685
MAD_TO_SIGMA = 1.4826
MIN_PAIRS = 50


@dataclass(frozen=True)
class DepthAlignment:
    """A fitted depth correction. ``scale`` (``s`` or ``a``, unitless) and ``shift`` (``b``, 1/m; 0 for
    ``scale``); ``pairs`` LiDAR/depth pairs used, ``inliers`` of them; ``abs_rel_before``/``abs_rel_after`` median
    ``|d - z| / z`` over all pairs; ``rmse_after`` metres over the inliers."""

    model: str
    scale: float
    shift: float
    pairs: int
    inliers: int
    abs_rel_before: float
    abs_rel_after: float
    rmse_after: float

    def apply(self, depth: np.ndarray) -> np.ndarray:
        """Aligned float32 copy of a depth map or array (metres; 0 stays 0 = no depth)."""
        return apply_alignment(depth, self.model, self.scale, self.shift).astype(np.float32)

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def apply_alignment(depth: np.ndarray, model: str, scale: float, shift: float) -> np.ndarray:
    """float64 ``scale * D`` (``scale``) or ``1 / (scale / D + shift)`` (``scale_shift_inv``); 0 where ``D <= 0``
    or the aligned inverse depth is not positive."""
    depth = np.asarray(depth, dtype=np.float64)
    valid = depth > 0
    if model == "scale":
        return np.where(valid, scale * depth, 0.0)
    inverse = np.where(valid, scale / np.where(valid, depth, 1.0) + shift, 0.0)
    ok = inverse > 0
    return np.where(ok, 1.0 / np.where(ok, inverse, 1.0), 0.0)


def lidar_depth_pairs(depth: np.ndarray, lidar_rect: np.ndarray, P: np.ndarray,
                      valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(d, z)`` float64 arrays: depth-map value at each LiDAR point's nearest pixel and the point's camera depth
    (metres). ``lidar_rect`` is ``(N, 3+)`` in the rect frame; ``valid`` an optional bool ``(H, W)`` pixel mask."""
    height, width = depth.shape
    uv, z = g.project_rect_to_image(lidar_rect, P)
    u = np.rint(uv[:, 0]).astype(np.int64)
    v = np.rint(uv[:, 1]).astype(np.int64)
    keep = (z > 0) & (u >= 0) & (u < width) & (v >= 0) & (v < height)
    u, v, z = u[keep], v[keep], z[keep]
    d = depth[v, u].astype(np.float64)
    ok = d > 0
    if valid is not None:
        ok &= valid[v, u]
    return d[ok], z[ok]


def _tukey_weights(residuals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tukey biweights of residuals around 0 with a MAD scale; returns ``(weights, inlier mask)``."""
    sigma = max(MAD_TO_SIGMA * float(np.median(np.abs(residuals - np.median(residuals)))), 1e-9)
    u = residuals / (TUKEY_C * sigma)
    inside = np.abs(u) < 1
    return np.where(inside, (1 - u ** 2) ** 2, 0.0), inside


def fit_scale(d: np.ndarray, z: np.ndarray, iterations: int = 20) -> tuple[float, np.ndarray]:
    """Robust ``s`` with ``z ~ s * d`` (see module docstring) and the inlier mask of the pairs."""
    log_ratio = np.log(z) - np.log(d)
    m = float(np.median(log_ratio))
    inside = np.ones(len(d), bool)
    for _ in range(iterations):
        weights, inside = _tukey_weights(log_ratio - m)
        new = float(np.sum(weights * log_ratio) / np.sum(weights))
        if abs(new - m) < 1e-12:
            m = new
            break
        m = new
    return float(np.exp(m)), inside


def fit_scale_shift_inverse(d: np.ndarray, z: np.ndarray, iterations: int = 30) -> tuple[float, float, np.ndarray]:
    """Robust ``(a, b)`` with ``1/z ~ a/d + b`` (see module docstring) and the inlier mask of the pairs."""
    x, y = 1.0 / d, 1.0 / z
    a, inside = fit_scale(d, z)
    b = 0.0
    design = np.stack([x, np.ones_like(x)], axis=1) * z[:, None]  # relative residual: (y - a x - b) * z
    target = y * z
    for _ in range(iterations):
        weights, inside = _tukey_weights(target - design @ np.array([a, b]))
        sw = np.sqrt(weights)
        (a_new, b_new), *_ = np.linalg.lstsq(design * sw[:, None], target * sw, rcond=None)
        done = abs(a_new - a) < 1e-12 * abs(a) and abs(b_new - b) < 1e-12
        a, b = float(a_new), float(b_new)
        if done:
            break
    return a, b, inside


def align_depth(depth: np.ndarray, lidar_rect: np.ndarray, P: np.ndarray, model: str = "scale",
                valid: np.ndarray | None = None, min_pairs: int = MIN_PAIRS) -> DepthAlignment:
    """Fit ``depth`` (H, W, metres or relative units) to the LiDAR points ``lidar_rect`` (rect frame, metres).

    Raises ``ValueError`` for an unknown model or fewer than ``min_pairs`` LiDAR/depth pairs."""
    if model not in ALIGN_MODELS:
        raise ValueError(f"alignment model must be one of {ALIGN_MODELS}, got {model!r}")
    d, z = lidar_depth_pairs(depth, lidar_rect, P, valid)
    if len(d) < min_pairs:
        raise ValueError(f"only {len(d)} LiDAR points fall on valid depth pixels (need {min_pairs}) to align")
    if model == "scale":
        scale, inside = fit_scale(d, z)
        shift = 0.0
    else:
        scale, shift, inside = fit_scale_shift_inverse(d, z)
    aligned = apply_alignment(d, model, scale, shift)
    rel_after = np.where(aligned > 0, np.abs(aligned - z) / z, np.inf)
    return DepthAlignment(model, scale, shift, len(d), int(inside.sum()),
                          abs_rel_before=float(np.median(np.abs(d - z) / z)),
                          abs_rel_after=float(np.median(rel_after)),
                          rmse_after=float(np.sqrt(np.mean((aligned[inside] - z[inside]) ** 2))))
