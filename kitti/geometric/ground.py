"""Robust per-frame ground plane (RANSAC + least-squares refit) in the rect camera frame.

The plane is ``n . p + d = 0`` with the unit normal ``n`` pointing up (rect y points down, so ``n_y < 0``);
:meth:`GroundPlane.height` is the signed height (metres) of points above it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: RANSAC inlier distance (metres)
INLIER_DISTANCE = 0.08
#: largest tilt of the ground normal from the rect -y axis (degrees)
MAX_TILT_DEG = 12.0
#: candidate ground points: at least this far below the camera (rect y, metres) and within this depth (rect z)
MIN_BELOW_CAMERA = 0.5
MAX_DEPTH = 50.0
#: fallback camera height above the road (metres; KITTI's camera is mounted at about 1.65 m)
DEFAULT_CAMERA_HEIGHT = 1.65


@dataclass(frozen=True)
class GroundPlane:
    """``normal . p + offset = 0``; ``normal`` unit length, pointing up (``normal[1] < 0``)."""

    normal: np.ndarray
    offset: float
    inliers: int = 0

    def height(self, points: np.ndarray) -> np.ndarray:
        """Signed height (metres) above the plane of rect points ``(N, 3+)``."""
        return np.asarray(points, np.float64)[:, :3] @ self.normal + self.offset

    def y_at(self, x: np.ndarray | float, z: np.ndarray | float) -> np.ndarray | float:
        """Rect y (metres, down) of the plane below the rect position ``(x, z)``."""
        n = self.normal
        return -(n[0] * np.asarray(x) + n[2] * np.asarray(z) + self.offset) / n[1]

    @staticmethod
    def flat(camera_height: float = DEFAULT_CAMERA_HEIGHT) -> "GroundPlane":
        """The level plane ``y = camera_height``."""
        return GroundPlane(np.array([0.0, -1.0, 0.0]), camera_height, 0)


def _refit(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares plane of ``(N, 3)`` points: normal (up) and offset."""
    centre = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - centre, full_matrices=False)
    normal = vt[2] if vt[2][1] < 0 else -vt[2]
    return normal, float(-normal @ centre)


def fit_ground(points: np.ndarray, rng: np.random.Generator | None = None, iterations: int = 60,
               max_samples: int = 2000) -> GroundPlane:
    """RANSAC ground plane of rect points ``(N, 3+)``: candidates below the camera and near it, planes whose normal
    tilts at most :data:`MAX_TILT_DEG` from vertical, best inlier count, least-squares refit on the inliers. Falls
    back to :meth:`GroundPlane.flat` placed at the 5th height percentile of the candidates (or the default camera
    height) when fewer than 20 candidates exist. Deterministic for a given ``rng`` (default seed 0)."""
    rng = np.random.default_rng(0) if rng is None else rng
    xyz = np.asarray(points, np.float64)[:, :3]
    cand = xyz[(xyz[:, 1] > MIN_BELOW_CAMERA) & (xyz[:, 2] < MAX_DEPTH)]
    if len(cand) < 20:
        return GroundPlane.flat(float(np.percentile(cand[:, 1], 95)) if len(cand) else DEFAULT_CAMERA_HEIGHT)
    if len(cand) > max_samples:
        cand = cand[rng.choice(len(cand), max_samples, replace=False)]
    triples = cand[rng.integers(0, len(cand), size=(iterations, 3))]
    normals = np.cross(triples[:, 1] - triples[:, 0], triples[:, 2] - triples[:, 0])
    norms = np.linalg.norm(normals, axis=1)
    valid = norms > 1e-9
    normals = normals[valid] / norms[valid, None]
    normals *= np.where(normals[:, 1] < 0, 1.0, -1.0)[:, None]
    offsets = -np.einsum("ij,ij->i", normals, triples[valid, 0])
    level = -normals[:, 1] >= np.cos(np.radians(MAX_TILT_DEG))
    if not level.any():
        return GroundPlane.flat(float(np.percentile(cand[:, 1], 95)))
    normals, offsets = normals[level], offsets[level]
    distance = np.abs(cand @ normals.T + offsets)  # (M, K)
    counts = (distance < INLIER_DISTANCE).sum(axis=0)
    best = int(np.argmax(counts))
    inliers = cand[distance[:, best] < INLIER_DISTANCE]
    normal, offset = _refit(inliers)
    if -normal[1] < np.cos(np.radians(MAX_TILT_DEG)):
        normal, offset = normals[best], float(offsets[best])
    return GroundPlane(normal, offset, int(len(inliers)))



#: local ground: scene points within this BEV distance (metres) of an object's footprint ...
LOCAL_RADIUS = 2.0
#: ... outside the footprint grown by this margin (metres) ...
LOCAL_MARGIN = 0.3
#: ... and within this height band (metres) of the plane are the ground near the object (kerbs, sidewalks)
LOCAL_BAND = 0.3


@dataclass(frozen=True)
class GroundBand:
    """The scene points near the plane (``|height| <`` :data:`LOCAL_BAND`), sorted by rect z for fast BEV windows:
    ``xz (M, 2)`` metres and ``height (M,)`` metres above the plane."""

    xz: np.ndarray
    height: np.ndarray

    @staticmethod
    def of(points: np.ndarray, heights: np.ndarray) -> "GroundBand":
        keep = np.abs(heights) < LOCAL_BAND
        xz, h = np.asarray(points, np.float64)[keep][:, [0, 2]], heights[keep]
        order = np.argsort(xz[:, 1], kind="stable")
        return GroundBand(xz[order], h[order])


def local_offset(band: GroundBand, box: np.ndarray) -> float:
    """Height (metres) above the frame's plane of the ground around a fitted box (a raised sidewalk gives > 0): the
    median height of the ground-band points within :data:`LOCAL_RADIUS` of the box's BEV footprint and outside the
    footprint grown by :data:`LOCAL_MARGIN`; 0 with fewer than 5 such points. ``box`` is a KITTI 7-vector (rect)."""
    x, _, z, _, w, l, ry = box
    reach = np.hypot(l, w) / 2 + LOCAL_RADIUS
    lo, hi = np.searchsorted(band.xz[:, 1], [z - reach, z + reach])
    xz, heights = band.xz[lo:hi], band.height[lo:hi]
    dx, dz = xz[:, 0] - x, xz[:, 1] - z
    c, s = np.cos(ry), np.sin(ry)
    along, across = np.abs(c * dx - s * dz), np.abs(s * dx + c * dz)
    outside = (along > l / 2 + LOCAL_MARGIN) | (across > w / 2 + LOCAL_MARGIN)
    near = (along < l / 2 + LOCAL_RADIUS) & (across < w / 2 + LOCAL_RADIUS)
    ground = outside & near
    if ground.sum() < 5:
        return 0.0
    return float(np.median(heights[ground]))
