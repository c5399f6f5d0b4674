"""Synthetic proxy objects and the assembly of an injected frustum (docs/design.md §4.2, legacy generator, 2D-only).

All coordinates are rect camera frame (x right, y down, z forward, metres); boxes are KITTI bottom-centre boxes
``(x, y_bottom, z, h, w, l, ry)``; 2D boxes ``(x1, y1, x2, y2)`` image_2 pixels.

2D-only replacements of the published code's 3D ground truth (docs/design.md §1), all documented where they happen:

* placement depth: class height prior ``d = f_v * HEIGHT_PRIOR / h_box`` (published step 0: the GT ``obj.h``);
  the bottom face sits on the local ground estimated from the scene points around (:func:`ground_height`);
* heading matching: against the **annotated** 2D box (legacy: the projection of the GT 3D box);
* removal of the real object: points of the injected object's frustum and of the annotated box's frustum inside
  the weak depth window that lie more than :data:`GROUND_CLEARANCE` above the local ground, grown over the
  connected points above the ground (without a ground estimate: all but the lowest ~10 % of the window's points)
  (legacy: the injected frustum's window points; released step >= 1: the points inside the GT 3D box);
* filtering: >= :data:`kitti.priors.MIN_POINTS` frustum points in the depth window (published: >= 1 point in the GT
  box).

Scan-realistic proxies: a proxy is one of the class's shape templates (:mod:`kitti.frustum.proxy_shapes`) fitted
to a box of the shared size prior (:func:`kitti.priors.sample_size`) and ray-cast with the frame's sensor model
(:mod:`kitti.frustum.sensor`): only the surfaces the sensor sees get points, their density falls with range as the
beam or pixel grid spreads, parts hide each other, and scene points in front of the proxy (in the same beam cell or
pixel) hide it in turn. The proxy removes the scene points it occludes (behind it along the sensor rays).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kitti import geometry as g
from kitti.frustum.augmentation import random_shift_box2d
from kitti.frustum.proxy_shapes import INSET, TEMPLATES, Template, box_frame, cast
from kitti.frustum.sensor import Sensor
from kitti.priors import APP_POS, MIN_DEPTH, MIN_POINTS, depth_estimate, sample_size

#: heading candidates ``(i / 12) * 2 pi mod pi``, i = 0..5, then ``+ U(0, pi / 12)`` (legacy), then ``+ pi`` with
#: probability :data:`FLIP_PROBABILITY`: a 2D box tells the length axis, never which end is the front, so the
#: direction is a coin toss (legacy: always below pi, i.e. 99 % of the proxy cars of the demo world point toward the
#: camera against 43-51 % of real cars, and the detector learns that bias instead of the object's front)
HEADING_CANDIDATES = np.arange(6) * np.pi / 6
FLIP_PROBABILITY = 0.5
#: real-object removal keeps the ground: without a ground estimate, when more than this many points are in the
#: window, only points above the 90 % quantile of their y (rect y points down) are removed
REMOVAL_MIN_FOR_QUANTILE = 15
REMOVAL_QUANTILE = 0.9
#: with a ground estimate, points higher than this above the ground (metres) are the real object
GROUND_CLEARANCE = 0.15
#: local ground (:func:`ground_height`): the scene points within GROUND_RADIUS (metres, rect x and z) of the
#: placement, binned in GROUND_CELL (metres) square cells; the ground is the GROUND_QUANTILE quantile of the cells'
#: lowest points when at least GROUND_MIN_CELLS cells hold points. Rect y points down, so a high quantile leans to
#: the road rather than to cars' undersides: against the demo world's car boxes, 0.75 errs by a median <= 0.06 m in
#: every distance bin (the median of the cells: 0.26 m beyond 40 m)
GROUND_RADIUS = 4.0
GROUND_CELL = 0.5
GROUND_QUANTILE = 0.75
GROUND_MIN_CELLS = 4
#: real-object removal grows over points above the ground up to this far (metres, rect z) before / beyond the window,
#: through voxels of this size (metres), at most this many times
GROW_NEAR = 3.0
GROW_FAR = 1.0
GROW_VOXEL = 0.3
GROW_STEPS = 12
#: a scene point is hidden behind a proxy, or a proxy point behind a scene point, beyond this margin (metres)
OCCLUSION_MARGIN = 0.1


@dataclass
class InjectedObject:
    """An injected object's frustum sample before storage: ``points`` float32 (N, 4) rect, ``seg`` int8 (N,);
    ``removed`` bool over the scene points: those left out (taken as the real object, or hidden by the proxy)."""

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
    """Heading (radians, in ``[0, 2 pi)``) whose projected, clipped box best matches the annotated 2D box (smallest
    max-abs coordinate difference) among :data:`HEADING_CANDIDATES`, plus ``U(0, pi/12)``, plus ``pi`` with
    probability :data:`FLIP_PROBABILITY` (the box and its flip project alike)."""
    l, w, h = size_lwh
    boxes = np.array([[centre[0], centre[1], centre[2], h, w, l, ry] for ry in HEADING_CANDIDATES])
    hulls = g.project_boxes_to_image(boxes, P2, image_size)
    best = int(np.argmin(np.abs(hulls - np.asarray(annotated_box2d)[None]).max(axis=1)))
    heading = HEADING_CANDIDATES[best] + rng.uniform(0, np.pi / 12)
    return float(heading + np.pi * (rng.uniform() < FLIP_PROBABILITY))


def ground_height(scene: np.ndarray, centre: np.ndarray) -> float | None:
    """Local ground height (rect y, metres, y down) under ``centre``: the scene points within
    :data:`GROUND_RADIUS` in x and z are binned in :data:`GROUND_CELL` cells, the lowest point of each cell (largest
    y) is taken and their :data:`GROUND_QUANTILE` quantile returned; None with fewer than :data:`GROUND_MIN_CELLS`
    cells."""
    dx, dz = scene[:, 0] - centre[0], scene[:, 2] - centre[2]
    near = (np.abs(dx) < GROUND_RADIUS) & (np.abs(dz) < GROUND_RADIUS)
    if not near.any():
        return None
    side = int(np.ceil(2 * GROUND_RADIUS / GROUND_CELL))
    cell = (np.floor((dx[near] + GROUND_RADIUS) / GROUND_CELL).astype(np.int64) * side
            + np.floor((dz[near] + GROUND_RADIUS) / GROUND_CELL).astype(np.int64))
    cells, inverse = np.unique(cell, return_inverse=True)
    if len(cells) < GROUND_MIN_CELLS:
        return None
    lowest = np.full(len(cells), -np.inf)
    np.maximum.at(lowest, inverse, scene[near, 1].astype(np.float64))
    return float(np.quantile(lowest, GROUND_QUANTILE))


def clip_to_box(points: np.ndarray, box3d: np.ndarray) -> np.ndarray:
    """Rect points ``(N, 3)`` moved into the bottom-centre box ``box3d`` (clamped in the box frame): range noise
    must not push a proxy's surface points out of its box, which labels them."""
    m, centre = box_frame(box3d)
    unit = np.linalg.solve(m, (np.asarray(points, np.float64) - centre).T).T
    unit = np.clip(unit, [-0.5 + INSET, INSET, -0.5 + INSET], [0.5 - INSET, 1 - INSET, 0.5 - INSET])
    return centre + unit @ m.T


class ProxyScan:
    """A proxy's template, box and sensor, and the points the sensor records on it.

    ``points (N, 3)`` rect metres (first hits plus range noise, kept inside the box), ``keys (N,)`` their sensor
    cells, ``ranges (N,)`` their distance to the sensor."""

    def __init__(self, template: Template, box3d: np.ndarray, sensor: Sensor, rng: np.random.Generator) -> None:
        self.template, self.box3d, self.sensor = template, np.asarray(box3d, np.float64), sensor
        rays = sensor.rays(self.box3d)
        t, part = cast(template, self.box3d, rays.origin, rays.directions)
        hit = np.flatnonzero(np.isfinite(t))
        returned = hit[rng.uniform(size=len(hit)) < template.returns[part[hit]]]
        ranges = t[returned] + rng.normal(size=len(returned)) * sensor.noise(t[returned])
        self.points = clip_to_box(rays.origin + ranges[:, None] * rays.directions[returned], self.box3d)
        self.keys, self.ranges = rays.keys[returned], np.linalg.norm(self.points - rays.origin, axis=1)

    def occludes(self, points: np.ndarray) -> np.ndarray:
        """Bool mask of the rect ``points (M, 3+)`` that the proxy hides from the sensor: the ray towards the point
        enters the proxy more than :data:`OCCLUSION_MARGIN` before it (also points inside the proxy)."""
        if not len(points):
            return np.zeros(0, bool)
        offset = np.asarray(points, np.float64)[:, :3] - self.sensor.origin
        distance = np.linalg.norm(offset, axis=1)
        t, _ = cast(self.template, self.box3d, self.sensor.origin, offset / np.maximum(distance, 1e-9)[:, None])
        return t < distance - OCCLUSION_MARGIN

    def visible(self, scene: np.ndarray) -> np.ndarray:
        """Bool mask over :attr:`points`: not hidden by a ``scene (M, 3+)`` point of the same sensor cell that is more
        than :data:`OCCLUSION_MARGIN` closer to the sensor."""
        keep = np.ones(len(self.points), bool)
        if not len(scene) or not len(self.points):
            return keep
        keys = self.sensor.keys(scene)
        valid = keys >= 0
        if not valid.any():
            return keep
        distance = np.linalg.norm(np.asarray(scene, np.float64)[valid, :3] - self.sensor.origin, axis=1)
        cells, inverse = np.unique(keys[valid], return_inverse=True)
        nearest = np.full(len(cells), np.inf)
        np.minimum.at(nearest, inverse, distance)
        pos = np.clip(np.searchsorted(cells, self.keys), 0, len(cells) - 1)
        shared = cells[pos] == self.keys
        keep[shared] = nearest[pos[shared]] >= self.ranges[shared] - OCCLUSION_MARGIN
        return keep


def proxy_object(class_name: str, centre: np.ndarray, annotated_box2d: np.ndarray, P2: np.ndarray,
                 image_size: tuple[int, int], rng: np.random.Generator, sensor: Sensor) -> tuple[np.ndarray, ProxyScan]:
    """A synthetic proxy at ``centre`` (bottom-face centre): a size from the shared prior, heading matched to the
    annotated 2D box, a template of the class drawn uniformly, ray-cast with ``sensor``. Returns
    ``(box3d (7,) float64, scan)``."""
    size = sample_size(class_name, rng)
    ry = match_heading(centre, size, annotated_box2d, P2, image_size, rng)
    box3d = np.array([centre[0], centre[1], centre[2], size[2], size[1], size[0], ry])
    templates = TEMPLATES[class_name]
    return box3d, ProxyScan(templates[int(rng.integers(len(templates)))], box3d, sensor, rng)


def grow(points: np.ndarray, seed: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """``seed`` (bool over ``points``) grown over the ``allowed`` points: repeatedly adds those whose
    :data:`GROW_VOXEL` voxel touches (26-neighbourhood) a voxel of the points added last (breadth first), at most
    :data:`GROW_STEPS` times."""
    mask = seed.copy()
    voxels = np.floor(np.asarray(points, np.float64)[:, :3] / GROW_VOXEL).astype(np.int64)
    keys = ((voxels[:, 0] + (1 << 20)) << 42) | ((voxels[:, 1] + (1 << 20)) << 21) | (voxels[:, 2] + (1 << 20))
    shifts = np.array([(dx << 42) + (dy << 21) + dz for dx in (-1, 0, 1) for dy in (-1, 0, 1) for dz in (-1, 0, 1)])
    frontier = mask
    for _ in range(GROW_STEPS):
        candidates = np.flatnonzero(allowed & ~mask)
        if not len(candidates) or not frontier.any():
            break
        near = np.unique((np.unique(keys[frontier])[:, None] + shifts[None]).reshape(-1))
        added = candidates[np.isin(keys[candidates], near)]
        frontier = np.zeros_like(mask)
        frontier[added] = True
        mask = mask | frontier
    return mask


def real_object_mask(scene: np.ndarray, region: np.ndarray, window: tuple[float, float],
                     ground_y: float | None = None) -> np.ndarray:
    """Bool mask over ``scene`` of the points taken as the real object (removed before injection): points of
    ``region`` (bool, the frustums concerned) inside the weak depth window and, with a local ground height
    ``ground_y`` (rect y), more than :data:`GROUND_CLEARANCE` above it, grown (:func:`grow`) over the region's
    points above the ground up to :data:`GROW_NEAR` before and :data:`GROW_FAR` beyond the window (the parts of the
    object that the window, centred on a biased depth estimate, cuts off); without a ground, when there are more than
    :data:`REMOVAL_MIN_FOR_QUANTILE`, those with rect y at or beyond the 90 % quantile (the lowest ~10 %, ground)
    are kept in the scene. 2D-only replacement of "points in the GT box"."""
    mask = region & in_window(scene, window)
    if ground_y is not None:
        above = region & (scene[:, 1] < ground_y - GROUND_CLEARANCE)
        reach = (scene[:, 2] > window[0] - GROW_NEAR) & (scene[:, 2] < window[1] + GROW_FAR)
        return grow(scene, mask & above, above & reach)
    idx = np.flatnonzero(mask)
    if len(idx) > REMOVAL_MIN_FOR_QUANTILE:
        ys = scene[idx, 1]
        mask[idx[ys >= np.quantile(ys, REMOVAL_QUANTILE)]] = False
    return mask


def assemble(box3d: np.ndarray, object_points: np.ndarray, object_intensity: np.ndarray | float,
             scene: np.ndarray, scene_uv: np.ndarray, in_annotated: np.ndarray, window: tuple[float, float],
             P2: np.ndarray, image_size: tuple[int, int], rng: np.random.Generator,
             jitter: bool, min_points: int = MIN_POINTS, scan: ProxyScan | None = None,
             ground_y: float | None = None) -> InjectedObject | None:
    """The frustum sample of an injected object: 2D target = clipped projection of ``box3d``; frustum box = that
    target jittered (``jitter``); points = scene points in the frustum box except the real object
    (:func:`real_object_mask` over the injected and the annotated frustum, ``in_annotated``, the real object's
    depth ``window`` and the local ``ground_y``), plus the object's points projecting into the frustum box. With the
    proxy's ``scan`` (``object_points`` are then ``scan.points``), the scene points it occludes are left out too and
    its points hidden by the remaining scene points are dropped. ``seg`` = inside ``box3d``. None when the object
    leaves fewer than ``min_points`` points in its frustum or projects degenerately."""
    target = g.project_boxes_to_image(box3d[None], P2, image_size)[0]
    if target[2] - target[0] < 1 or target[3] - target[1] < 1:
        return None
    box2d = random_shift_box2d(target, rng, image_size) if jitter else target
    obj_uv, obj_w = g.project_rect_to_image(object_points, P2)
    obj_keep = in_box2d(obj_uv, box2d) & (obj_w > 0)
    if obj_keep.sum() < min_points:
        return None
    in_frustum = in_box2d(scene_uv, box2d)
    removed = real_object_mask(scene, in_frustum | in_annotated, window, ground_y)
    if scan is not None:
        candidates = np.flatnonzero(in_frustum & ~removed)
        removed[candidates[scan.occludes(scene[candidates])]] = True
        obj_keep &= scan.visible(scene[in_frustum & ~removed])
        if obj_keep.sum() < min_points:
            return None
    background = scene[in_frustum & ~removed]
    obj = np.empty((int(obj_keep.sum()), 4), np.float32)
    obj[:, :3] = object_points[obj_keep, :3]
    obj[:, 3] = (np.asarray(object_intensity)[obj_keep] if np.ndim(object_intensity)
                 else object_intensity)
    points = np.concatenate([background, obj])
    seg = g.points_in_boxes_mask(points, box3d[None])[:, 0].astype(np.int8)
    return InjectedObject(box3d, box2d, target, points, seg, removed)
