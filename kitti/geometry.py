"""Geometry in the KITTI frames, vectorised with numpy (float64 unless stated).

Frames: velodyne (x forward, y left, z up), rect camera (x right, y down, z forward), image_2 pixels (u right, v
down). Boxes are KITTI bottom-centre boxes ``(x, y_bottom, z, h, w, l, ry)`` in the rect frame: the box spans
``y in [y_bottom - h, y_bottom]``, ``l`` along the heading direction ``(cos ry, 0, -sin ry)``, ``w`` across it.
"""
from __future__ import annotations

import numpy as np

from kitti.io.calib import Calibration

#: depth (metres) at which the 2D box centre is back-projected to define the frustum axis
FRUSTUM_AXIS_DEPTH = 20.0


def _as_points(points: np.ndarray, name: str = "points") -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] < 3:
        raise ValueError(f"{name}: expected shape (N, 3+), got {points.shape}")
    return points


def _transform(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    xyz = _as_points(points)[:, :3]
    return xyz @ matrix[:3, :3].T + matrix[:3, 3]


def velo_to_rect(points: np.ndarray, calib: Calibration) -> np.ndarray:
    """Velodyne ``(N, 3+)`` -> rect camera ``(N, 3)``: ``R0_rect @ Tr_velo_to_cam @ [x y z 1]``."""
    return _transform(points, calib.velo_to_rect)


def rect_to_velo(points: np.ndarray, calib: Calibration) -> np.ndarray:
    """Rect camera ``(N, 3+)`` -> velodyne ``(N, 3)`` (exact inverse of :func:`velo_to_rect`)."""
    return _transform(points, calib.rect_to_velo)


def project_rect_to_image(points: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project rect-frame points with a 3x4 camera matrix. Returns ``(uv (N, 2) pixels, w (N,))`` where ``w`` is the
    depth seen by that camera (the homogeneous coordinate). Points with ``w <= 0`` get non-meaningful ``uv``."""
    xyz = _as_points(points)[:, :3]
    hom = xyz @ P[:, :3].T + P[:, 3]
    w = hom[:, 2]
    safe = np.where(np.abs(w) < 1e-12, 1e-12, w)
    return hom[:, :2] / safe[:, None], w


def image_to_rect(uv: np.ndarray, depth: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Back-project pixels ``uv (N, 2)`` at camera depth ``depth (N,)`` (the ``w`` of :func:`project_rect_to_image`)
    to rect-frame points ``(N, 3)``. Exact inverse of the projection for ``P = K [I | t]`` (KITTI's P2 form)."""
    uv = np.asarray(uv, dtype=np.float64).reshape(-1, 2)
    w = np.asarray(depth, dtype=np.float64).reshape(-1)
    k = P[:, :3]
    t = np.linalg.solve(k, P[:, 3])
    cam = np.stack([uv[:, 0] * w, uv[:, 1] * w, w], axis=1) @ np.linalg.inv(k).T
    return cam - t


def image_fov_mask(points_velo: np.ndarray, calib: Calibration, width: int, height: int,
                   min_forward: float = 2.0) -> np.ndarray:
    """Points (velodyne frame) whose image_2 projection lies in ``[0, W) x [0, H)`` and with velodyne ``x >
    min_forward`` metres (the F-PointNet image-FOV rule). Returns a bool ``(N,)`` mask."""
    rect = velo_to_rect(points_velo, calib)
    uv, w = project_rect_to_image(rect, calib.P2)
    return ((uv[:, 0] >= 0) & (uv[:, 0] < width) & (uv[:, 1] >= 0) & (uv[:, 1] < height)
            & (w > 0) & (np.asarray(points_velo)[:, 0] > min_forward))


def wrap_angle(angle: np.ndarray | float) -> np.ndarray | float:
    """Wrap radians to ``(-pi, pi]``."""
    wrapped = np.pi - np.mod(np.pi - np.asarray(angle, dtype=np.float64), 2 * np.pi)
    return float(wrapped) if np.ndim(wrapped) == 0 else wrapped


def alpha_from_ry(ry: np.ndarray | float, x: np.ndarray | float, z: np.ndarray | float) -> np.ndarray | float:
    """KITTI observation angle ``alpha = ry - atan2(x, z)``, wrapped to ``(-pi, pi]`` (x, z: box position, rect)."""
    return wrap_angle(np.asarray(ry) - np.arctan2(x, z))


def box3d_corners(boxes: np.ndarray) -> np.ndarray:
    """Corners ``(N, 8, 3)`` of bottom-centre boxes ``(N, 7)`` ``(x, y_bottom, z, h, w, l, ry)``, rect frame.

    Corners 0-3 are the bottom face (``y = y_bottom``), 4-7 the top face; corner ``k`` and ``k + 4`` share (x, z).
    In the box frame (before rotation) corners 0..3 are ``(+l/2, +w/2), (+l/2, -w/2), (-l/2, -w/2), (-l/2, +w/2)``
    in (x, z); the rotation about y by ``ry`` maps ``(x, z)`` to ``(c x + s z, -s x + c z)``.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    x, y, z, h, w, l, ry = boxes.T
    sx = np.array([1, 1, -1, -1, 1, 1, -1, -1], dtype=np.float64) * 0.5
    sz = np.array([1, -1, -1, 1, 1, -1, -1, 1], dtype=np.float64) * 0.5
    sy = np.array([0, 0, 0, 0, -1, -1, -1, -1], dtype=np.float64)
    lx = l[:, None] * sx
    lz = w[:, None] * sz
    c, s = np.cos(ry)[:, None], np.sin(ry)[:, None]
    corners = np.empty((boxes.shape[0], 8, 3))
    corners[:, :, 0] = x[:, None] + c * lx + s * lz
    corners[:, :, 1] = y[:, None] + h[:, None] * sy
    corners[:, :, 2] = z[:, None] - s * lx + c * lz
    return corners


def project_boxes_to_image(boxes: np.ndarray, P: np.ndarray, image_size: tuple[int, int] | None = None,
                           min_depth: float = 0.1) -> np.ndarray:
    """Axis-aligned hull ``(N, 4)`` ``(u1, v1, u2, v2)`` of the projected corners of bottom-centre boxes.

    Corners closer than ``min_depth`` are pushed to ``min_depth`` (a box straddling the camera plane still gets a
    finite hull). With ``image_size = (H, W)`` the hull is clipped to ``[0, W-1] x [0, H-1]``.
    """
    corners = box3d_corners(boxes)
    flat = corners.reshape(-1, 3).copy()
    flat[:, 2] = np.maximum(flat[:, 2], min_depth)
    uv, _ = project_rect_to_image(flat, P)
    uv = uv.reshape(-1, 8, 2)
    hull = np.concatenate([uv.min(axis=1), uv.max(axis=1)], axis=1)
    if image_size is not None:
        height, width = image_size
        hull[:, [0, 2]] = hull[:, [0, 2]].clip(0, width - 1)
        hull[:, [1, 3]] = hull[:, [1, 3]].clip(0, height - 1)
    return hull


def box2d_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU ``(N, M)`` of axis-aligned boxes ``(x1, y1, x2, y2)`` (continuous coordinates, no +1)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    iw = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def frustum_angle(box2d: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Frustum angle(s) of 2D boxes ``(N, 4)``: back-project each box centre at :data:`FRUSTUM_AXIS_DEPTH` to
    rect ``(x0, z0)`` and return ``-atan2(z0, x0)`` (radians, ``(N,)``)."""
    box2d = np.asarray(box2d, dtype=np.float64).reshape(-1, 4)
    centre = np.stack([(box2d[:, 0] + box2d[:, 2]) / 2, (box2d[:, 1] + box2d[:, 3]) / 2], axis=1)
    ray = image_to_rect(centre, np.full(len(centre), FRUSTUM_AXIS_DEPTH), P)
    return -np.arctan2(ray[:, 2], ray[:, 0])


def rtc_angle(frustum_angles: np.ndarray | float) -> np.ndarray | float:
    """Rotate-to-centre angle ``pi/2 + frustum_angle``: rotating by it maps the frustum axis onto +z."""
    return np.pi / 2 + np.asarray(frustum_angles, dtype=np.float64)


def rotate_about_y(points: np.ndarray, angle: np.ndarray | float) -> np.ndarray:
    """Rotate the (x, z) of ``(N, 3+)`` points (extra columns kept): ``x' = c x - s z``, ``z' = s x + c z``.
    ``angle`` is a scalar or one angle per point."""
    out = np.array(points, dtype=np.float64, copy=True)
    c, s = np.cos(angle), np.sin(angle)
    x, z = out[:, 0].copy(), out[:, 2].copy()
    out[:, 0] = c * x - s * z
    out[:, 2] = s * x + c * z
    return out


def rotate_to_center(points: np.ndarray, frustum_angles: np.ndarray | float) -> np.ndarray:
    """Rect-frame points -> frustum frame (frustum axis along +z)."""
    return rotate_about_y(points, rtc_angle(frustum_angles))


def rotate_from_center(points: np.ndarray, frustum_angles: np.ndarray | float) -> np.ndarray:
    """Frustum-frame points -> rect frame (inverse of :func:`rotate_to_center`)."""
    return rotate_about_y(points, -rtc_angle(frustum_angles))


def heading_to_frustum(ry: np.ndarray | float, frustum_angles: np.ndarray | float) -> np.ndarray | float:
    """Rect heading -> frustum-frame heading ``ry - (pi/2 + frustum_angle)`` wrapped to ``(-pi, pi]``."""
    return wrap_angle(np.asarray(ry) - rtc_angle(frustum_angles))


def heading_from_frustum(heading: np.ndarray | float, frustum_angles: np.ndarray | float) -> np.ndarray | float:
    """Frustum-frame heading -> rect heading (inverse of :func:`heading_to_frustum`)."""
    return wrap_angle(np.asarray(heading) + rtc_angle(frustum_angles))


def points_in_boxes_mask(points: np.ndarray, boxes: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """Bool ``(N, M)``: point ``i`` lies inside bottom-centre box ``j`` (rect frame, faces inclusive).

    ``margin`` (metres) grows every box on each side (negative shrinks it).
    """
    xyz = _as_points(points)[:, :3]
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    x, y, z, h, w, l, ry = boxes.T
    dx = xyz[:, None, 0] - x[None]
    dz = xyz[:, None, 2] - z[None]
    c, s = np.cos(ry)[None], np.sin(ry)[None]
    along = c * dx - s * dz   # box-frame x (length axis)
    across = s * dx + c * dz  # box-frame z (width axis)
    py = xyz[:, None, 1]
    return ((np.abs(along) <= l[None] / 2 + margin) & (np.abs(across) <= w[None] / 2 + margin)
            & (py <= y[None] + margin) & (py >= y[None] - h[None] - margin))
