"""Object points of one 2D box: frustum points above the ground, clustered in bird's-eye view, one cluster picked.

Clustering: the candidate points are rasterised on a BEV grid (rect x, z) of :data:`CELL` metres, the occupancy is
dilated so that cells closer than a distance-dependent gap join, and connected components are the clusters.
The chosen cluster maximises ``points * coverage * prior * extent``: ``coverage`` is the share of the 2D box's width
that the cluster's pixels span inside the box (a cluster reaching far outside a truncated box covers only its own
part of it), ``extent`` penalises a cluster longer than the class can be (a wall or a fence along a parked car),
``prior`` a log-normal likelihood of the cluster's depth around the class depth prior
``f_v H / h_box`` (:func:`kitti.priors.depth_estimate`), or, where the 2D box may be shorter than the object (hidden
from below), flat up to that depth and log-normal beyond it (``depth_bound``). A pedestrian's cluster is then
trimmed to the points a person can reach (:func:`trim_to_reach`): the gap that joins one body's returns also joins
a neighbour's arm, a bag or a pole a step away. A person's cluster must also reach the 2D box's top edge, the head
(:func:`head_factor`). Where the 2D box's bottom edge is the object's ground contact (KITTI draws a box around the
whole projected 3D box, the hidden part included), a cluster must stand where the camera ray through that edge meets
the local ground (:class:`BottomEdge`): an occluder in front reaches the ground below the edge, a wall behind above
it. Nothing here reads 3D labels.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from kitti.priors import MEAN_SIZE, SIZE_RANGE, SIZE_STD

#: BEV grid cell (metres)
CELL = 0.15
#: points lower than this above the ground are ground (metres), per class
MIN_HEIGHT_ABOVE_GROUND = {"Car": 0.25, "Pedestrian": 0.15, "Cyclist": 0.15}
#: points higher than the class height prior plus this are not the object (metres)
MAX_ABOVE_PRIOR = 0.8
#: depth range searched around the class depth prior: ``[lo * d, hi * d + 5 m]``
DEPTH_RANGE = (0.35, 1.6)
#: nearest depth (metres) searched when the depth prior is a far bound only
NEAREST_DEPTH = 0.5
#: sigma of the log-depth prior likelihood: fully visible objects (the 2D box spans the whole object, so the height
#: prior fixes the depth to about the class height spread), and occluded or truncated ones
LOG_DEPTH_SIGMA = {"visible": 0.15, "partial": 0.35}
#: clusters join across BEV gaps up to ``JOIN_SCALE * _gap(depth)`` (metres), per class: a car's returns have holes
#: wider than the beam spacing (glass returns little, dark paint drops returns), a person's do not, and a neighbour's
#: arm, a bicycle's or a pole's returns half a metre away belong to someone else
JOIN_SCALE = {"Car": 2.0, "Pedestrian": 1.0, "Cyclist": 1.0}
#: most points clustered per box (random subset above this, deterministic)
MAX_POINTS = 4000
#: longest BEV extent (metres, along the cluster's principal axis) an object of the class can have: mean length +
#: 3 std of :data:`kitti.priors.MEAN_SIZE` / :data:`kitti.priors.SIZE_STD`
MAX_EXTENT = {name: MEAN_SIZE[name][0] + 3.0 * SIZE_STD[name][0] for name in MEAN_SIZE}
#: classes whose cluster is trimmed to the points within :data:`REACH_MARGIN` metres beyond half the longest real box of
#: the class (:data:`kitti.priors.SIZE_RANGE`) of the cluster's BEV median (:func:`trim_to_reach`)
TRIMMED_CLASSES = ("Pedestrian",)
#: metres beyond half the longest real box that a trimmed cluster keeps (the median of the points is not the box centre)
REACH_MARGIN = 0.2
#: median / trim passes of :func:`trim_to_reach`
TRIM_PASSES = 3
#: classes whose cluster must reach the top edge of the 2D box: a person's box top is the head, which occlusion rarely
#: hides, while an occluder in front of the person (a pole, a hedge, a parked scooter) usually stops lower
HEAD_CLASSES = ("Pedestrian", "Cyclist")
#: scan rows of slack between a person's highest return and the 2D box's top edge before a cluster loses support: the
#: returns inside people's boxes reach within 2.1-2.8 beam spacings of the top edge for 90 % of them, on the 14 real
#: frames and on the synthetic worlds alike (per occlusion level)
HEAD_SLACK_BEAMS = 3.0
#: sigma (metres) of the local ground's height under an object's near side (kerbs, camber, the ground fit)
BOTTOM_GROUND_SIGMA = 0.12
#: sigma (pixels) of a 2D box's bottom edge about the projected 3D box's lowest corner: over every 3rd of the 7,476
#: KITTI label files (untruncated objects beyond 3 m, every occlusion level) 90 % lie within 0.3-1.0 px
BOTTOM_EDGE_SIGMA_PX = 1.5
#: share of the near side's points (by depth) whose median position is the cluster's near side
NEAR_SIDE_SHARE = 0.1
#: a cluster far off the bottom edge keeps this much weight (the ground may be uneven beyond the fit)
BOTTOM_FLOOR = 0.05


@dataclass
class Segment:
    """The chosen cluster: its points ``(K, 3)`` rect frame and selection figures."""

    points: np.ndarray
    coverage: float
    candidates: int


@dataclass(frozen=True)
class BottomEdge:
    """A 2D box's bottom edge as the object's ground contact: image row ``row`` (pixels), the camera matrix ``P2``
    (3 x 4, rect frame) and ``ground_y(x, z)``, the rect y (metres, down) of the local ground below a BEV position."""

    row: float
    P2: np.ndarray
    ground_y: Callable[[float, float], float]

    def factor(self, near_xz: np.ndarray) -> float:
        """Gaussian likelihood that an object whose near side stands at BEV ``near_xz`` (rect x, z, metres) has its
        lowest projected corner on :attr:`row`: the ray through the row passes ``miss`` metres above or below the
        local ground at that depth; sigma :data:`BOTTOM_GROUND_SIGMA` and :data:`BOTTOM_EDGE_SIGMA_PX` at depth."""
        x, z = float(near_xz[0]), float(near_xz[1])
        P = self.P2
        depth = z + P[2, 3]
        y_ray = (self.row * depth - P[1, 2] * z - P[1, 3]) / P[1, 1]
        sigma = np.hypot(BOTTOM_GROUND_SIGMA, BOTTOM_EDGE_SIGMA_PX * depth / P[1, 1])
        miss = y_ray - self.ground_y(x, z)
        return float(np.exp(-0.5 * (miss / sigma) ** 2))


def near_side(xz: np.ndarray) -> np.ndarray:
    """BEV position ``(2,)`` (rect x, z, metres) of a cluster's side nearest the camera: the median of its
    :data:`NEAR_SIDE_SHARE` nearest points by depth (the lowest corner of a box on the ground projects lowest)."""
    count = max(1, int(np.ceil(NEAR_SIDE_SHARE * len(xz))))
    nearest = np.argsort(xz[:, 1], kind="stable")[:count]
    return np.median(xz[nearest], axis=0)


def frustum_mask(uv: np.ndarray, box2d: np.ndarray) -> np.ndarray:
    """Bool ``(N,)``: projected points ``uv (N, 2)`` inside the 2D box ``(x1, y1, x2, y2)`` (pixels)."""
    return (uv[:, 0] >= box2d[0]) & (uv[:, 0] <= box2d[2]) & (uv[:, 1] >= box2d[1]) & (uv[:, 1] <= box2d[3])


def _gap(depth: float) -> float:
    """Largest BEV gap (metres) inside one object at ``depth`` metres (LiDAR beams spread with distance)."""
    return max(0.3, 0.012 * depth)


def _components(xz: np.ndarray, join: float) -> np.ndarray:
    """Connected-component label ``(N,)`` of BEV points ``(N, 2)`` on the :data:`CELL` grid: each occupied cell is
    dilated by half of ``join`` (metres), so that cells up to about ``join`` apart fall in one component."""
    lo = xz.min(axis=0)
    idx = np.floor((xz - lo) / CELL).astype(np.int64)
    pad = int(np.ceil(join / 2 / CELL))
    shape = idx.max(axis=0) + 1 + 2 * pad
    grid = np.zeros((int(shape[1]), int(shape[0])), np.uint8)
    grid[idx[:, 1] + pad, idx[:, 0] + pad] = 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pad + 1, 2 * pad + 1))
    _, labels = cv2.connectedComponents(cv2.dilate(grid, kernel), connectivity=8)
    return labels[idx[:, 1] + pad, idx[:, 0] + pad]


def box_coverage(u: np.ndarray, box2d: np.ndarray) -> float:
    """Share of the 2D box's width (pixels) that the pixel columns ``u (K,)`` of a cluster span inside the box."""
    width = max(float(box2d[2] - box2d[0]), 1.0)
    inside = min(float(u.max()), float(box2d[2])) - max(float(u.min()), float(box2d[0]))
    return float(np.clip(inside / width, 0.0, 1.0))


def extent_factor(xz: np.ndarray, class_name: str) -> float:
    """``exp(-excess / MAX_EXTENT)`` of BEV points ``(K, 2)``: ``excess`` (metres) is how far the points' extent
    along their principal axis exceeds :data:`MAX_EXTENT` of the class; 1 for a cluster an object can fill."""
    centred = xz - xz.mean(axis=0)
    if len(xz) < 3:
        return 1.0
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    extent = float(np.ptp(centred @ vt[0]))
    limit = MAX_EXTENT[class_name]
    return float(np.exp(-max(0.0, extent - limit) / limit))


def trim_to_reach(xz: np.ndarray, class_name: str, min_points: int) -> np.ndarray:
    """Bool mask ``(K,)`` of BEV points ``(K, 2)`` (rect x, z, metres) within ``SIZE_RANGE[class][l][1] / 2 +
    REACH_MARGIN`` of their median, the median recomputed on the kept points (:data:`TRIM_PASSES` times); all True
    when fewer than ``min_points`` would remain."""
    radius = SIZE_RANGE[class_name][0][1] / 2 + REACH_MARGIN
    keep = np.ones(len(xz), bool)
    for _ in range(TRIM_PASSES):
        inside = np.linalg.norm(xz - np.median(xz[keep], axis=0), axis=1) <= radius
        if int(inside.sum()) < min_points:
            return np.ones(len(xz), bool)
        keep = inside
    return keep


def head_factor(top_row: float, box_top: float, beam_rows: float) -> float:
    """``exp(-excess)`` where ``excess`` is how many scan rows (``beam_rows`` pixels each: the sensor's vertical beam
    spacing in the image) beyond :data:`HEAD_SLACK_BEAMS` a person's highest return (image row ``top_row``) lies
    below the 2D box's top edge ``box_top`` (pixels); 1 for a cluster that reaches the head."""
    return float(np.exp(-max(0.0, (top_row - box_top) / beam_rows - HEAD_SLACK_BEAMS)))


def segment_object(points: np.ndarray, uv: np.ndarray, heights: np.ndarray, box2d: np.ndarray, class_name: str,
                   prior_depth: float, prior_height: float, min_points: int = 3,
                   fully_visible: bool = False, depth_bound: bool = False,
                   beam_rows: float | None = None, bottom: BottomEdge | None = None) -> Segment | None:
    """Pick the object's cluster among frustum points.

    ``points (N, 3+)`` rect frame, ``uv (N, 2)`` their pixels, ``heights (N,)`` above the ground plane (metres),
    all already restricted to the 2D box; ``prior_depth`` metres (rect z); ``fully_visible`` (2D label not occluded,
    not truncated) tightens the depth prior; ``depth_bound`` makes it a far bound only (every depth from 0.5 m up to
    ``prior_depth`` is searched and equally likely). ``beam_rows`` (pixels), the scan's vertical beam spacing in the
    image, makes a person's cluster reach the box's top edge (:func:`head_factor`; None: not used). ``bottom`` (None:
    not used) weighs each cluster by how well its near side stands on the box's bottom edge (:class:`BottomEdge`).
    Returns None when no cluster has ``min_points`` points.
    """
    z = points[:, 2]
    near = NEAREST_DEPTH if depth_bound else DEPTH_RANGE[0] * prior_depth
    keep = ((heights > MIN_HEIGHT_ABOVE_GROUND[class_name]) & (heights < prior_height + MAX_ABOVE_PRIOR)
            & (z > near) & (z < DEPTH_RANGE[1] * prior_depth + 5.0))
    idx = np.flatnonzero(keep)
    if len(idx) < min_points:
        return None
    if len(idx) > MAX_POINTS:
        idx = np.sort(np.random.default_rng(len(idx)).choice(idx, MAX_POINTS, replace=False))
    pts, pix = points[idx, :3], uv[idx]
    labels = _components(pts[:, [0, 2]], JOIN_SCALE[class_name] * _gap(prior_depth))
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    sigma = LOG_DEPTH_SIGMA["visible" if fully_visible else "partial"]
    best, best_score, best_cov, n_cand = None, 0.0, 0.0, 0
    for members in np.split(order, bounds):
        if len(members) < min_points:
            continue
        n_cand += 1
        coverage = box_coverage(pix[members, 0], box2d)
        depth = float(pts[members, 2].mean())
        log_ratio = np.log(max(depth, 0.1) / prior_depth)
        if depth_bound:
            log_ratio = max(log_ratio, 0.0)
        prior = float(np.exp(-0.5 * (log_ratio / sigma) ** 2))
        score = (np.sqrt(len(members)) * (0.1 + coverage) * (0.05 + prior)
                 * extent_factor(pts[members][:, [0, 2]], class_name))
        if beam_rows is not None and class_name in HEAD_CLASSES:
            score *= head_factor(float(pix[members, 1].min()), float(box2d[1]), beam_rows)
        if bottom is not None:
            score *= BOTTOM_FLOOR + bottom.factor(near_side(pts[members][:, [0, 2]]))
        if score > best_score:
            best, best_score, best_cov = members, score, coverage
    if best is None:
        return None
    if class_name in TRIMMED_CLASSES:
        best = best[trim_to_reach(pts[best][:, [0, 2]], class_name, min_points)]
    return Segment(pts[best], best_cov, n_cand)
