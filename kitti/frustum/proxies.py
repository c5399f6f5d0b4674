"""Synthetic proxy objects and the assembly of an injected frustum (docs/design.md §4.2, legacy generator, 2D-only).

All coordinates are rect camera frame (x right, y down, z forward, metres); boxes are KITTI bottom-centre boxes
``(x, y_bottom, z, h, w, l, ry)``; 2D boxes ``(x1, y1, x2, y2)`` image_2 pixels.

2D-only replacements of the published code's 3D ground truth (docs/design.md §1), all documented where they happen:

* placement depth: class height prior ``d = f_v * HEIGHT_PRIOR / h_box`` (published step 0: the GT ``obj.h``);
* heading matching: against the **annotated** 2D box (legacy: the projection of the GT 3D box);
* removal of the real object: points of the injected object's frustum and of the annotated box's frustum inside
  the weak depth window, except the lowest ~10 % (ground) (legacy: the injected frustum's window points; released
  step >= 1: the points inside the GT 3D box);
* filtering: >= :data:`kitti.priors.MIN_POINTS` frustum points in the depth window (published: >= 1 point in the GT box).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kitti import geometry as g
from kitti.frustum.augmentation import random_shift_box2d
from kitti.priors import APP_POS, MIN_DEPTH, MIN_POINTS, depth_estimate, sample_size

#: heading candidates ``(i / 12) * 2 pi mod pi``, i = 0..5, then ``+ U(0, pi / 12)`` (legacy)
HEADING_CANDIDATES = np.arange(6) * np.pi / 6
#: proxy surface: faces of the box shrunk to this fraction of (l, w)
SURFACE_SHRINK = 0.9
#: scan lines: this many distinct levels out of {0, 0.1, ..., 0.9} of the box height
SCAN_LINES = 6
#: real-object removal keeps the ground: when more than this many points are in the window, only points above the
#: 90 % quantile of their y (rect y points down) are removed
REMOVAL_MIN_FOR_QUANTILE = 15
REMOVAL_QUANTILE = 0.9


@dataclass
class InjectedObject:
    """An injected object's frustum sample before storage: ``points`` float32 (N, 4) rect, ``seg`` int8 (N,);
    ``removed`` bool over the scene points: those taken as the real object and left out."""

    box3d: np.ndarray
    box2d: np.ndarray
    box2d_target: np.ndarray
    points: np.ndarray
    seg: np.ndarray
    removed: np.ndarray


def in_box2d(uv: np.ndarray, box2d: np.ndarray) -> np.ndarray:
    """Bool mask of pixels ``uv (N, 2)`` with ``x1 <= u < x2`` and ``y1 <= v < y2``."""
    return (uv[:, 0] >= box2d[0]) & (uv[:, 0] < box2d[2]) & (uv[:, 1] >= box2d[1]) & (uv[:, 1] < box2d[3])


def in_window(points: np.ndarray, window: tuple[float, float] | np.ndarray) -> np.ndarray:
    """Bool mask of points whose depth (rect z) lies strictly inside ``window = (d_lo, d_hi)`` metres."""
    return (points[:, 2] > window[0]) & (points[:, 2] < window[1])


def placement(class_name: str, window_points: np.ndarray, annotated_box2d: np.ndarray, focal_v: float,
              min_depth: float = MIN_DEPTH, min_points: int = MIN_POINTS) -> np.ndarray | None:
    """Bottom-face centre (rect, metres, rounded to cm) for an object of ``class_name`` seen in the frustum:
    mean of the frustum points inside the weak depth window plus :data:`APP_POS`. None when the height-prior depth
    is <= ``min_depth`` or fewer than ``min_points`` points are in the window (data config ``frustums``). (Depth
    from the class height prior, never the object's 3D height.)"""
    if depth_estimate(class_name, annotated_box2d[3] - annotated_box2d[1], focal_v) <= min_depth:
        return None
    if len(window_points) < min_points:
        return None
    return np.round(window_points[:, :3].astype(np.float64).mean(axis=0) + np.asarray(APP_POS[class_name]), 2)


def match_heading(centre: np.ndarray, size_lwh: np.ndarray, annotated_box2d: np.ndarray, P2: np.ndarray,
                  image_size: tuple[int, int], rng: np.random.Generator) -> float:
    """Heading (radians) whose projected, clipped box best matches the annotated 2D box (smallest max-abs
    coordinate difference) among :data:`HEADING_CANDIDATES`, plus ``U(0, pi/12)``."""
    l, w, h = size_lwh
    boxes = np.array([[centre[0], centre[1], centre[2], h, w, l, ry] for ry in HEADING_CANDIDATES])
    hulls = g.project_boxes_to_image(boxes, P2, image_size)
    best = int(np.argmin(np.abs(hulls - np.asarray(annotated_box2d)[None]).max(axis=1)))
    return float(HEADING_CANDIDATES[best] + rng.uniform(0, np.pi / 12))


def surface_points(box3d: np.ndarray, rng: np.random.Generator, per_face: tuple[int, int]) -> np.ndarray:
    """LiDAR-like points ``(N, 3)`` float64 on the faces of ``box3d`` visible from the sensor (origin).

    The box footprint is shrunk to :data:`SURFACE_SHRINK` of (l, w); among its 4 bottom corners the two silhouette
    corners (min and max viewing angle) and the closest corner define the visible faces (one face when the closest
    corner is a silhouette corner). Per face ``n ~ U{per_face}`` distinct fractions ``t in {0, .01, .., .99}`` along
    the edge and heights from :data:`SCAN_LINES` distinct levels of ``{0, .1, .., .9} * h``, used cyclically.
    """
    x, y, z, h, w, l, ry = box3d
    shrunk = np.array([x, y, z, h, w * SURFACE_SHRINK, l * SURFACE_SHRINK, ry])
    corners = g.box3d_corners(shrunk[None])[0, :4][:, [0, 2]]
    angles = np.arctan2(corners[:, 0], corners[:, 1])
    lo, hi = int(np.argmin(angles)), int(np.argmax(angles))
    closest = int(np.argmin(np.hypot(corners[:, 0], corners[:, 1])))
    faces = [(lo, hi)] if closest in (lo, hi) else [(lo, closest), (closest, hi)]
    out = []
    for a, b in faces:
        n = int(rng.integers(per_face[0], per_face[1] + 1))
        t = rng.choice(100, size=n, replace=False) / 100.0
        levels = rng.choice(10, size=SCAN_LINES, replace=False) / 10.0
        heights = np.resize(levels, n)
        xz = corners[a][None] + t[:, None] * (corners[b] - corners[a])[None]
        out.append(np.stack([xz[:, 0], np.full(n, y) - heights * h, xz[:, 1]], axis=1))
    return np.concatenate(out)


def proxy_object(class_name: str, centre: np.ndarray, annotated_box2d: np.ndarray, P2: np.ndarray,
                 image_size: tuple[int, int], rng: np.random.Generator,
                 per_face: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic proxy at ``centre`` (bottom-face centre): prior size, heading matched to the annotated 2D box,
    surface points. Returns ``(box3d (7,), points (N, 3))`` float64."""
    size = sample_size(class_name, rng)
    ry = match_heading(centre, size, annotated_box2d, P2, image_size, rng)
    box3d = np.array([centre[0], centre[1], centre[2], size[2], size[1], size[0], ry])
    return box3d, surface_points(box3d, rng, per_face)


def real_object_mask(scene: np.ndarray, region: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """Bool mask over ``scene`` of the points taken as the real object (removed before injection): points of
    ``region`` (bool, the frustums concerned) inside the weak depth window; when there are more than
    :data:`REMOVAL_MIN_FOR_QUANTILE`, those with rect y at or beyond the 90 % quantile (the lowest ~10 %, ground)
    are kept in the scene. 2D-only replacement of "points in the GT box"."""
    mask = region & in_window(scene, window)
    idx = np.flatnonzero(mask)
    if len(idx) > REMOVAL_MIN_FOR_QUANTILE:
        ys = scene[idx, 1]
        mask[idx[ys >= np.quantile(ys, REMOVAL_QUANTILE)]] = False
    return mask


def assemble(box3d: np.ndarray, object_points: np.ndarray, object_intensity: np.ndarray | float,
             scene: np.ndarray, scene_uv: np.ndarray, in_annotated: np.ndarray, window: tuple[float, float],
             P2: np.ndarray, image_size: tuple[int, int], rng: np.random.Generator,
             jitter: bool, min_points: int = MIN_POINTS) -> InjectedObject | None:
    """The frustum sample of an injected object: 2D target = clipped projection of ``box3d``; frustum box = that
    target jittered (``jitter``); points = scene points in the frustum box except the real object
    (:func:`real_object_mask` over the injected and the annotated frustum, ``in_annotated``, and the real object's
    depth ``window``), plus the object's points projecting into the frustum box. ``seg`` = inside ``box3d``.
    None when the object leaves fewer than ``min_points`` points in its frustum or projects degenerately."""
    target = g.project_boxes_to_image(box3d[None], P2, image_size)[0]
    if target[2] - target[0] < 1 or target[3] - target[1] < 1:
        return None
    box2d = random_shift_box2d(target, rng, image_size) if jitter else target
    obj_uv, obj_w = g.project_rect_to_image(object_points, P2)
    obj_keep = in_box2d(obj_uv, box2d) & (obj_w > 0)
    if obj_keep.sum() < min_points:
        return None
    in_frustum = in_box2d(scene_uv, box2d)
    removed = real_object_mask(scene, in_frustum | in_annotated, window)
    background = scene[in_frustum & ~removed]
    obj = np.empty((int(obj_keep.sum()), 4), np.float32)
    obj[:, :3] = object_points[obj_keep, :3]
    obj[:, 3] = (np.asarray(object_intensity)[obj_keep] if np.ndim(object_intensity)
                 else object_intensity)
    points = np.concatenate([background, obj])
    seg = g.points_in_boxes_mask(points, box3d[None])[:, 0].astype(np.int8)
    return InjectedObject(box3d, box2d, target, points, seg, removed)
